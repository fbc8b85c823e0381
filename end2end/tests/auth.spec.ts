import { test, expect } from "./fixtures";
import { admin, open, signIn, signInAsAdmin, signOut } from "./helpers";

test("a stranger is sent to sign in, and comes back after", async ({ page }) => {
  await page.goto("/admin/users");
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fadmin%2Fusers|\/sign-in\?next=\/admin\/users/);
  await expect(page.locator("body[data-hydrated=true]")).toBeAttached();
  await page.getByLabel("E-mail").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByRole("table", { name: "Users" })).toContainText(admin.email);
});

test("an administrator signs in and out", async ({ page }) => {
  await signInAsAdmin(page);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Welcome, Ada" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText("Administration");

  await signOut(page);
  // The session is gone on the server too: protected pages send us back.
  await page.goto("/admin/users");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("a wrong password says so and signs nobody in", async ({ page }) => {
  await signIn(page, admin.email, "not the password");
  await expect(page.getByRole("alert")).toHaveText("E-mail or password is incorrect.");
  await expect(page).toHaveURL(/\/sign-in/);
  await expect(page.getByTestId("signed-in-user")).toHaveCount(0);
});

test("unknown pages answer 404", async ({ page }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});

test("a session cookie cannot be read by scripts", async ({ page, context }) => {
  await signInAsAdmin(page);
  const cookie = (await context.cookies()).find((c) => c.name === "trestle_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");
  expect(await page.evaluate(() => document.cookie)).not.toContain("trestle_session");
});
