// The official @procore/js-sdk against the Procore simulator: if Procore's own client
// works with it, the simulator speaks Procore. Run by scripts/test after the Rust tests
// (which build the procore-sim binary).
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const { homedir } = require("node:os");
const { join } = require("node:path");
const sdk = require("@procore/js-sdk");

const targetDir = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache", "trestle-target");
const bin = process.env.PROCORE_SIM_BIN ?? join(targetDir, "debug", "procore-sim");
const port = Number(process.env.SIM_PORT ?? 4987);
const REDIRECT = "http://127.0.0.1:9/oauth/callback";
const host = `http://127.0.0.1:${port}/developer-sandbox`;
const app = { id: "trestle-sandbox", secret: "sandbox-secret" };
const COMPANY = 4264807;
const PROJECT = 2783001;

let sim;

before(async () => {
  sim = spawn(bin, ["--port", String(port), "--redirect-uri", REDIRECT], { stdio: "inherit" });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/_sim/counters`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("procore-sim did not start");
});

after(() => sim?.kill());

/** Signs in on the simulator's login page and allows the app, as a person would. */
async function authorizationCode() {
  const authorize = `${host}/oauth/authorize?${new URLSearchParams({
    response_type: "code",
    client_id: app.id,
    redirect_uri: REDIRECT,
    state: "conformance",
  })}`;
  const form = await fetch(authorize);
  assert.equal(form.status, 200);
  const login = await fetch(`${host}/oauth/authorize`, {
    method: "POST",
    body: new URLSearchParams({
      step: "login",
      response_type: "code",
      client_id: app.id,
      redirect_uri: REDIRECT,
      state: "conformance",
      email: "sandbox+arch@example.com",
      password: "sandbox",
    }),
  });
  const ticket = (await login.text()).match(/name="ticket" value="([^"]+)"/)[1];
  const consent = await fetch(`${host}/oauth/authorize`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams({ step: "consent", ticket, decision: "allow" }),
  });
  assert.equal(consent.status, 302);
  const back = new URL(consent.headers.get("location"));
  assert.equal(back.searchParams.get("state"), "conformance");
  return back.searchParams.get("code");
}

test("the official js-sdk completes the OAuth flow and reads and writes data", async () => {
  const code = await authorizationCode();
  const tokens = await sdk.token({ id: app.id, secret: app.secret, code, uri: REDIRECT }, host);
  assert.equal(tokens.token_type, "bearer");
  assert.ok(tokens.access_token && tokens.refresh_token);

  const refreshed = await sdk.refresh(
    { id: app.id, secret: app.secret, uri: REDIRECT, token: tokens.access_token, refresh: tokens.refresh_token },
    host,
  );
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

  const info = await sdk.info(refreshed.access_token, host);
  assert.equal(info.resource_owner_id, 4201001);
  assert.equal(info.application.uid, app.id);

  const client = sdk.client(sdk.oauth(refreshed.access_token), undefined, {
    apiHostname: host,
    defaultCompanyId: COMPANY,
  });
  const page = await client.get({ base: "/projects", version: "v1.1", qs: { company_id: COMPANY, per_page: 2, page: 1 } });
  assert.equal(page.response.headers.get("Total"), "4");
  assert.equal(page.body.length, 2);

  const created = await client.post(
    { base: "/projects/{project_id}/rfis", params: { project_id: PROJECT } },
    { rfi: { subject: "Made by the js-sdk", rfi_manager_id: 4201001, question: { body: "Does this work?" } } },
  );
  assert.equal(created.body.subject, "Made by the js-sdk");
  const updated = await client.patch(
    { base: "/projects/{project_id}/rfis", params: { project_id: PROJECT, id: created.body.id } },
    { rfi: { status: "closed" } },
  );
  assert.equal(updated.body.status, "closed");

  const revoked = await sdk.revoke({ token: refreshed.access_token, clientId: app.id, clientSecret: app.secret }, host);
  assert.deepEqual(revoked, {});
  await assert.rejects(client.get({ base: "/me" }));
});
