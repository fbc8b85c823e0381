import { test, expect, type Locator, type Page } from "./fixtures";
import {
  addReadyDataSource,
  addUser,
  admin,
  callServerFn,
  createDataSource,
  open,
  signInAsAdmin,
  signInFirstTime,
  toast,
  simURL,
  uniqueEmail,
  uniqueName,
} from "./helpers";

// Authorizing goes through the simulator's popup, and lists load through Procore.
test.describe.configure({ timeout: 90_000 });

const sandboxProject = "1234 - Sandbox Test Project";
const harborProject = "A-2 - Harbor Point Tower";
const sandboxProjectId = "2783001";
const scaleProjectId = "2783900";

/** Option texts of a select, without its "Choose…" placeholder. */
async function optionTexts(select: Locator) {
  return (await select.locator("option").allTextContents()).filter((t) => t !== "Choose…");
}

/** Adds a list field bound to a data source through the Add field dialog (left open). */
async function startListField(page: Page, label: string, dataSource: string, object: string) {
  await page.getByLabel("New field type").selectOption("List");
  await page.getByRole("button", { name: "+ Add field" }).click();
  const dialog = page.getByRole("dialog", { name: "Add field" });
  await dialog.getByLabel("Label", { exact: true }).fill(label);
  await dialog.getByRole("radio", { name: "Data source" }).check();
  await dialog.getByRole("combobox", { name: "Data source", exact: true }).selectOption({ label: dataSource });
  await dialog.getByLabel("Procore object", { exact: true }).selectOption(object);
  return dialog;
}

function previewOf(dialog: Locator) {
  return dialog.getByRole("region", { name: "Preview" });
}

function fieldRows(page: Page) {
  return page.getByRole("list", { name: "Fields" }).getByTestId("field-row").locator(".field-row-label");
}

test("a designer builds a Project → RFI form with a live preview, and the filled-in form cascades and submits", async ({ page }) => {
  await signInAsAdmin(page);
  const source = uniqueName("Forms sandbox");
  await addReadyDataSource(page, source);

  await open(page, "/forms");
  await page.getByRole("link", { name: "+ New form" }).click();
  await expect(page).toHaveURL(/\/forms\/new\/design$/);
  await expect(page.locator("body[data-hydrated=true]")).toBeAttached();
  const formName = uniqueName("RFI request");
  await page.getByLabel("Form name").fill(formName);

  // Project: Display display_name, Value id, Sort by name descending.
  let dialog = await startListField(page, "Project", source, "projects");
  await dialog.getByLabel("Display field", { exact: true }).selectOption("display_name");
  await dialog.getByLabel("Value field", { exact: true }).selectOption("id");
  await dialog.getByLabel("Sort by", { exact: true }).selectOption("name");
  await dialog.getByLabel("Direction", { exact: true }).selectOption("desc");
  // The choices are the catalogue's parameters, with labels and types, not free text.
  await expect(dialog.getByLabel("Display field", { exact: true }).locator("option[value=display_name]")).toHaveText(/\(.+\)$/);

  // The preview is the dropdown a person will see, options in its order: by name, descending.
  const preview = previewOf(dialog).getByRole("combobox", { name: "Project" });
  const nameOf = (text: string) => text.trim().replace(/^\S+ - /, "");
  await expect
    .poll(async () => {
      const names = (await optionTexts(preview)).map(nameOf);
      const descending = [...names].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
      return names.length >= 4 && JSON.stringify(names) === JSON.stringify(descending);
    })
    .toBe(true);
  expect((await optionTexts(preview))[0]).toBe("Warehouse Retrofit");
  expect(await optionTexts(preview)).toContain(sandboxProject);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toHaveCount(0);

  // RFI: project-scoped, its project taken from the Project field.
  dialog = await startListField(page, "RFI", source, "rfis");
  await dialog.getByLabel("Project from", { exact: true }).selectOption("field");
  await dialog.getByLabel("Project field", { exact: true }).selectOption({ label: "Project" });
  await dialog.getByLabel("Display field", { exact: true }).selectOption("subject");
  await dialog.getByLabel("Value field", { exact: true }).selectOption("id");
  // A sample project stands in for the Project field in the preview.
  await dialog.getByLabel("Sample value for Project").fill(sandboxProjectId);
  // Other specs add RFIs to the sandbox project: its seeded one is what must be there.
  await expect.poll(() => optionTexts(previewOf(dialog).getByRole("combobox"))).toContain("Clarify the door hardware schedule");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toHaveCount(0);

  // A text field, reordered by keyboard and by dragging.
  await page.getByLabel("New field type").selectOption("Text");
  await page.getByRole("button", { name: "+ Add field" }).click();
  dialog = page.getByRole("dialog", { name: "Add field" });
  await dialog.getByLabel("Label", { exact: true }).fill("Notes");
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(fieldRows(page)).toHaveText(["Project", "RFI", "Notes"]);
  await page.getByRole("button", { name: "Move Notes up" }).click();
  await expect(fieldRows(page)).toHaveText(["Project", "Notes", "RFI"]);
  await page.getByRole("button", { name: "Move Notes up" }).click();
  await expect(fieldRows(page)).toHaveText(["Notes", "Project", "RFI"]);
  const rows = page.getByTestId("field-row");
  await rows.nth(0).dragTo(rows.nth(2));
  await expect(fieldRows(page)).toHaveText(["Project", "RFI", "Notes"]);

  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(toast(page, "Form saved")).toBeVisible();
  await expect(page).toHaveURL(/\/forms\/[^/]+\/design$/);
  const formId = page.url().split("/").at(-2)!;
  expect(formId).not.toBe("new");

  // Editing keeps the binding; the list of forms shows the form.
  await page.getByRole("button", { name: "Edit RFI" }).click();
  dialog = page.getByRole("dialog", { name: "Edit field" });
  await expect(dialog.getByLabel("Project from", { exact: true })).toHaveValue("field");
  await expect(dialog.getByLabel("Display field", { exact: true })).toHaveValue("subject");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await open(page, "/forms");
  const row = page.getByTestId("form-row").filter({ hasText: formName });
  await expect(row).toContainText("3 fields");

  // Filling in: the Project list loads through the server, the RFI list follows it.
  await row.getByRole("link", { name: `Fill in ${formName}` }).click();
  await expect(page).toHaveURL(new RegExp(`/forms/${formId}/fill$`));
  await expect(page.getByRole("heading", { name: formName })).toBeVisible();
  const project = page.getByLabel("Project", { exact: true });
  const rfi = page.getByLabel("RFI", { exact: true });
  await expect(page.getByTestId(/^list-/).last()).toContainText("Choose Project first.");
  await project.selectOption({ label: sandboxProject });
  await expect.poll(() => optionTexts(rfi)).toContain("Clarify the door hardware schedule");
  await rfi.selectOption({ label: "Clarify the door hardware schedule" });

  // Another project clears the RFI and loads that project's RFIs.
  await project.selectOption({ label: harborProject });
  await expect(rfi).toHaveValue("");
  await expect
    .poll(async () => (await optionTexts(rfi)).sort())
    .toEqual(["Curtain wall anchor spacing", "Level 3 slab penetration", "Lobby stone finish"]);

  // Search as you type narrows the RFIs on the server.
  await page.getByLabel("Search RFI", { exact: true }).fill("Lobby");
  await expect.poll(() => optionTexts(rfi)).toEqual(["Lobby stone finish"]);
  await rfi.selectOption({ label: "Lobby stone finish" });
  await page.getByLabel("Notes", { exact: true }).fill("Please answer by Friday");
  await page.getByRole("button", { name: "Submit", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Form submitted" })).toBeVisible();

  // Deleting asks first.
  await open(page, "/forms");
  await row.getByRole("button", { name: `Delete ${formName}` }).click();
  await page.getByRole("dialog", { name: `Delete ${formName}?` }).getByRole("button", { name: "Delete", exact: true }).click();
  await expect(toast(page, `Deleted ${formName}`)).toBeVisible();
  await expect(row).toHaveCount(0);
});

test("someone who is not a connection user of the data source sees why instead of options", async ({ page, browser }) => {
  await signInAsAdmin(page);
  const source = uniqueName("Guarded forms source");
  const { drawer } = await addReadyDataSource(page, source);
  const sourceId = new URL(page.url()).searchParams.get("open")!;

  // Security: only the administrator may read Procore data through it.
  await drawer.getByRole("button", { name: "Security" }).click();
  const security = page.getByRole("dialog", { name: "Security" });
  await security
    .getByRole("group", { name: "Connection users" })
    .getByRole("checkbox", { name: `${admin.name} (user)` })
    .check();
  await security.getByRole("button", { name: "OK" }).click();
  await expect(toast(page, "Security saved")).toBeVisible();

  const formName = uniqueName("Project pick");
  const saved = await callServerFn(page, "save_form", {
    id: null,
    draft: {
      name: formName,
      fields: [
        {
          id: "f1",
          label: "Project",
          kind: "list",
          required: true,
          format: "dropdown",
          list: {
            kind: "data_source",
            binding: {
              data_source: sourceId,
              object: "projects",
              display_field: "display_name",
              value_field: "id",
              sort_by: "name",
              direction: "asc",
              project: null,
              conditions: [],
            },
          },
        },
      ],
    },
  });
  expect(saved.status()).toBe(200);
  const formId = ((await saved.json()) as { id: string }).id;

  // The administrator gets the options…
  await open(page, `/forms/${formId}/fill`);
  await expect.poll(() => optionTexts(page.getByRole("combobox", { name: "Project", exact: true }))).toContain(sandboxProject);

  // …a plain user gets a clear message in their place.
  const email = uniqueEmail("uma");
  const oneTime = await addUser(page, "Uma User", email, ["User"]);
  const context = await browser.newContext();
  const uma = await context.newPage();
  await signInFirstTime(uma, email, oneTime, "uma's own password");
  await open(uma, `/forms/${formId}/fill`);
  await expect(uma.getByRole("heading", { name: formName })).toBeVisible();
  const list = uma.getByTestId("list-f1");
  await expect(list.getByRole("alert")).toContainText(/may not read Procore data/i);
  await expect(list.getByRole("alert")).toContainText(source);
  expect(await optionTexts(uma.getByRole("combobox", { name: "Project", exact: true }))).toEqual([]);
  // Nor may they design forms.
  await open(uma, `/forms/${formId}/design`);
  await expect(uma.getByRole("heading", { name: "You don't have access to this page" })).toBeVisible();
  await context.close();
});

test("the preview says why it has no options: a data source not authorized, or Procore down", async ({ page, request }) => {
  await signInAsAdmin(page);
  const unauthorized = uniqueName("Unauthorized forms source");
  await createDataSource(page, unauthorized, "4264807");
  const ready = uniqueName("Outage forms source");
  await addReadyDataSource(page, ready);
  await open(page, "/forms/new/design");
  await expect(page.locator("body[data-hydrated=true]")).toBeAttached();

  const dialog = await startListField(page, "Project", `${unauthorized} (not ready)`, "projects");
  await expect(dialog.getByText("This data source is not ready: authorize and test it first.")).toBeVisible();
  await dialog.getByLabel("Display field", { exact: true }).selectOption("display_name");
  await dialog.getByLabel("Value field", { exact: true }).selectOption("id");
  const problem = previewOf(dialog).getByRole("alert");
  await expect(problem).toContainText(`The data source “${unauthorized}” is not authorized with Procore`);

  // Every Procore call fails: after the client's retries the preview says so, not a crash.
  try {
    expect((await request.put(`${simURL}/_sim/faults`, { data: { error_rate: 1.0 } })).ok()).toBe(true);
    await dialog.getByRole("combobox", { name: "Data source", exact: true }).selectOption({ label: ready });
    await expect(problem).toHaveText("Procore is unavailable; try again later.", { timeout: 20_000 });
  } finally {
    await request.put(`${simURL}/_sim/faults`, { data: {} });
  }
  // Procore is back: the same binding lists the projects.
  await dialog.getByLabel("Sort by", { exact: true }).selectOption("name");
  await expect.poll(() => optionTexts(previewOf(dialog).getByRole("combobox", { name: "Project" }))).toContain(sandboxProject);
  await expect(problem).toHaveCount(0);
});

test("radio and manual lists, a does-not-equal condition, and paging with Load more", async ({ page }) => {
  await signInAsAdmin(page);
  const source = uniqueName("Paged forms source");
  await addReadyDataSource(page, source);
  await open(page, "/forms/new/design");
  await expect(page.locator("body[data-hydrated=true]")).toBeAttached();
  const formName = uniqueName("Paged RFIs");
  await page.getByLabel("Form name").fill(formName);

  // A manual radio list: the preview follows the options as they are typed.
  await page.getByLabel("New field type").selectOption("List");
  await page.getByRole("button", { name: "+ Add field" }).click();
  let dialog = page.getByRole("dialog", { name: "Add field" });
  await dialog.getByLabel("Label", { exact: true }).fill("Priority");
  await dialog.getByRole("radio", { name: "Entered manually" }).check();
  await dialog.getByLabel("Options", { exact: true }).fill("high | High\nlow | Low");
  await dialog.getByLabel("Display format", { exact: true }).selectOption("radio");
  const radios = previewOf(dialog).getByRole("radio");
  await expect(radios).toHaveCount(2);
  await dialog.getByLabel("Options", { exact: true }).fill("high | High\nlow | Low\nKeep as is");
  await expect(previewOf(dialog).locator("label")).toHaveText(["High", "Low", "Keep as is"]);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toHaveCount(0);

  // RFIs of the Scale Test Project (120 of them): more than one page.
  dialog = await startListField(page, "RFI", source, "rfis");
  await dialog.getByLabel("Project value", { exact: true }).fill(scaleProjectId);
  await dialog.getByLabel("Display field", { exact: true }).selectOption("subject");
  await dialog.getByLabel("Value field", { exact: true }).selectOption("id");
  await dialog.getByLabel("Sort by", { exact: true }).selectOption("subject");
  const count = previewOf(dialog).getByTestId("preview-count");
  await expect(count).toHaveText("The first 50 of 120; people filling the form can load more or search.");

  // Not drafts: Procore filters only by equality, so Trestle does this one itself.
  await dialog.getByRole("button", { name: "+ Add condition" }).click();
  await dialog.getByLabel("Condition 1 Procore field").selectOption("status");
  await dialog.getByLabel("Condition 1 operator").selectOption({ label: "does not equal" });
  await dialog.getByLabel("Condition 1 value", { exact: true }).fill("draft");
  await expect(count).toHaveText(/^The first 50 of \d+;/);
  const total = Number((await count.textContent())!.match(/of (\d+)/)![1]);
  expect(total).toBeGreaterThan(50);
  expect(total).toBeLessThan(120);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toHaveCount(0);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(toast(page, "Form saved")).toBeVisible();

  // Filling in: the condition survived the save, and Load more brings the rest in order.
  const formId = page.url().split("/").at(-2)!;
  await open(page, `/forms/${formId}/fill`);
  await page.getByRole("radio", { name: "Low" }).check();
  const rfi = page.getByLabel("RFI", { exact: true });
  const list = page.getByTestId(/^list-/);
  await expect(list).toContainText(`Showing 50 of ${total}.`);
  await expect.poll(async () => (await optionTexts(rfi)).length).toBe(50);
  await list.getByRole("button", { name: "Load more" }).click();
  await expect.poll(async () => (await optionTexts(rfi)).length).toBe(total);
  await expect(list.getByRole("button", { name: "Load more" })).toHaveCount(0);
  const subjects = await optionTexts(rfi);
  const byText = (a: string, b: string) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0);
  expect(subjects).toEqual([...subjects].sort(byText));
  expect(new Set(subjects).size).toBe(total);

  // An option from the second page is as good as any.
  await rfi.selectOption({ label: subjects[total - 1] });
  await page.getByRole("button", { name: "Submit", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Form submitted" })).toBeVisible();
});
