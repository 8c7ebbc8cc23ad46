#!/usr/bin/env node
"use strict";
// `jwtgate explain`: looks inside a token on this machine, without pasting it into a website.
// The token is read from standard input only (never an argument: shell history and `ps` would
// keep it). Nothing is sent anywhere: this file loads no network module, and the checks are the
// package's own (`explain` in the wasm: the verifier's stages and claim rules, never a second
// implementation). The signature is never printed, only its length.
const fs = require("node:fs");
const path = require("node:path");

const USAGE = `usage: jwtgate explain [--policy policy.json] [--jwks jwks.json] [--now SECONDS] [--json] < token

  Decodes the token from standard input (header and claims, unverified; times as dates and
  durations) and, given a jwtgate policy (JSON), runs every verification stage and claim rule and
  prints each verdict, then the result verify() would give.

  --policy FILE  a jwtgate policy (docs/policy.md); its keys check the signature
  --jwks FILE    a JWKS to use as the policy's keys (e.g. your issuer's published set)
  --now SECONDS  check at this time (seconds since the epoch) instead of now
  --json         print the explanation as JSON

exit status: 0 valid (or decoded, without a policy), 1 refused, 2 usage or configuration error`;

const MAX_INPUT = 1 << 20;

class UsageError extends Error {}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === "-h" || command === "--help") return { help: true };
  if (command !== "explain") throw new UsageError(command ? `unknown command ${printable(command)}` : "no command");
  const opts = { json: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => {
      if (i + 1 >= rest.length) throw new UsageError(`${arg} needs a value`);
      return rest[++i];
    };
    if (arg === "--policy") opts.policy = value();
    else if (arg === "--jwks") opts.jwks = value();
    else if (arg === "--now") {
      const n = Number(value());
      if (!Number.isSafeInteger(n)) throw new UsageError("--now takes whole seconds since the epoch");
      opts.now = n;
    } else if (arg === "--json") opts.json = true;
    else if (arg === "-h" || arg === "--help") return { help: true };
    else if (arg.includes(".") && arg.split(".").length === 3)
      throw new UsageError("pass the token on standard input, not as an argument (it would stay in shell history)");
    else throw new UsageError(`unknown option ${printable(arg)}`);
  }
  return opts;
}

function readJson(file, what) {
  let text;
  try {
    text = fs.readFileSync(path.resolve(file), "utf8");
  } catch (e) {
    throw new UsageError(`cannot read the ${what} ${printable(file)}: ${e.code ?? e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`the ${what} ${printable(file)} is not JSON`);
  }
}

/**
 * A value as one line of terminal-safe text: JSON (control characters escaped), with DEL, C1
 * controls and bidirectional overrides escaped too, so a token's claims cannot move the cursor,
 * recolour the terminal or reorder what is shown.
 */
function printable(value) {
  const text = typeof value === "string" ? JSON.stringify(value).slice(1, -1) : JSON.stringify(value);
  return text.replace(/[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function duration(seconds) {
  const s = Math.abs(seconds);
  const units = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];
  const parts = [];
  let left = s;
  for (const [name, size] of units) {
    if (left >= size && parts.length < 2) {
      parts.push(`${Math.floor(left / size)}${name}`);
      left %= size;
    }
  }
  if (!parts.length) return "now";
  const text = parts.join(" ");
  return seconds > 0 ? `in ${text}` : `${text} ago`;
}

const TIME_CLAIMS = new Set(["exp", "nbf", "iat", "auth_time"]);

function showObject(out, title, obj, now) {
  if (obj && typeof obj.error === "string" && Object.keys(obj).length === 1) {
    out.push(`${title}: ${obj.error}`);
    return;
  }
  out.push(`${title}:`);
  const width = Math.min(24, Math.max(0, ...Object.keys(obj).map((k) => printable(k).length)));
  for (const [k, v] of Object.entries(obj)) {
    let line = `  ${printable(k).padEnd(width)}  ${printable(v)}`;
    if (TIME_CLAIMS.has(k) && typeof v === "number" && Number.isFinite(v) && Math.abs(v) < 1e13) {
      line += `  ${new Date(v * 1000).toISOString()} (${duration(Math.floor(v) - now)})`;
    }
    out.push(line);
  }
}

function verdictText(v) {
  if (v.verdict !== "fail") return v.verdict === "not_run" ? "not run" : "pass";
  const claim = v.claim ? ` (${printable(v.claim)})` : "";
  return `FAIL  ${v.code}${claim}: ${printable(v.message)}`;
}

function render(e, { now, policyFile }) {
  const out = [];
  const sig = e.signatureBytes === null ? "not base64url" : `${e.signatureBytes} bytes, not shown`;
  out.push(`token: ${e.segments} segment${e.segments === 1 ? "" : "s"}${e.segments === 3 ? "" : " (a compact JWS has 3)"}; signature: ${sig}`);
  showObject(out, "header (unverified)", e.header, now);
  showObject(out, "claims (unverified)", e.claims, now);
  if (e.result === null) {
    out.push("no policy given: nothing was verified (--policy policy.json checks every rule)");
    return out.join("\n");
  }
  out.push(`policy ${printable(policyFile)}, at ${new Date(now * 1000).toISOString()}:`);
  const w = Math.max(...e.stages.map((s) => s.stage.length), ...e.rules.map((r) => printable(r.rule).length));
  out.push("  stages");
  for (const s of e.stages) out.push(`    ${s.stage.padEnd(w)}  ${verdictText(s)}`);
  if (e.rules.length) {
    out.push("  claim rules (each run, whatever failed before)");
    for (const r of e.rules) out.push(`    ${printable(r.rule).padEnd(w)}  ${verdictText(r)}`);
  }
  const claim = e.result.claim ? ` (${printable(e.result.claim)})` : "";
  out.push(e.result.ok ? "result: valid" : `result: refused: ${e.result.code}${claim}`);
  return out.join("\n");
}

function main(argv, stdin, stdout, stderr) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    stderr.write(`jwtgate: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    let policy = null;
    if (opts.policy) policy = readJson(opts.policy, "policy");
    if (opts.jwks) {
      if (!policy) throw new UsageError("--jwks needs a --policy to add the keys to");
      policy = { ...policy, keys: readJson(opts.jwks, "JWKS") };
    }
    const input = stdin();
    if (input.length > MAX_INPUT) throw new UsageError(`the input is over ${MAX_INPUT} bytes`);
    const token = input.toString("utf8").trim();
    if (!token) throw new UsageError("no token on standard input");
    const { explain } = require("../node/index.cjs");
    const now = opts.now ?? Math.floor(Date.now() / 1000);
    let e;
    try {
      e = explain(token, policy, { now });
    } catch (err) {
      if (err?.name !== "JwtGateError") throw err;
      const field = err.field ? ` (${printable(err.field)})` : "";
      throw new UsageError(`the policy is not valid${field}: ${printable(err.message)}`);
    }
    stdout.write(`${opts.json ? JSON.stringify(e, null, 2) : render(e, { now, policyFile: opts.policy })}\n`);
    return e.result === null || e.result.ok ? 0 : 1;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    stderr.write(`jwtgate: ${e.message}\n`);
    return 2;
  }
}

module.exports = { main, printable };

if (require.main === module) {
  if (process.stdin.isTTY && process.argv[2] === "explain") process.stderr.write("paste the token, then press Ctrl-D\n");
  process.exitCode = main(process.argv.slice(2), () => fs.readFileSync(0), process.stdout, process.stderr);
}
