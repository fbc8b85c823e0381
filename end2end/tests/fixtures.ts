import { test as base, expect } from "@playwright/test";
import { admin, simURL } from "./helpers";

export { expect };
export type { Locator, Page } from "@playwright/test";

/** What the server must never send a browser, whatever page or call. */
const fixedSecrets: [string, string][] = [
  ["the production client secret", "production-secret"],
  ["the sandbox client secret", "sandbox-secret"],
  ["the administrator's password", admin.password],
  ["a password hash", "$argon2id$"],
];

/** An API token whole (lists show only its start); the one answer creating it may show it. */
const apiToken = /trestle_pat_[A-Za-z0-9_-]{43}/;

/** The secrets in `text`, by what they are. */
function secretsIn(text: string, issued: string[], url: string): string[] {
  const found = fixedSecrets.filter(([, secret]) => text.includes(secret)).map(([what]) => what);
  if (issued.some((token) => text.includes(token))) found.push("a token Procore issued");
  if (apiToken.test(text) && !url.endsWith("/api/create_api_token")) found.push("an API token");
  return found;
}

/**
 * Every spec's `test`. A page that fails to hydrate stops responding to clicks, so a page
 * error or a hydration/panic message fails the test with what the browser said, rather
 * than as a timeout somewhere later. Every answer the browser gets from Trestle is kept
 * and, after the test, searched for secrets, including each token the simulator issued.
 */
export const test = base.extend<{ browserProblems: string[]; secretsShown: void }>({
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
  secretsShown: [
    async ({ page, baseURL }, use) => {
      const answers: Promise<{ url: string; text: string }>[] = [];
      page.on("response", (response) => {
        const url = response.url();
        if (!baseURL || !url.startsWith(baseURL)) return;
        answers.push(
          (async () => {
            const headers = JSON.stringify(await response.allHeaders().catch(() => ({})));
            const body = await response.text().catch(() => "");
            return { url, text: `${headers}\n${body}` };
          })(),
        );
      });
      await use();
      const issued: string[] = await (await fetch(`${simURL}/_sim/issued-tokens`)).json();
      const leaks = (await Promise.all(answers)).flatMap(({ url, text }) =>
        secretsIn(text, issued, url).map((what) => `${what} in the answer to ${url}`),
      );
      expect(leaks, "secrets sent to the browser").toEqual([]);
    },
    { auto: true },
  ],
});
