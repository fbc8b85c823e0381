import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { test, expect, type Locator, type Page } from "./fixtures";
import { addAuthorizedDataSource, callServerFn, drawerOf, open, signInAsAdmin, simURL, toast, uniqueName } from "./helpers";

// Authorizing goes through the simulator's sign-in, and agents take a moment to connect.
test.describe.configure({ timeout: 90_000 });

const agentBin =
  process.env.TRESTLE_AGENT_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache", "trestle-target"), "debug", "trestle-agent");

/** The server the agents connect to, when the test has no `baseURL` (as in playwright.config.ts). */
const defaultServerURL = `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 3999)}`;

/** A `trestle-agent` process, with what it printed, for failure messages. */
class AgentProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  exited = false;
  private readonly exit: Promise<void>;

  constructor(
    readonly args: string[],
    readonly statePath: string,
  ) {
    this.child = spawn(agentBin, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "info" } });
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exit = new Promise((resolve) => {
      this.child.on("error", (error) => {
        this.stderr += `\n[could not run ${agentBin}: ${error.message}]`;
        this.exited = true;
        resolve();
      });
      this.child.on("exit", (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        this.exited = true;
        resolve();
      });
    });
  }

  describe() {
    const status = this.exited ? `exited with ${this.exitCode ?? this.exitSignal}` : "still running";
    return `trestle-agent ${this.args.join(" ")} (${status})\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  /** Its exit status, once it has exited; fails after `timeout` ms if it keeps running. */
  async exitStatus(timeout = 15_000) {
    await expect.poll(() => this.exited, { timeout, message: `the agent should exit\n${this.describe()}` }).toBe(true);
    await this.exit;
    return this.exitCode;
  }

  async stop() {
    if (this.exited) return;
    this.child.kill("SIGTERM");
    const stopped = await Promise.race([this.exit.then(() => true), new Promise((r) => setTimeout(() => r(false), 5_000))]);
    if (!stopped && !this.exited) {
      this.child.kill("SIGKILL");
      await this.exit;
    }
  }
}

// What each test started, so afterEach can clean up even when the test failed.
let agents: AgentProcess[] = [];
let stateDirs: string[] = [];
let dataSources: { id: string; name: string }[] = [];

/** Starts an agent with its own, fresh state file; `token` enrols it. */
function startAgent(server: string, token: string) {
  const dir = mkdtempSync(join(tmpdir(), "trestle-agent-"));
  stateDirs.push(dir);
  const statePath = join(dir, "trestle-agent.json");
  const agent = new AgentProcess(
    ["--server", server, "--token", token, "--procore-host", simURL, "--state", statePath],
    statePath,
  );
  agents.push(agent);
  return agent;
}

/** Runs `check`, adding the agent's output to a failure. */
async function withOutput(agent: AgentProcess, check: () => Promise<void>) {
  try {
    await check();
  } catch (error) {
    if (error instanceof Error) error.message += `\n\n${agent.describe()}`;
    throw error;
  }
}

type AgentInfo = { id: string; name: string; online: boolean; data_sources: string[] };

async function listAgents(page: Page) {
  const response = await callServerFn(page, "list_agents", {});
  expect(response.status()).toBe(200);
  return (await response.json()) as AgentInfo[];
}

/** Revokes every agent, so each test starts with none (and the data source specs find none). */
async function revokeAllAgents(page: Page) {
  for (const agent of await listAgents(page)) {
    const revoked = await callServerFn(page, "revoke_agent", { id: agent.id });
    expect(revoked.status()).toBe(200);
  }
}

function agentRows(page: Page) {
  return page.getByTestId("agent-row");
}

/** Administration > Cloud Connect, as an administrator gets there. */
async function openCloudConnect(page: Page) {
  await open(page, "/admin");
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Cloud Connect" }).click();
  await expect(page).toHaveURL(/\/admin\/cloud-connect$/);
  await expect(page.getByRole("heading", { name: "Cloud Connect agents" })).toBeVisible();
}

/** Add agent → the token in the dialog, shown once, with the command that uses it. */
async function newEnrolmentToken(page: Page) {
  await page.getByRole("button", { name: "Add agent" }).click();
  const dialog = page.getByRole("dialog", { name: "New agent" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("note")).toContainText("shown only this once");
  await expect(dialog.getByRole("note")).toContainText("works once");
  const token = await dialog.getByLabel("Enrolment token").inputValue();
  expect(token.trim()).not.toBe("");
  await expect(dialog.getByRole("figure", { name: "Run this on the agent's machine" })).toBeVisible();
  await expect(dialog.getByTestId("enrolment-command")).toContainText("trestle-agent");
  await expect(dialog.getByTestId("enrolment-command")).toContainText(token);
  await expect(dialog.getByRole("button", { name: "Copy command" })).toBeVisible();
  await expect(dialog.getByTestId("enrolment-expiry")).toContainText(/^Expires /);
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toBeHidden();
  return token;
}

/** The page refreshes itself: the new agent's row turns up Online without a reload. */
async function waitUntilOnline(page: Page, agent: AgentProcess) {
  const row = agentRows(page);
  await withOutput(agent, async () => {
    await expect(row).toHaveCount(1, { timeout: 20_000 });
    await expect(row.getByTestId("agent-status")).toHaveText("Online", { timeout: 20_000 });
  });
  await expect(row.getByTestId("agent-last-seen")).not.toHaveText("never");
  const id = (await row.getAttribute("data-agent-id"))!;
  const name = (await row.locator("td.agent-name").textContent())!.trim();
  expect(id).not.toBe("");
  expect(name).not.toBe("");
  return { row, id, name };
}

/** Waits until no toast shows, so the next one checked is new. */
async function toastsGone(page: Page) {
  await expect(page.locator(".toasts .toast")).toHaveCount(0, { timeout: 15_000 });
}

/** An authorized data source on the simulator's sandbox company, its first test passed, in an open drawer. */
async function addDataSource(page: Page, prefix: string) {
  const name = uniqueName(prefix);
  const { drawer, id } = await addAuthorizedDataSource(page, name, "4264807");
  dataSources.push({ id, name });
  // Authorizing tests the connection by itself (directly, without Cloud Connect yet).
  await expect(toast(page, "Connection test succeeded")).toBeVisible();
  await expect(drawer.getByTestId("status")).toHaveText("ready");
  return { drawer, id, name };
}

/** Switches Cloud Connect on in the drawer, picks the agent and saves. */
async function useAgent(page: Page, drawer: Locator, agentId: string, agentName: string) {
  await toastsGone(page);
  await drawer.getByRole("switch", { name: "Use Cloud Connect" }).check();
  const connectors = drawer.getByLabel("Connectors");
  await expect(connectors).toBeEnabled();
  await expect(connectors.locator(`option[value="${agentId}"]`)).toHaveText(`${agentName} (online)`);
  await connectors.selectOption(agentId);
  await expect(drawer.getByTestId("connector-offline")).toHaveCount(0);
  await drawer.getByRole("button", { name: "Save", exact: true }).click();
  await expect(toast(page, "Details saved successfully")).toBeVisible();
  await expect(drawer.getByText("Unsaved changes")).toBeHidden();
}

test.afterEach(async ({ page }) => {
  try {
    // Back to direct connections first: deleting revokes the Procore token, which would
    // otherwise go through an agent that may be gone.
    for (const { id, name } of dataSources) {
      await callServerFn(page, "save_data_source", {
        id,
        draft: { name, company_id: "4264807", environment: "developer_sandbox", cloud_connect: false, connector: null },
      });
      await callServerFn(page, "delete_data_source", { id });
    }
    await revokeAllAgents(page);
  } finally {
    for (const agent of agents) await agent.stop();
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
    agents = [];
    stateDirs = [];
    dataSources = [];
  }
});

test("the help page explains how to install an agent", async ({ page }) => {
  await signInAsAdmin(page);
  await openCloudConnect(page);
  await expect(page.getByText(/small program .* inside your network/)).toBeVisible();
  await page.getByRole("link", { name: "How to install an agent" }).click();
  await expect(page).toHaveURL(/\/help\/cloud-connect$/);
  await expect(page.getByRole("heading", { name: "How to install a Cloud Connect agent", level: 1 })).toBeVisible();
  await expect(page.locator("main")).toContainText("trestle-agent --server https://trestle.example.com --token TOKEN");
  await expect(page.locator("main")).toContainText("--procore-host URL");
  await expect(page.locator("main")).toContainText("Use Cloud Connect");
});

test("an enrolled agent comes online by itself and carries a data source's Procore calls", async ({ page, baseURL }) => {
  await signInAsAdmin(page);
  await revokeAllAgents(page);
  await openCloudConnect(page);
  await expect(page.getByRole("heading", { name: "No agents registered yet" })).toBeVisible();
  await expect(page.getByRole("link", { name: "How to install an agent" })).toHaveAttribute("href", "/help/cloud-connect");

  const token = await newEnrolmentToken(page);
  const agent = startAgent(baseURL ?? defaultServerURL, token);
  const { id: agentId, name: agentName, row } = await waitUntilOnline(page, agent);
  await expect(row.getByTestId("agent-data-sources")).toHaveText("—");
  await expect.poll(() => agent.stdout, { message: agent.describe() }).toContain("connected");

  // A data source switched to the agent, saved, and tested through it.
  const { drawer, id, name } = await addDataSource(page, "Through the agent");
  await useAgent(page, drawer, agentId, agentName);

  // The choice is kept across a reload.
  await open(page, `/data-sources?open=${id}`);
  const reopened = drawerOf(page);
  await expect(reopened.getByRole("switch", { name: "Use Cloud Connect" })).toBeChecked();
  await expect(reopened.getByLabel("Connectors")).toHaveValue(agentId);

  await toastsGone(page);
  await reopened.getByRole("button", { name: "Test connection" }).click();
  await withOutput(agent, async () => {
    await expect(toast(page, "Connection test succeeded")).toBeVisible({ timeout: 20_000 });
  });
  const checks = reopened.getByRole("list", { name: "Connection checks" }).getByRole("listitem");
  for (const check of await checks.all()) await expect(check).toHaveAttribute("data-state", "passed");
  await expect(reopened.getByTestId("status")).toHaveText("ready");

  // The agent's row names the data sources it carries.
  await openCloudConnect(page);
  await expect(agentRows(page).getByTestId("agent-data-sources")).toContainText(name);
  await expect(agentRows(page).getByTestId("agent-status")).toHaveText("Online");
  expect(agent.exited, agent.describe()).toBe(false);
});

test("an enrolment token works once, and a revoked agent is disconnected", async ({ page, baseURL }) => {
  const server = baseURL ?? defaultServerURL;
  await signInAsAdmin(page);
  await revokeAllAgents(page);
  await openCloudConnect(page);
  const token = await newEnrolmentToken(page);
  const first = startAgent(server, token);
  const { name } = await waitUntilOnline(page, first);

  // The same token again, from another machine: refused, and no second agent.
  const second = startAgent(server, token);
  expect(await second.exitStatus(15_000), second.describe()).toBe(2);
  expect(second.stderr, second.describe()).toMatch(/enrolment token/i);
  expect(await listAgents(page), "agents after the refused enrolment").toHaveLength(1);
  await expect(agentRows(page)).toHaveCount(1);
  expect(first.exited, first.describe()).toBe(false);

  // Revoked after a confirmation: the row goes, and the server drops the agent.
  await agentRows(page).getByRole("button", { name: `Revoke ${name}` }).click();
  const confirm = page.getByRole("dialog", { name: `Revoke “${name}”?` });
  await confirm.getByRole("button", { name: "Revoke", exact: true }).click();
  await expect(toast(page, "Agent revoked")).toBeVisible();
  await expect(confirm).toBeHidden();
  await expect(agentRows(page)).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "No agents registered yet" })).toBeVisible();
  expect(await first.exitStatus(15_000), first.describe()).toBe(3);
  expect(await listAgents(page)).toEqual([]);
});

test("an agent that stops shows offline, and its data sources' tests say so", async ({ page, baseURL }) => {
  await signInAsAdmin(page);
  await revokeAllAgents(page);
  await openCloudConnect(page);
  const token = await newEnrolmentToken(page);
  const agent = startAgent(baseURL ?? defaultServerURL, token);
  const { id: agentId, name: agentName } = await waitUntilOnline(page, agent);

  const { drawer, id } = await addDataSource(page, "Agent goes away");
  await useAgent(page, drawer, agentId, agentName);

  // The agent stops; the open page notices by itself.
  await openCloudConnect(page);
  await agent.stop();
  await expect(agentRows(page).getByTestId("agent-status")).toHaveText("Offline", { timeout: 20_000 });
  await expect(agentRows(page).getByTestId("agent-last-seen")).not.toHaveText("never");

  // The drawer says so, and the connection test fails with a reason that says why.
  await open(page, `/data-sources?open=${id}`);
  const reopened = drawerOf(page);
  const connectors = reopened.getByLabel("Connectors");
  await expect(connectors).toHaveValue(agentId);
  await expect(connectors.locator(`option[value="${agentId}"]`)).toContainText(`${agentName} (offline, last seen `);
  await expect(reopened.getByTestId("connector-offline")).toHaveText(
    "This agent is offline: Procore calls of this data source fail until it reconnects.",
  );
  await toastsGone(page);
  await reopened.getByRole("button", { name: "Test connection" }).click();
  await expect(toast(page, "Connection test failed")).toBeVisible({ timeout: 20_000 });
  await expect(reopened.getByRole("list", { name: "Connection checks" }).getByRole("alert")).toContainText(/offline/i);
});
