import { test as base, expect } from "@playwright/test";

export { expect };
export type { Locator, Page } from "@playwright/test";

/**
 * Every spec's `test`. A page that fails to hydrate stops responding to clicks, so a page
 * error or a hydration/panic message fails the test with what the browser said, rather
 * than as a timeout somewhere later.
 */
export const test = base.extend<{ browserProblems: string[] }>({
  browserProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error" && /hydration|panicked/i.test(message.text())) problems.push(message.text());
      });
      await use(problems);
      expect(problems, "errors in the browser").toEqual([]);
    },
    { auto: true },
  ],
});
