import { defineConfig, devices } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join, resolve } from "node:path";
import { admin } from "./tests/helpers";

// One server per run, on a fresh in-memory database and its own data directory.
const port = Number(process.env.E2E_PORT ?? 3999);
const baseURL = `http://127.0.0.1:${port}`;

const repo = resolve(__dirname, "..");
const targetDir = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache", "trestle-target");
const serverBin = process.env.E2E_SERVER_BIN ?? join(targetDir, "debug", "server");
const simBin = process.env.PROCORE_SIM_BIN ?? join(targetDir, "debug", "procore-sim");
const dataDir = mkdtempSync(join(tmpdir(), "trestle-e2e-"));

// Trestle talks to a separate simulator, configured exactly as real Procore would be, so
// specs can also read its counters and flip its fault switches under /_sim.
export const simPort = Number(process.env.E2E_SIM_PORT ?? port - 1);
const simURL = `http://127.0.0.1:${simPort}`;
const procoreHosts = Object.fromEntries(
  [
    ["LIVE", "live"],
    ["MONTHLY_SANDBOX", "monthly-sandbox"],
    ["DEVELOPER_SANDBOX", "developer-sandbox"],
  ].flatMap(([env, prefix]) => [
    [`TRESTLE_PROCORE__${env}__LOGIN_HOST`, `${simURL}/${prefix}`],
    [`TRESTLE_PROCORE__${env}__API_HOST`, `${simURL}/${prefix}`],
  ]),
);

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
  webServer: [
    {
      // 120 RFIs in the Scale Test Project: more than one page of list options.
      command: `${simBin} --port ${simPort} --scale 120 --redirect-uri ${baseURL}/oauth/callback`,
      url: `${simURL}/_sim/counters`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      command: serverBin,
      cwd: repo,
      url: `${baseURL}/health`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        TRESTLE_LISTEN: `127.0.0.1:${port}`,
        TRESTLE_DATA_DIR: dataDir,
        TRESTLE_DATABASE__URL: "mem://",
        TRESTLE_ADMIN__EMAIL: admin.email,
        TRESTLE_ADMIN__NAME: admin.name,
        TRESTLE_ADMIN__PASSWORD: admin.password,
        TRESTLE_PROCORE__SIMULATOR: "false",
        TRESTLE_PROCORE__PRODUCTION_CLIENT__CLIENT_ID: "trestle-production",
        TRESTLE_PROCORE__PRODUCTION_CLIENT__CLIENT_SECRET: "production-secret",
        TRESTLE_PROCORE__SANDBOX_CLIENT__CLIENT_ID: "trestle-sandbox",
        TRESTLE_PROCORE__SANDBOX_CLIENT__CLIENT_SECRET: "sandbox-secret",
        ...procoreHosts,
        LEPTOS_SITE_ROOT: join(repo, "target", "site"),
        // Built by `cargo test` rather than cargo-leptos, the server was not told its
        // bundle's name at compile time.
        LEPTOS_OUTPUT_NAME: "trestle",
        RUST_LOG: "info,surrealdb=warn,surrealdb_core=warn,surrealkv=warn",
      },
    },
  ],
});
