import { test, expect, type Page } from "./fixtures";
import { addReadyDataSource, createDataSource, open, signInAsAdmin, toast, uniqueName, reload } from "./helpers";

// Authorizing goes through the simulator's popup, and every list loads through Procore.
test.describe.configure({ timeout: 120_000 });

const sandboxProject = "1234 - Sandbox Test Project";
const sandboxProjectId = "2783001";
const scaleProject = "SCALE - Scale Test Project";
const seededRfi = "Clarify the door hardware schedule";

/** A ready data source on the sandbox company, then the explorer showing nothing yet. */
async function openExplorer(page: Page) {
  await signInAsAdmin(page);
  const source = uniqueName("Explorer sandbox");
  const { id } = await addReadyDataSource(page, source);
  await open(page, "/explorer");
  return { source, id };
}

/** Chooses a data source, an object (by key) and, for project-scoped objects, a project. */
async function choose(page: Page, source: string, object: string, project?: string) {
  await page.getByLabel("Data source", { exact: true }).selectOption({ label: source });
  await page.getByLabel("Object", { exact: true }).selectOption(object);
  if (project) await page.getByLabel("Project", { exact: true }).selectOption({ label: project });
}

function paging(page: Page) {
  return page.getByTestId("paging");
}

function rows(page: Page, table: string) {
  return page.getByRole("table", { name: table }).getByTestId("record-row");
}

/** The number of records the paging line reports. */
async function totalOf(page: Page) {
  const text = (await paging(page).textContent()) ?? "";
  const match = text.match(/· (\d+) records?$/);
  expect(match, `paging says "${text}"`).not.toBeNull();
  return Number(match![1]);
}

test("a data source that is not ready cannot be chosen, and one reached by its address says why", async ({ page }) => {
  await signInAsAdmin(page);
  const name = uniqueName("Unauthorized explorer source");
  const id = await createDataSource(page, name, "4264807");
  await open(page, "/explorer");
  const option = page.getByLabel("Data source", { exact: true }).getByRole("option", { name: `${name} (not ready)` });
  await expect(option).toBeDisabled();

  await open(page, `/explorer?source=${id}&object=projects`);
  const alert = page.getByRole("alert");
  await expect(alert).toContainText(`The data source “${name}”`);
  await expect(alert).toContainText("administrators need to authorize it");
  await expect(page.getByTestId("record-row")).toHaveCount(0);
});

test("the explorer lists RFIs and sorts, pages, filters and searches them, keeping its place in the address", async ({ page }) => {
  const { source, id } = await openExplorer(page);
  await expect(page.getByRole("heading", { name: "Choose a data source" })).toBeVisible();

  // Only ready data sources can be chosen; the sandbox project's RFIs are listed.
  await choose(page, source, "rfis");
  await expect(page.getByRole("heading", { name: "Choose a project" })).toBeVisible();
  await page.getByLabel("Project", { exact: true }).selectOption({ label: sandboxProject });
  await expect(page).toHaveURL(new RegExp(`/explorer\\?source=${id}&object=rfis&project=${sandboxProjectId}$`));
  const table = page.getByRole("table", { name: "RFIs" });
  await expect(table.getByRole("link", { name: seededRfi })).toBeVisible();
  await expect(table.getByRole("columnheader").first()).toHaveText(/^Subject/);

  // 120 RFIs: five pages of 25.
  await page.getByLabel("Project", { exact: true }).selectOption({ label: scaleProject });
  await expect(paging(page)).toHaveText("Page 1 of 5 · 120 records");
  await expect(rows(page, "RFIs")).toHaveCount(25);

  // Sorting by subject, then the other way round.
  const subjectHeader = table.getByRole("columnheader", { name: "Subject" });
  const firstSubject = rows(page, "RFIs").first().getByRole("link");
  await expect(subjectHeader).toHaveAttribute("aria-sort", "none");
  await subjectHeader.getByRole("button").click();
  await expect(subjectHeader).toHaveAttribute("aria-sort", "ascending");
  await expect(firstSubject).toHaveText(/^Anchor bolts question/);
  await subjectHeader.getByRole("button").click();
  await expect(subjectHeader).toHaveAttribute("aria-sort", "descending");
  await expect(firstSubject).toHaveText(/^Slab edge question/);
  await expect(page).toHaveURL(/sort=subject&dir=desc/);
  const firstOnPageOne = (await firstSubject.textContent())!;

  // The next page, kept across a reload; back returns to the first.
  await page.getByRole("button", { name: "Next" }).click();
  await expect(paging(page)).toHaveText("Page 2 of 5 · 120 records");
  await expect(page).toHaveURL(/page=2/);
  await expect(firstSubject).not.toHaveText(firstOnPageOne);
  const firstOnPageTwo = (await firstSubject.textContent())!;
  expect(firstOnPageTwo.localeCompare(firstOnPageOne)).toBeLessThan(0);
  await reload(page);
  await expect(paging(page)).toHaveText("Page 2 of 5 · 120 records");
  await expect(firstSubject).toHaveText(firstOnPageTwo);
  await expect(subjectHeader).toHaveAttribute("aria-sort", "descending");
  await expect(page.getByLabel("Project", { exact: true })).toHaveValue("2783900");
  await page.goBack();
  await expect(paging(page)).toHaveText("Page 1 of 5 · 120 records");
  await expect(firstSubject).toHaveText(firstOnPageOne);
  await expect(page.getByRole("button", { name: "Previous" })).toBeDisabled();

  // A filter narrows the list: only closed RFIs.
  await page.getByLabel("Filter by", { exact: true }).selectOption({ label: "Status" });
  await page.getByLabel("Operator", { exact: true }).selectOption({ label: "equals" });
  await page.getByLabel("Value", { exact: true }).selectOption("closed");
  await page.getByRole("button", { name: "Apply", exact: true }).click();
  await expect(page).toHaveURL(/filter_field=status&filter_op=eq&filter_value=closed/);
  await expect(paging(page)).not.toHaveText(/· 120 records$/);
  const closed = await totalOf(page);
  expect(closed).toBeGreaterThan(0);
  expect(closed).toBeLessThan(120);
  const statusColumn = (await table.getByRole("columnheader").allTextContents()).findIndex((t) => t.startsWith("Status"));
  expect(statusColumn).toBeGreaterThan(0);
  const statuses = await rows(page, "RFIs").locator(`td:nth-child(${statusColumn + 1})`).allTextContents();
  expect(statuses.length).toBe(Math.min(closed, 25));
  expect(new Set(statuses)).toEqual(new Set(["closed"]));

  // Search as you type narrows it further; clearing the filter widens it again.
  await page.getByLabel("Search RFIs").fill("Rebar lap");
  await expect(page).toHaveURL(/q=Rebar%20lap/);
  await expect(paging(page)).not.toHaveText(new RegExp(`· ${closed} records?$`));
  for (const subject of await rows(page, "RFIs").getByRole("link").allTextContents()) expect(subject).toContain("Rebar lap");
  const closedRebar = await totalOf(page);
  await page.getByRole("button", { name: "Clear", exact: true }).click();
  await expect(page).not.toHaveURL(/filter_field/);
  await expect(paging(page)).not.toHaveText(new RegExp(`· ${closedRebar} records?$`));
  expect(await totalOf(page)).toBeGreaterThan(closedRebar);
  await expect(page.getByLabel("Search RFIs")).toHaveValue("Rebar lap");
});

test("an RFI is created and edited through generated forms, with local and Procore messages on their fields", async ({ page }) => {
  const { source } = await openExplorer(page);
  await choose(page, source, "rfis", sandboxProject);
  const table = page.getByRole("table", { name: "RFIs" });
  await expect(table.getByRole("link", { name: seededRfi })).toBeVisible();

  // Required fields are checked before anything is sent.
  await page.getByRole("button", { name: "+ New RFI" }).click();
  const create = page.getByRole("dialog", { name: "New RFI" });
  await create.getByRole("button", { name: "Create", exact: true }).click();
  await expect(create.getByTestId("field-subject").getByRole("alert")).toHaveText("Subject can't be blank");
  await expect(create.getByTestId("field-question.body").getByRole("alert")).toHaveText("Question can't be blank");
  await expect(create.getByTestId("field-rfi_manager_id").getByRole("alert")).toHaveText("RFI manager can't be blank");
  await expect(create.getByLabel("Subject", { exact: true })).toHaveAttribute("aria-invalid", "true");
  // The first field to fix is focused (a long form may have it far above the buttons).
  await expect(create.getByLabel("Subject", { exact: true })).toBeFocused();
  // Read-only fields are not in the form.
  await expect(create.getByLabel("Status", { exact: true })).toHaveCount(0);

  const subject = uniqueName("Door closer at 101");
  await create.getByLabel("Subject", { exact: true }).fill(subject);
  await create.getByLabel("Question", { exact: true }).fill("Which closer goes on door 101?");
  await create.getByLabel("RFI manager", { exact: true }).fill("4201001");
  await create.getByRole("button", { name: "Create", exact: true }).click();
  await expect(toast(page, "RFI created")).toBeVisible();
  await expect(create).toHaveCount(0);

  // The new RFI is in the list.
  await page.getByLabel("Search RFIs").fill(subject);
  await expect(rows(page, "RFIs")).toHaveCount(1);
  await table.getByRole("link", { name: subject }).click();
  await expect(page).toHaveURL(/record=\d+/);
  let drawer = page.getByRole("dialog", { name: subject });
  await expect(drawer).toContainText("Test Architect");
  await expect(drawer).toContainText("Which closer goes on door 101?");
  // Procore has no RFI delete: no button for it.
  await expect(drawer.getByRole("button", { name: "Edit" })).toBeVisible();
  await expect(drawer.getByRole("button", { name: "Delete" })).toHaveCount(0);

  // An RFI manager who is not one in Procore: Procore's 422 lands on that field, and what
  // was typed stays.
  await drawer.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: "Edit RFI" });
  await expect(edit.getByLabel("Subject", { exact: true })).toHaveValue(subject);
  await expect(edit.getByLabel("RFI manager", { exact: true })).toHaveValue("4201001");
  const revised = `${subject} (revised)`;
  await edit.getByLabel("Subject", { exact: true }).fill(revised);
  await edit.getByLabel("RFI manager", { exact: true }).fill("4209999");
  await edit.getByRole("button", { name: "Save", exact: true }).click();
  await expect(edit.getByTestId("field-rfi_manager_id").getByRole("alert")).toHaveText(
    "RFI manager is not a potential RFI manager",
  );
  await expect(edit.getByLabel("RFI manager", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(edit.getByLabel("RFI manager", { exact: true })).toBeFocused();
  await expect(edit.getByLabel("RFI manager", { exact: true })).toHaveAccessibleDescription(/is not a potential RFI manager/);
  await expect(edit.getByTestId("field-subject").getByRole("alert")).toHaveCount(0);
  await expect(edit.getByLabel("Subject", { exact: true })).toHaveValue(revised);
  await expect(edit.getByLabel("RFI manager", { exact: true })).toHaveValue("4209999");

  // Fixed, it saves; the record and the list show the change.
  await edit.getByLabel("RFI manager", { exact: true }).fill("4201002");
  await edit.getByRole("button", { name: "Save", exact: true }).click();
  await expect(toast(page, "RFI saved")).toBeVisible();
  await expect(edit).toHaveCount(0);
  drawer = page.getByRole("dialog", { name: revised });
  await expect(drawer).toContainText("Test Subcontractor");
  await drawer.getByRole("button", { name: "Close" }).click();
  await expect(page).not.toHaveURL(/record=/);
  await page.getByLabel("Search RFIs").fill(revised);
  await expect(table.getByRole("link", { name: revised })).toBeVisible();
});

test("a punch item is deleted after a confirmation, and projects, which Procore does not delete, offer no Delete", async ({ page }) => {
  const { source } = await openExplorer(page);
  await choose(page, source, "punch_items", sandboxProject);
  const table = page.getByRole("table", { name: "Punch items" });
  await expect(paging(page)).toBeVisible();

  const name = uniqueName("Cracked tile in lobby");
  await page.getByRole("button", { name: "+ New Punch item" }).click();
  const create = page.getByRole("dialog", { name: "New Punch item" });
  await create.getByLabel("Name", { exact: true }).fill(name);
  await create.getByLabel("Priority", { exact: true }).selectOption("high");
  await create.getByRole("button", { name: "Create", exact: true }).click();
  await expect(toast(page, "Punch item created")).toBeVisible();

  await page.getByLabel("Search Punch items").fill(name);
  await expect(rows(page, "Punch items")).toHaveCount(1);
  await table.getByRole("link", { name }).click();
  const drawer = page.getByRole("dialog", { name });
  await expect(drawer).toContainText("high");

  // Cancel keeps it; confirming deletes it.
  await drawer.getByRole("button", { name: "Delete" }).click();
  let confirm = page.getByRole("dialog", { name: `Delete ${name}?` });
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toHaveCount(0);
  await expect(drawer).toBeVisible();
  await drawer.getByRole("button", { name: "Delete" }).click();
  confirm = page.getByRole("dialog", { name: `Delete ${name}?` });
  await confirm.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(toast(page, `Deleted ${name}`)).toBeVisible();
  await expect(drawer).toHaveCount(0);
  await expect(rows(page, "Punch items")).toHaveCount(0);
  await expect(page.getByText("No records match.")).toBeVisible();
  await expect(paging(page)).toHaveText("Page 1 of 1 · 0 records");

  // Projects: Procore edits but never deletes them.
  await page.getByLabel("Object", { exact: true }).selectOption("projects");
  const projects = page.getByRole("table", { name: "Projects" });
  await projects.getByRole("link", { name: sandboxProject }).click();
  const project = page.getByRole("dialog", { name: sandboxProject });
  await expect(project).toContainText("Carpinteria");
  await expect(project.getByRole("button", { name: "Edit" })).toBeVisible();
  await expect(project.getByRole("button", { name: "Delete" })).toHaveCount(0);
});
