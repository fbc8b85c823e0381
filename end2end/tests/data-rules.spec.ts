import { test, expect, type Page } from "./fixtures";
import { addReadyDataSource, callServerFn, open, signInAsAdmin, toast, uniqueName, simURL, reload } from "./helpers";

// Authorizing goes through the simulator's popup, and rules write through Procore.
test.describe.configure({ timeout: 90_000 });

const sandboxProjectId = "2783001";
// Test Architect: a sandbox project user who may manage RFIs.
const architectId = "4201001";

test.afterEach(async ({ request }) => {
  // The simulator is shared by every spec: never leave it failing.
  await request.put(`${simURL}/_sim/faults`, { data: {} });
});

async function addTextField(page: Page, label: string, required = false) {
  await page.getByLabel("New field type").selectOption("Text");
  await page.getByRole("button", { name: "+ Add field" }).click();
  const dialog = page.getByRole("dialog", { name: "Add field" });
  await dialog.getByLabel("Label", { exact: true }).fill(label);
  if (required) await dialog.getByLabel("Required").check();
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toHaveCount(0);
}

test("a Create item rule creates an RFI and shows its number; a failed rule keeps the submission for a retry", async ({
  page,
  request,
}) => {
  await signInAsAdmin(page);
  const source = uniqueName("Rules sandbox");
  await addReadyDataSource(page, source);

  await open(page, "/forms/new/design");
  await expect(page.locator("body[data-hydrated=true]")).toBeAttached();
  const formName = uniqueName("Raise an RFI");
  await page.getByLabel("Form name").fill(formName);
  await addTextField(page, "Subject", true);
  await addTextField(page, "RFI number");

  // Create item: RFIs of the sandbox project, Subject in, number back out.
  await page.getByRole("button", { name: "+ Add rule" }).click();
  const dialog = page.getByRole("dialog", { name: "Add data rule" });
  await expect(dialog.getByLabel("Action")).toHaveValue("create");
  await dialog.getByLabel("Data source", { exact: true }).selectOption({ label: source });
  await dialog.getByLabel("Procore object").selectOption("rfis");
  // Incomplete rules say what is missing.
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog.getByRole("alert")).toContainText("belongs to a project");
  await dialog.getByLabel("Project value", { exact: true }).fill(sandboxProjectId);
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog.getByRole("alert")).toContainText("Map at least one form field");
  await dialog.getByRole("button", { name: "+ Add input" }).click();
  await dialog.getByLabel("Input 1 Procore field").selectOption("subject");
  await dialog.getByLabel("Input 1 field", { exact: true }).selectOption({ label: "Subject" });
  // Procore requires a question and an RFI manager: constants here.
  for (const [n, attribute, value] of [
    [2, "question.body", "Please confirm the model."],
    [3, "rfi_manager_id", architectId],
  ] as const) {
    await dialog.getByRole("button", { name: "+ Add input" }).click();
    await dialog.getByLabel(`Input ${n} Procore field`).selectOption(attribute);
    await dialog.getByLabel(`Input ${n} from`, { exact: true }).selectOption("constant");
    await dialog.getByLabel(`Input ${n} value`, { exact: true }).fill(value);
  }
  await dialog.getByRole("button", { name: "+ Add output" }).click();
  await dialog.getByLabel("Output 1 Procore field").selectOption("number");
  await dialog.getByLabel("Output 1 form field").selectOption({ label: "RFI number" });
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toHaveCount(0);
  const rules = page.getByRole("list", { name: "Data rules" }).getByTestId("rule-row");
  await expect(rules).toHaveCount(1);
  await expect(rules.first()).toContainText(`Create item · RFIs · through ${source}`);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(toast(page, "Form saved")).toBeVisible();
  const formId = page.url().split("/").at(-2)!;

  // The rule keeps its settings when the form is opened again.
  await reload(page);
  await page.getByRole("button", { name: "Edit rule 1" }).click();
  const again = page.getByRole("dialog", { name: "Edit data rule" });
  await expect(again.getByLabel("Procore object")).toHaveValue("rfis");
  await expect(again.getByLabel("Output 1 Procore field")).toHaveValue("number");
  await again.getByRole("button", { name: "Cancel" }).click();

  // Submitting creates the RFI; its number comes back into the submission.
  await open(page, `/forms/${formId}/fill`);
  await page.getByRole("textbox", { name: "Subject", exact: true }).fill("Door closer model");
  await page.getByRole("button", { name: "Submit", exact: true }).click();
  const outcome = page.getByRole("status").filter({ has: page.getByRole("heading", { name: "Form submitted" }) });
  await expect(outcome).toBeVisible();
  await expect(outcome).toContainText("Subject: Door closer model");
  await expect(outcome).toContainText(/RFI number: \S+/);

  // Procore fails: the submission is kept with the error, and a retry succeeds.
  const faults = await request.put(`${simURL}/_sim/faults`, { data: { error_rate: 1.0 } });
  expect(faults.ok()).toBe(true);
  await page.getByRole("button", { name: "Fill in again" }).click();
  await page.getByRole("textbox", { name: "Subject", exact: true }).fill("Window sill flashing");
  await page.getByRole("button", { name: "Submit", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Saved, but a data rule failed" })).toBeVisible();
  await expect(page.getByRole("alert")).toContainText("Rule 1 (Create item, RFIs) failed");
  await request.put(`${simURL}/_sim/faults`, { data: {} });
  await page.getByRole("button", { name: "Retry" }).click();
  await expect(toast(page, "The data rules ran")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Form submitted" })).toBeVisible();
  await expect(page.getByRole("status").filter({ has: page.getByRole("heading", { name: "Form submitted" }) })).toContainText(/RFI number: \S+/);

  // The submissions list has both, done, each with its own RFI number.
  await page.getByRole("link", { name: "All submissions" }).click();
  await expect(page).toHaveURL(new RegExp(`/forms/${formId}/submissions$`));
  const submissions = page.getByRole("list", { name: "Submissions" }).getByTestId("submission");
  await expect(submissions).toHaveCount(2);
  await expect(submissions.getByTestId("submission-state")).toHaveText(["Done", "Done"]);
  const numbers = (await submissions.allTextContents()).map((t) => t.match(/RFI number: (\S+)/)?.[1]);
  expect(numbers[0]).toBeTruthy();
  expect(numbers[1]).toBeTruthy();
  expect(numbers[0]).not.toBe(numbers[1]);
});

test("a failed submission can be retried later from the submissions list", async ({ page, request }) => {
  await signInAsAdmin(page);
  const source = uniqueName("Retry sandbox");
  await addReadyDataSource(page, source);
  const sourceId = new URL(page.url()).searchParams.get("open")!;
  const formName = uniqueName("Later retry");
  const saved = await callServerFn(page, "save_form", {
    id: null,
    draft: {
      name: formName,
      fields: [
        { id: "subject", label: "Subject", kind: "text", required: true, list: null, format: "dropdown" },
        { id: "number", label: "RFI number", kind: "text", required: false, list: null, format: "dropdown" },
      ],
      rules: [
        {
          id: "r1",
          action: "create",
          data_source: sourceId,
          object: "rfis",
          project: { kind: "constant", value: sandboxProjectId },
          inputs: [
            { attribute: "subject", value: { kind: "field", value: "subject" } },
            { attribute: "question.body", value: { kind: "constant", value: "Please advise." } },
            { attribute: "rfi_manager_id", value: { kind: "constant", value: architectId } },
          ],
          outputs: [{ field: "number", into: "number" }],
        },
      ],
    },
  });
  expect(saved.status()).toBe(200);
  const formId = ((await saved.json()) as { id: string }).id;

  await request.put(`${simURL}/_sim/faults`, { data: { error_rate: 1.0 } });
  await open(page, `/forms/${formId}/fill`);
  await page.getByRole("textbox", { name: "Subject", exact: true }).fill("Roof drain overflow");
  await page.getByRole("button", { name: "Submit", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Saved, but a data rule failed" })).toBeVisible();
  await request.put(`${simURL}/_sim/faults`, { data: {} });

  await open(page, `/forms/${formId}/submissions`);
  const submission = page.getByTestId("submission");
  await expect(submission.getByTestId("submission-state")).toHaveText("Failed");
  await expect(submission.getByRole("alert")).toContainText("Rule 1 (Create item, RFIs) failed");
  await expect(submission).toContainText("Subject: Roof drain overflow");
  await submission.getByRole("button", { name: "Retry" }).click();
  await expect(submission.getByTestId("submission-state")).toHaveText("Done");
  await expect(submission).toContainText(/RFI number: \S+/);
  await expect(submission.getByRole("button", { name: "Retry" })).toHaveCount(0);
});
