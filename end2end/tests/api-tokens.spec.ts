import { test, expect, type Page } from "./fixtures";
import { addReadyDataSource, open, signInAsAdmin, toast, uniqueName } from "./helpers";

// Adding a ready data source goes through the simulator's sign-in and connection test.
test.describe.configure({ timeout: 60_000 });

function tokenRow(page: Page, name: string) {
  return page.getByTestId("api-token-row").filter({ hasText: name });
}

test("create an API token, see it once, call the REST API with it, revoke it", async ({ page, request }) => {
  await signInAsAdmin(page);
  const { id } = await addReadyDataSource(page, uniqueName("REST"));

  // From the header, like any other page of one's own account.
  await open(page, "/");
  await page.getByRole("link", { name: "API tokens" }).click();
  await expect(page).toHaveURL(/\/account\/api-tokens$/);
  await expect(page.getByRole("heading", { name: "API tokens", level: 1 })).toBeVisible();

  const name = uniqueName("Nightly export");
  await page.getByRole("button", { name: "+ New token" }).click();
  const form = page.getByRole("dialog", { name: "New API token" });
  await form.getByRole("button", { name: "Create token" }).click();
  await expect(form.getByText("This field is required.")).toBeVisible();
  await form.getByLabel("Name").fill(name);
  await form.getByRole("button", { name: "Create token" }).click();

  // Shown once, with a warning and a copy button.
  const issued = page.getByRole("dialog", { name: `Your new token “${name}”` });
  await expect(issued).toBeVisible();
  await expect(toast(page, `Token “${name}” created`)).toBeVisible();
  await expect(issued.getByRole("note")).toContainText("the only time Trestle shows it");
  await expect(issued.getByRole("button", { name: "Copy" })).toBeVisible();
  const secret = await issued.getByTestId("new-api-token").inputValue();
  expect(secret).toMatch(/^trestle_pat_[A-Za-z0-9_-]{43}$/);
  await issued.getByRole("button", { name: "Done" }).click();
  await expect(issued).toBeHidden();

  // Listed by name and its first characters, never in full, now or after a reload.
  await expect(tokenRow(page, name)).toContainText(secret.slice(0, 16));
  await expect(tokenRow(page, name)).toContainText("Never");
  await open(page, "/account/api-tokens");
  await expect(tokenRow(page, name)).toBeVisible();
  expect(await page.content()).not.toContain(secret);

  // A program (no cookies) calls the API with it.
  const auth = { Authorization: `Bearer ${secret}` };
  const listed = await request.get("/api/v1/data-sources", { headers: auth });
  expect(listed.status()).toBe(200);
  const body = (await listed.json()) as { data_sources: { id: string; ready: boolean }[] };
  expect(body.data_sources.find((s) => s.id === id)?.ready).toBe(true);
  await open(page, "/account/api-tokens");
  await expect(tokenRow(page, name)).not.toContainText("Never");

  // Revoked after a confirmation; from then on the API refuses it.
  await tokenRow(page, name).getByRole("button", { name: `Revoke ${name}` }).click();
  const confirm = page.getByRole("dialog", { name: `Revoke “${name}”?` });
  await confirm.getByRole("button", { name: "Revoke" }).click();
  await expect(toast(page, "Token revoked")).toBeVisible();
  await expect(tokenRow(page, name)).toHaveCount(0);

  const refused = await request.get("/api/v1/data-sources", { headers: auth });
  expect(refused.status()).toBe(401);
  expect(refused.headers()["www-authenticate"]).toContain("Bearer");
  expect(((await refused.json()) as { error: { status: number } }).error.status).toBe(401);
});
