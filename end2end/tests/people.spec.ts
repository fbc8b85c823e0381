import { test, expect, type Page } from "./fixtures";
import { open, signIn, signInAsAdmin, signOut, uniqueEmail, reload } from "./helpers";

async function addUser(page: Page, name: string, email: string, roles: string[]) {
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
  expect(password).toHaveLength(16);
  await issued.getByRole("button", { name: "Done" }).click();
  return password;
}

test("an administrator adds a user who must choose a password, and cannot administer", async ({ page }) => {
  await signInAsAdmin(page);
  const email = uniqueEmail("uma");
  const oneTime = await addUser(page, "Uma User", email, ["User"]);
  await expect(page.getByRole("table", { name: "Users" })).toContainText(email);
  await signOut(page);

  // The one-time password only leads to choosing a new one.
  await signIn(page, email, oneTime);
  await expect(page).toHaveURL(/\/account\/password$/);
  await expect(page.getByRole("note")).toContainText("one-time password");
  await page.getByLabel("Current password").fill(oneTime);
  await page.getByLabel("New password", { exact: true }).fill("uma's own password");
  await page.getByLabel("Repeat the new password").fill("uma's own password");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("heading", { name: "Welcome, Uma" })).toBeVisible();

  // No Administration for a plain user: not in the menu, and refused when typed.
  await expect(page.getByRole("navigation", { name: "Main" })).not.toContainText("Administration");
  const response = await page.goto("/admin/users");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You don't have access to this page" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Users" })).toHaveCount(0);

  // The server refuses the data too, not just the page.
  const api = await page.request.post("/api/list_users", { headers: { "content-type": "application/x-www-form-urlencoded" } });
  expect(api.status()).toBe(403);
  expect(await api.text()).not.toContain("admin@example.com");
});

test("validation errors show on the field and nothing is saved", async ({ page }) => {
  await signInAsAdmin(page);
  await open(page, "/admin/users");
  await page.getByRole("button", { name: "+ Add user" }).click();
  const dialog = page.getByRole("dialog", { name: "Add user" });
  await dialog.getByLabel("Name").fill("No Mail");
  await dialog.getByLabel("E-mail").fill("not-an-address");
  await dialog.getByRole("button", { name: "Add user" }).click();
  await expect(dialog.getByRole("alert")).toHaveText("Enter a valid e-mail address.");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("table", { name: "Users" })).not.toContainText("No Mail");
});

test("edit, deactivate and reset a password", async ({ page, browser }) => {
  await signInAsAdmin(page);
  const email = uniqueEmail("dan");
  await addUser(page, "Dan Designer", email, ["Designer"]);
  const row = page.getByTestId("user-row").filter({ hasText: email });

  await row.getByRole("button", { name: "Edit Dan Designer" }).click();
  const dialog = page.getByRole("dialog", { name: "Edit Dan Designer" });
  await dialog.getByLabel("Name").fill("Dan D. Designer");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(row).toContainText("Dan D. Designer");

  await row.getByRole("button", { name: "Deactivate Dan D. Designer" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Deactivate" }).click();
  await expect(row).toContainText("Inactive");

  await row.getByRole("button", { name: "Reset the password of Dan D. Designer" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Reset password" }).click();
  const fresh = (await page.getByTestId("one-time-password").textContent())!.trim();
  await page.getByRole("button", { name: "Done" }).click();

  // Deactivated people cannot sign in, even with a valid password.
  const other = await browser.newPage();
  await signIn(other, email, fresh);
  await expect(other.getByRole("alert")).toContainText("deactivated");
  await other.close();

  await row.getByRole("button", { name: "Activate Dan D. Designer" }).click();
  await expect(row).toContainText("Active");
});

test("groups are created, edited with members and deleted", async ({ page }) => {
  await signInAsAdmin(page);
  const email = uniqueEmail("gus");
  await addUser(page, "Gus Member", email, ["User"]);
  await open(page, "/admin/groups");
  await page.getByRole("button", { name: "+ Add group" }).click();
  let dialog = page.getByRole("dialog", { name: "Add group" });
  const name = `Site crew ${Date.now()}`;
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByLabel("Description").fill("People on site");
  await dialog.getByRole("checkbox", { name: /Gus Member/ }).check();
  await dialog.getByRole("button", { name: "Save" }).click();
  const row = page.getByTestId("group-row").filter({ hasText: name });
  await expect(row).toContainText("Gus Member");

  await row.getByRole("button", { name: `Edit ${name}` }).click();
  dialog = page.getByRole("dialog", { name: `Edit group ${name}` });
  await dialog.getByRole("checkbox", { name: /Gus Member/ }).uncheck();
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(row).not.toContainText("Gus Member");

  await reload(page);
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: `Delete ${name}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expect(page.getByTestId("group-row").filter({ hasText: name })).toHaveCount(0);
});
