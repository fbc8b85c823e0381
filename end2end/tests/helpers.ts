import { expect, type Page } from "@playwright/test";

export const admin = { email: "admin@example.com", password: "admin password 1", name: "Ada Admin" };

/** Opens a page and waits until the browser has taken it over, so clicks are handled. */
export async function open(page: Page, path: string) {
  await page.goto(path);
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
