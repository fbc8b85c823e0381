import { expect, type Locator, type Page } from "@playwright/test";

/** The Procore simulator next to the app (see playwright.config.ts), for its `/_sim` switches. */
export const simURL = `http://127.0.0.1:${Number(process.env.E2E_SIM_PORT ?? Number(process.env.E2E_PORT ?? 3999) - 1)}`;

export const admin = { email: "admin@example.com", password: "admin password 1", name: "Ada Admin" };

/** Opens a page and waits until the browser has taken it over, so clicks are handled. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator("body[data-hydrated=true]")).toBeAttached();
}

/** Reloads the page and waits for hydration again: a click before it would be lost. */
export async function reload(page: Page) {
  await page.reload();
  await expect(page.locator("body[data-hydrated=true]")).toBeAttached();
}

export async function signIn(page: Page, email: string, password: string) {
  await open(page, "/sign-in");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function signInAsAdmin(page: Page) {
  await signIn(page, admin.email, admin.password);
  await expect(page.getByTestId("signed-in-user")).toHaveText(admin.name);
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
}

/** A unique address per call, so specs do not depend on each other's data. */
export function uniqueEmail(prefix: string) {
  return `${prefix}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** A unique display name per call (data source names must be unique). */
export function uniqueName(prefix: string) {
  return `${prefix} ${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

/** Adds a person through Administration > Users; returns their one-time password. */
export async function addUser(page: Page, name: string, email: string, roles: string[]) {
  await open(page, "/admin/users");
  await page.getByRole("button", { name: "+ Add user" }).click();
  const dialog = page.getByRole("dialog", { name: "Add user" });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByLabel("E-mail").fill(email);
  for (const role of ["Administrator", "Data source manager", "Designer", "User"]) {
    const box = dialog.getByRole("checkbox", { name: new RegExp(`^${role}`) });
    if (roles.includes(role)) await box.check();
    else await box.uncheck();
  }
  await dialog.getByRole("button", { name: "Add user" }).click();
  const issued = page.getByRole("dialog", { name: `One-time password for ${name}` });
  const password = (await issued.getByTestId("one-time-password").textContent())!.trim();
  await issued.getByRole("button", { name: "Done" }).click();
  return password;
}

/** Signs in with a one-time password and replaces it, as everyone must at first. */
export async function signInFirstTime(page: Page, email: string, oneTime: string, password: string) {
  await signIn(page, email, oneTime);
  await expect(page).toHaveURL(/\/account\/password$/);
  await expect(page.locator("body[data-hydrated=true]")).toBeAttached();
  await page.getByLabel("Current password").fill(oneTime);
  await page.getByLabel("New password", { exact: true }).fill(password);
  await page.getByLabel("Repeat the new password").fill(password);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("heading", { name: /^Welcome/ })).toBeVisible();
}

/** Calls a server function with a JSON body, as the signed-in person of `page`. */
export async function callServerFn(page: Page, name: string, data?: object) {
  return data === undefined
    ? page.request.post(`/api/${name}`, { headers: { "content-type": "application/x-www-form-urlencoded" } })
    : page.request.post(`/api/${name}`, { data });
}

/** Removes every data source (and so revokes their tokens), for specs that start from none. */
export async function deleteAllDataSources(page: Page) {
  const list = await callServerFn(page, "list_data_sources");
  expect(list.status()).toBe(200);
  for (const row of (await list.json()) as { id: string }[]) {
    const deleted = await callServerFn(page, "delete_data_source", { id: row.id });
    expect(deleted.status()).toBe(200);
  }
}

/** Creates a data source through its server function; returns its id. */
export async function createDataSource(page: Page, name: string, companyId = "", environment = "developer_sandbox") {
  const response = await callServerFn(page, "save_data_source", {
    id: null,
    draft: { name, company_id: companyId, environment, cloud_connect: false, connector: null },
  });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { data_source: { id: string } }).data_source.id;
}

// ---------------------------------------------------------------------------------------
// Data sources through the UI (shared by data-sources.spec.ts' flows and forms.spec.ts)

/** The Procore user the simulator signs in as. */
export const architect = "Test Architect (sandbox+arch@example.com)";

export function drawerOf(page: Page) {
  return page.getByRole("dialog", { name: "Procore details" });
}

/** A toast with `text`: the newest, as an earlier one may still be showing. */
export function toast(page: Page, text: string) {
  return page.locator(".toasts").getByText(text, { exact: true }).last();
}

/** "+ Add new" (toolbar or empty state) → the Procore tile → an empty drawer. */
export async function startNewDataSource(page: Page) {
  await page.getByRole("button", { name: "+ Add new" }).click();
  const picker = page.getByRole("dialog", { name: "Add a data source" });
  await picker.getByRole("button", { name: /^Procore/ }).click();
  await expect(page).toHaveURL(/\/data-sources\?open=new$/);
  return drawerOf(page);
}

export async function fillDataSourceDetails(drawer: Locator, name: string, companyId: string, environment = "Developer Sandbox") {
  await drawer.getByLabel("Datasource name").fill(name);
  await drawer.getByLabel("Procore company id").fill(companyId);
  await drawer.getByLabel(environment, { exact: true }).check();
}

/** The simulator's sign-in in the popup: log in, then allow or deny; the popup then closes itself. */
export async function signInAtProcore(popup: Page, decision: "Allow" | "Deny") {
  await popup.getByLabel("Email").fill("sandbox+arch@example.com");
  await popup.getByLabel("Password").fill("sandbox");
  await popup.getByRole("button", { name: "Log In" }).click();
  const closed = popup.waitForEvent("close");
  await popup.getByRole("button", { name: decision, exact: true }).click();
  await closed;
}

/** Clicks Authorize (or Re-authorize) and goes through the popup. */
export async function authorizeDataSource(page: Page, drawer: Locator, decision: "Allow" | "Deny" = "Allow") {
  const popupOpened = page.waitForEvent("popup");
  await drawer.getByRole("button", { name: /^(Re-)?[Aa]uthorize$/ }).click();
  const popup = await popupOpened;
  await signInAtProcore(popup, decision);
}

/** A new, saved and authorized data source in an open drawer; returns its id. */
export async function addAuthorizedDataSource(page: Page, name: string, companyId: string) {
  await open(page, "/data-sources");
  const drawer = await startNewDataSource(page);
  await fillDataSourceDetails(drawer, name, companyId);
  await authorizeDataSource(page, drawer);
  await expect(drawer.getByTestId("authorized-as")).toContainText(`Authorized as ${architect}`);
  await expect(page).toHaveURL(/\?open=[^&]+$/);
  const id = new URL(page.url()).searchParams.get("open")!;
  expect(id).not.toBe("new");
  return { drawer, id };
}

/** A ready data source on the simulator's sandbox company (authorized and tested); returns its id. */
export async function addReadyDataSource(page: Page, name: string) {
  const { drawer, id } = await addAuthorizedDataSource(page, name, "4264807");
  await expect(toast(page, "Connection test succeeded")).toBeVisible();
  await expect(drawer.getByTestId("status")).toHaveText("ready");
  return { drawer, id };
}
