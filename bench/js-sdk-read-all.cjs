#!/usr/bin/env node
// Reads every RFI of a project with the official @procore/js-sdk, as a typical integration
// does: one page after another, page=1,2,… with a fixed per_page, until a page comes back
// shorter than per_page (or the Total header is reached). A 429 waits Retry-After seconds
// and asks for the same page again.
//
//   node bench/js-sdk-read-all.cjs --api-base http://127.0.0.1:4000/developer-sandbox \
//     --token TOKEN --company 4264807 --project 2783900 --per-page 1000
//
// Prints one JSON line: {"records": N, "requests": R, "throttled": T, "ms": WALL_MS}
// (R counts every request, throttled ones included; ms is the wall time of the reads).
"use strict";
const path = require("node:path");
const sdk = require(require.resolve("@procore/js-sdk", { paths: [path.join(__dirname, "..", "end2end")] }));

function parseArgs(argv) {
  const names = ["api-base", "token", "company", "project", "per-page"];
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !names.includes(m[1])) throw new Error(`unknown argument: ${argv[i]}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    out[m[1]] = value;
  }
  const missing = names.filter((n) => !out[n]);
  if (missing.length) {
    throw new Error(`missing ${missing.map((n) => `--${n}`).join(", ")}\n` +
      "usage: js-sdk-read-all.cjs --api-base URL --token ACCESS_TOKEN --company ID --project ID --per-page N");
  }
  const perPage = Number(out["per-page"]);
  if (!Number.isInteger(perPage) || perPage < 1) throw new Error("--per-page must be a positive integer");
  return { apiBase: out["api-base"].replace(/\/+$/, ""), token: out.token, company: out.company, project: out.project, perPage };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The SDK parses every body as JSON before it looks at the status; an error page that is
// not JSON would then hide the status (and Retry-After). Same work for JSON bodies.
async function lenientJson(response) {
  const text = await response.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const client = sdk.client(sdk.oauth(args.token), undefined, {
    apiHostname: args.apiBase,
    defaultCompanyId: args.company,
  });

  let records = 0;
  let requests = 0;
  let throttled = 0;
  const started = performance.now();
  for (let page = 1; ; page++) {
    let result;
    for (;;) {
      requests++;
      try {
        result = await client.get(
          { base: "/projects/{project_id}/rfis", version: "v1.0", params: { project_id: args.project }, qs: { page, per_page: args.perPage } },
          { companyId: args.company, formatter: lenientJson },
        );
        break;
      } catch (e) {
        // The SDK rejects non-2xx answers with { body, request, response }.
        const status = e?.response?.status;
        if (status === 429) {
          throttled++;
          const wait = Number(e.response.headers.get("Retry-After"));
          await sleep((Number.isFinite(wait) && wait > 0 ? wait : 1) * 1000);
          continue;
        }
        if (status !== undefined) {
          const body = typeof e.body === "string" ? e.body : JSON.stringify(e.body);
          throw new Error(`GET page ${page}: HTTP ${status}: ${body.slice(0, 500)}`);
        }
        throw e;
      }
    }
    if (!Array.isArray(result.body)) throw new Error(`GET page ${page}: expected a JSON array`);
    if (page === 1) {
      const served = Number(result.response.headers.get("Per-Page"));
      if (served && served !== args.perPage) {
        process.stderr.write(`warning: asked for per_page=${args.perPage}, the server uses ${served}\n`);
      }
    }
    records += result.body.length;
    const total = Number(result.response.headers.get("Total"));
    if (result.body.length < args.perPage || (total > 0 && records >= total)) break;
  }
  const ms = Math.round(performance.now() - started);
  process.stdout.write(`${JSON.stringify({ records, requests, throttled, ms })}\n`);
}

main().catch((e) => {
  process.stderr.write(`js-sdk-read-all: ${e?.message ?? e}${e?.cause ? ` (${e.cause.message ?? e.cause})` : ""}\n`);
  process.exit(1);
});
