import { test, expect, type Locator, type Page } from "./fixtures";
import {
  addAuthorizedDataSource as addAuthorized,
  addUser,
  architect,
  authorizeDataSource as authorize,
  drawerOf,
  fillDataSourceDetails as fillDetails,
  startNewDataSource as startNew,
  toast,
  admin,
  callServerFn,
  createDataSource,
  deleteAllDataSources,
  open,
  signInAsAdmin,
  signInFirstTime,
  uniqueEmail,
  uniqueName,
  simURL,
  reload,
} from "./helpers";

// Authorizing and testing goes through the simulator several times per spec.
test.describe.configure({ timeout: 60_000 });

function rowOf(page: Page, name: string) {
  return page.getByTestId("data-source-row").filter({ hasText: name });
}

async function simCounters(page: Page) {
  const response = await page.request.get(`${simURL}/_sim/counters`);
  expect(response.ok()).toBe(true);
  return (await response.json()) as { totals: { revocations: number; tokens_issued: number } };
}

test("add a Procore data source, authorize it in a popup, test it and keep it across a reload", async ({ page }) => {
  await signInAsAdmin(page);
  await deleteAllDataSources(page);
  await open(page, "/data-sources");
  await expect(page.getByRole("heading", { name: "No data sources yet" })).toBeVisible();

  // The picker: Procore works, the others are announced but disabled.
  await page.getByRole("button", { name: "+ Add new" }).click();
  const picker = page.getByRole("dialog", { name: "Add a data source" });
  await expect(picker.getByRole("button", { name: /^SQL database/ })).toBeDisabled();
  await expect(picker.getByRole("button", { name: /^SharePoint list/ })).toContainText("Coming soon");
  await picker.getByLabel("Search data source types").fill("procore");
  await expect(picker.getByRole("button", { name: /^SQL database/ })).toBeHidden();
  await picker.getByRole("button", { name: /^Procore/ }).click();
  await expect(page).toHaveURL(/\/data-sources\?open=new$/);

  const drawer = drawerOf(page);
  const name = uniqueName("Sandbox company");
  await drawer.getByLabel("Datasource name").fill(name);
  await expect(drawer.getByText("Unsaved changes")).toBeVisible();
  const authorizeButton = drawer.getByRole("button", { name: "Authorize", exact: true });
  await expect(authorizeButton).toHaveCount(0);
  await drawer.getByLabel("Procore company id").fill("12a");
  await expect(drawer).toContainText("The company id is a number, such as 4264807.");
  await expect(authorizeButton).toHaveCount(0);
  await drawer.getByLabel("Procore company id").fill("4264807");
  await expect(authorizeButton).toBeVisible();
  await expect(drawer.getByLabel("Live", { exact: true })).toBeChecked();
  await drawer.getByLabel("Developer Sandbox", { exact: true }).check();
  await expect(drawer).toContainText("Procore's developer test company");
  await expect(drawer.getByRole("switch", { name: "Use Cloud Connect" })).not.toBeChecked();

  // Authorize saves first, then signs in at Procore in a popup that closes itself.
  await authorize(page, drawer);
  await expect(drawer.getByTestId("authorized-as")).toContainText(`Authorized as ${architect}`);
  await expect(page).toHaveURL(/\/data-sources\?open=[^&]+$/);
  const id = new URL(page.url()).searchParams.get("open")!;

  // …and runs the connection test by itself.
  await expect(toast(page, "Connection test succeeded")).toBeVisible();
  const checks = drawer.getByRole("list", { name: "Connection checks" }).getByRole("listitem");
  await expect(checks).toHaveCount(3);
  for (const check of await checks.all()) await expect(check).toHaveAttribute("data-state", "passed");
  await expect(drawer.getByTestId("status")).toHaveText("ready");
  await expect(drawer.getByRole("button", { name: "Re-authorize" })).toBeVisible();
  await expect(rowOf(page, name).getByTestId("status")).toHaveText("ready");

  await drawer.getByRole("button", { name: "Save", exact: true }).click();
  await expect(toast(page, "Details saved successfully")).toBeVisible();
  await expect(drawer.getByText("Unsaved changes")).toBeHidden();

  // The calls it made and the history are there for its administrators.
  await drawer.getByText("Procore calls (last hour)").click();
  await expect(drawer.getByRole("table", { name: "Procore calls" })).toContainText("GET");
  await expect(drawer.getByRole("img", { name: /Calls per 5 minutes/ })).toBeVisible();
  await drawer.getByText("History", { exact: true }).click();
  await expect(drawer.getByRole("list", { name: "History" }).getByRole("listitem").first()).toBeVisible();

  // A reload opens the same drawer from the address, with everything saved.
  await reload(page);
  await expect(page).toHaveURL(new RegExp(`open=${id}$`));
  await expect(drawer.getByLabel("Datasource name")).toHaveValue(name);
  await expect(drawer.getByLabel("Procore company id")).toHaveValue("4264807");
  await expect(drawer.getByLabel("Developer Sandbox", { exact: true })).toBeChecked();
  await expect(drawer.getByTestId("authorized-as")).toContainText(`Authorized as ${architect}`);
  await expect(drawer.getByTestId("status")).toHaveText("ready");
  await expect(rowOf(page, name)).toContainText("Procore");

  // Close goes back to the grid without asking (nothing changed), and back reopens it.
  await drawer.getByRole("button", { name: "Close", exact: true }).click();
  await expect(page).toHaveURL(/\/data-sources$/);
  await expect(drawer).toHaveCount(0);
  await page.goBack();
  await expect(drawer.getByLabel("Datasource name")).toHaveValue(name);
});

test("a company the Procore user cannot see fails the test with the reason", async ({ page }) => {
  await signInAsAdmin(page);
  const name = uniqueName("Wrong company");
  const { drawer } = await addAuthorized(page, name, "1");
  await expect(toast(page, "Connection test failed")).toBeVisible();
  await expect(drawer.getByTestId("status")).toHaveText("test failed");
  const failed = drawer.locator(".test-step[data-state=failed]");
  await expect(failed).toContainText("Company is visible and active");
  await expect(failed.getByRole("alert")).toContainText(/company/i);
  await expect(failed.getByRole("alert")).toContainText(/not found|could not be found|cannot see|no access/i);
  await expect(rowOf(page, name).getByTestId("status")).toHaveText("test failed");

  // The reason stays with the data source.
  await reload(page);
  await expect(drawer.getByTestId("status")).toHaveText("test failed");
  await expect(drawer).toContainText(/not found|could not be found|cannot see|no access/i);
});

test("a company without the app fails the test saying the app is not installed", async ({ page }) => {
  await signInAsAdmin(page);
  const name = uniqueName("No app company");
  const { drawer } = await addAuthorized(page, name, "4264900");
  await expect(toast(page, "Connection test failed")).toBeVisible();
  await expect(drawer.getByTestId("status")).toHaveText("test failed");
  const failed = drawer.locator(".test-step[data-state=failed]");
  await expect(failed).toContainText("App is installed in the company");
  await expect(failed.getByRole("alert")).toContainText(/install/i);
  await expect(rowOf(page, name).getByTestId("status")).toHaveText("test failed");
});

test("denying access in Procore says so in the drawer", async ({ page }) => {
  await signInAsAdmin(page);
  await open(page, "/data-sources");
  const drawer = await startNew(page);
  await fillDetails(drawer, uniqueName("Denied"), "4264807");
  await authorize(page, drawer, "Deny");
  await expect(drawer.getByTestId("authorization-error")).toContainText(/denied/i);
  await expect(drawer.getByTestId("authorized-as")).toHaveCount(0);
  await expect(drawer.getByTestId("status")).toHaveText("incomplete");
  await expect(drawer.getByRole("button", { name: "Authorize", exact: true })).toBeVisible();
});

test("changing the environment after authorizing clears the authorization and says so", async ({ page }) => {
  await signInAsAdmin(page);
  const name = uniqueName("Environment change");
  const { drawer } = await addAuthorized(page, name, "4264807");
  await expect(drawer.getByTestId("status")).toHaveText("ready");

  await drawer.getByLabel("Live", { exact: true }).check();
  await expect(drawer.getByText("Unsaved changes")).toBeVisible();
  await expect(drawer).toContainText("Saving with another environment clears the authorization");
  await drawer.getByRole("button", { name: "Save", exact: true }).click();
  await expect(toast(page, "Details saved successfully")).toBeVisible();
  await expect(drawer.getByTestId("save-notice")).toContainText(/cleared the authorization/i);
  await expect(drawer.getByTestId("authorized-as")).toHaveCount(0);
  await expect(drawer.getByTestId("status")).toHaveText("incomplete");
  await expect(drawer.getByRole("button", { name: "Authorize", exact: true })).toBeVisible();
  await expect(rowOf(page, name).getByTestId("status")).toHaveText("incomplete");
});

test("security: connection administrators are saved, and others get a read-only drawer and a 403", async ({ page, browser }) => {
  await signInAsAdmin(page);
  const name = uniqueName("Guarded");
  await open(page, "/data-sources");
  const drawer = await startNew(page);
  // Security needs a saved data source.
  await expect(drawer.getByRole("button", { name: "Security" })).toBeDisabled();
  await fillDetails(drawer, name, "4264807");
  await drawer.getByRole("button", { name: "Save", exact: true }).click();
  await expect(toast(page, "Details saved successfully")).toBeVisible();
  await expect(page).toHaveURL(/\?open=[^&]+$/);
  const id = new URL(page.url()).searchParams.get("open")!;

  await drawer.getByRole("button", { name: "Security" }).click();
  let dialog = page.getByRole("dialog", { name: "Security" });
  const admins = dialog.getByRole("group", { name: "Connection administrators" });
  await expect(admins).toContainText("Empty: all administrators");
  await expect(dialog.getByRole("group", { name: "Connection users" })).toContainText("Empty: every signed-in user");
  await admins.getByRole("checkbox", { name: `${admin.name} (user)` }).check();
  await dialog.getByRole("button", { name: "OK" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(toast(page, "Security saved")).toBeVisible();

  await drawer.getByRole("button", { name: "Security" }).click();
  dialog = page.getByRole("dialog", { name: "Security" });
  await expect(
    dialog.getByRole("group", { name: "Connection administrators" }).getByRole("checkbox", { name: `${admin.name} (user)` }),
  ).toBeChecked();
  await expect(
    dialog.getByRole("group", { name: "Connection users" }).getByRole("checkbox", { name: `${admin.name} (user)` }),
  ).not.toBeChecked();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);

  // A data source manager who is not one of its administrators.
  const email = uniqueEmail("dora");
  const oneTime = await addUser(page, "Dora Manager", email, ["Data source manager"]);
  const context = await browser.newContext();
  const dora = await context.newPage();
  await signInFirstTime(dora, email, oneTime, "dora's own password");
  await open(dora, `/data-sources?open=${id}`);
  const doraDrawer = drawerOf(dora);
  await expect(doraDrawer.getByRole("note")).toContainText("only its connection administrators can");
  await expect(doraDrawer.getByLabel("Datasource name")).toHaveValue(name);
  await expect(doraDrawer.getByLabel("Datasource name")).toBeDisabled();
  await expect(doraDrawer.getByLabel("Procore company id")).toBeDisabled();
  await expect(doraDrawer.getByLabel("Live", { exact: true })).toBeDisabled();
  for (const button of ["Save", "Security", "Delete", "Authorize", "Test connection"]) {
    await expect(doraDrawer.getByRole("button", { name: button, exact: true })).toHaveCount(0);
  }
  // Nor does the grid offer to delete it.
  await expect(dora.getByRole("button", { name: `Delete ${name}` })).toHaveCount(0);

  // The server refuses the change itself, not just the page.
  const refused = await callServerFn(dora, "save_data_source", {
    id,
    draft: { name: "Taken over", company_id: "4264807", environment: "live", cloud_connect: false, connector: null },
  });
  expect(refused.status()).toBe(403);
  await context.close();

  await page.goto(`/data-sources?open=${id}`);
  await expect(page.locator("body[data-hydrated=true]")).toBeAttached();
  await expect(drawer.getByLabel("Datasource name")).toHaveValue(name);
});

test("deleting a data source from the grid revokes its Procore tokens", async ({ page }) => {
  await signInAsAdmin(page);
  const name = uniqueName("To delete");
  const { drawer } = await addAuthorized(page, name, "4264807");
  await expect(toast(page, "Connection test succeeded")).toBeVisible();
  await drawer.getByRole("button", { name: "Close", exact: true }).click();
  await expect(drawer).toHaveCount(0);
  const before = (await simCounters(page)).totals.revocations;

  await rowOf(page, name).getByRole("button", { name: `Delete ${name}` }).click();
  const confirm = page.getByRole("dialog", { name: `Delete ${name}?` });
  await confirm.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(toast(page, `Deleted ${name}`)).toBeVisible();
  await expect(rowOf(page, name)).toHaveCount(0);
  await expect.poll(async () => (await simCounters(page)).totals.revocations).toBeGreaterThan(before);
});

test("the grid filters by name or type and sorts by any column", async ({ page }) => {
  await signInAsAdmin(page);
  const tag = `${Date.now()}${Math.floor(Math.random() * 1e4)}`;
  // A little apart, so "Modified" orders them whatever the timestamps' precision.
  await createDataSource(page, `Zulu ${tag}`, "4264807");
  await page.waitForTimeout(1100);
  await createDataSource(page, `alpha ${tag}`);
  await page.waitForTimeout(1100);
  await createDataSource(page, `Mike ${tag}`, "1");
  await open(page, "/data-sources");
  const table = page.getByRole("table", { name: "Data sources" });
  const search = page.getByRole("searchbox", { name: "Search data sources" });

  await search.fill(tag);
  const rows = table.getByTestId("data-source-row");
  await expect(rows).toHaveCount(3);
  const names = rows.locator("td:first-child");
  const nameHeader = table.getByRole("columnheader", { name: "Name", exact: true });
  await expect(nameHeader).toHaveAttribute("aria-sort", "ascending");
  await expect(names).toHaveText([`alpha ${tag}`, `Mike ${tag}`, `Zulu ${tag}`]);
  await nameHeader.getByRole("button").click();
  await expect(nameHeader).toHaveAttribute("aria-sort", "descending");
  await expect(names).toHaveText([`Zulu ${tag}`, `Mike ${tag}`, `alpha ${tag}`]);

  const modified = table.getByRole("columnheader", { name: "Modified", exact: true });
  await modified.getByRole("button").click();
  await expect(modified).toHaveAttribute("aria-sort", "ascending");
  await expect(nameHeader).toHaveAttribute("aria-sort", "none");
  await expect(names).toHaveText([`Zulu ${tag}`, `alpha ${tag}`, `Mike ${tag}`]);
  await modified.getByRole("button").click();
  await expect(names).toHaveText([`Mike ${tag}`, `alpha ${tag}`, `Zulu ${tag}`]);

  await search.fill(`zulu ${tag}`);
  await expect(rows).toHaveCount(1);
  await search.fill("procore");
  await expect(rows.filter({ hasText: tag })).toHaveCount(3);
  await search.fill(`nothing like ${tag}`);
  await expect(rows).toHaveCount(0);
  await expect(page.getByText(/No data source matches/)).toBeVisible();

  // Clicking a name opens its drawer, and the address says so.
  await search.fill(`Mike ${tag}`);
  await table.getByRole("link", { name: `Mike ${tag}` }).click();
  await expect(page).toHaveURL(/\?open=/);
  await expect(drawerOf(page).getByLabel("Datasource name")).toHaveValue(`Mike ${tag}`);
});

test("unsaved changes are flagged, and Close asks before discarding them", async ({ page }) => {
  await signInAsAdmin(page);
  await open(page, "/data-sources?open=new");
  const drawer = drawerOf(page);
  await expect(drawer.getByText("Unsaved changes")).toBeHidden();
  // Saving validates the name.
  await drawer.getByRole("button", { name: "Save", exact: true }).click();
  await expect(drawer.getByLabel("Datasource name")).toHaveAttribute("aria-invalid", "true");
  const name = uniqueName("Not kept");
  await drawer.getByLabel("Datasource name").fill(name);
  await expect(drawer.getByText("Unsaved changes")).toBeVisible();

  await drawer.getByRole("button", { name: "Close", exact: true }).click();
  const ask = page.getByRole("dialog", { name: "Discard unsaved changes?" });
  await ask.getByRole("button", { name: "Cancel" }).click();
  await expect(drawer.getByLabel("Datasource name")).toHaveValue(name);

  await drawer.getByRole("button", { name: "Close", exact: true }).click();
  await ask.getByRole("button", { name: "Discard" }).click();
  await expect(drawer).toHaveCount(0);
  await expect(page).toHaveURL(/\/data-sources$/);
  await expect(rowOf(page, name)).toHaveCount(0);

  // Cloud Connect: no agents yet, and a way to learn how to add one.
  await open(page, "/data-sources?open=new");
  await drawer.getByRole("switch", { name: "Use Cloud Connect" }).check();
  await expect(drawer.getByLabel("Connectors")).toBeVisible();
  await expect(drawer).toContainText("No connectors registered yet");
  await expect(drawer.getByRole("link", { name: "How to install a connector" })).toHaveAttribute("href", "/help/cloud-connect");
});

test("a blocked popup offers the sign-in in the same tab, which comes back to the drawer", async ({ page }) => {
  // As a popup blocker does: window.open gives nothing.
  await page.addInitScript(() => {
    window.open = () => null;
  });
  await signInAsAdmin(page);
  await open(page, "/data-sources?open=new");
  const drawer = drawerOf(page);
  const name = uniqueName("Same tab");
  await fillDetails(drawer, name, "4264807");
  await drawer.getByRole("button", { name: "Authorize", exact: true }).click();
  const blocked = drawer.getByTestId("popup-blocked");
  await expect(blocked).toContainText("Your browser blocked the Procore sign-in window.");

  // Continuing saves the new data source first, then leaves for Procore in this tab.
  await blocked.getByRole("link", { name: "Continue in this tab" }).click();
  await page.getByLabel("Email").fill("sandbox+arch@example.com");
  await page.getByLabel("Password").fill("sandbox");
  await page.getByRole("button", { name: "Log In" }).click();
  await page.getByRole("button", { name: "Allow", exact: true }).click();

  await expect(page).toHaveURL(/\/data-sources\?open=/);
  await expect(page.locator("body[data-hydrated=true]")).toBeAttached();
  await expect(drawer.getByTestId("authorized-as")).toContainText(`Authorized as ${architect}`);
  await expect(toast(page, "Connection test succeeded")).toBeVisible();
  await expect(drawer.getByTestId("status")).toHaveText("ready");
  // The outcome leaves the address, so a reload does not test again.
  await expect(page).toHaveURL(/\?open=[^&]+$/);
});
