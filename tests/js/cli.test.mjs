// `jwtgate explain` (pkg/bin/jwtgate.cjs), as users run it: a child process reading the token on
// standard input, over tokens jose signs. Its verdicts agree with the package's own Verifier, it
// never prints the signature, escapes whatever a token's claims carry, refuses a token given as
// an argument, and touches no network (checked in-process with fetch and http patched).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as jose from "jose";

const require = createRequire(import.meta.url);
const cli = fileURLToPath(new URL("../../pkg/bin/jwtgate.cjs", import.meta.url));
const { Verifier } = require("../../pkg/node/index.cjs");

const ISS = "https://issuer.example";
const AUD = "orders-api";
const dir = mkdtempSync(join(tmpdir(), "jwtgate-cli-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
const jwks = { keys: [{ ...(await jose.exportJWK(publicKey)), kid: "es-1" }] };
const policy = { issuer: ISS, audience: AUD, algorithms: ["ES256"], keys: jwks, requiredClaims: ["sub", "email"] };
const policyFile = join(dir, "policy.json");
writeFileSync(policyFile, JSON.stringify(policy));
const keylessFile = join(dir, "keyless.json");
writeFileSync(keylessFile, JSON.stringify({ ...policy, keys: undefined }));
const jwksFile = join(dir, "jwks.json");
writeFileSync(jwksFile, JSON.stringify(jwks));

const sign = (claims = {}, { aud = AUD, exp = "10m" } = {}) =>
  new jose.SignJWT({ sub: "user_1", email: "ada@example.com", ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "es-1", typ: "JWT" })
    .setIssuer(ISS)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(privateKey);

const run = (args, input) => {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const codeOf = (token) => {
  try {
    new Verifier(policy, { cacheSize: 0 }).verify(token);
    return "ok";
  } catch (e) {
    return e.code;
  }
};

test("a valid token: every stage and rule passes, exit 0, the signature is never printed", async () => {
  const token = await sign();
  const { code, out } = run(["explain", "--policy", policyFile], `${token}\n`);
  assert.equal(code, 0, out);
  assert.match(out, /^result: valid$/m);
  for (const stage of ["size", "structure", "algorithm", "header", "key", "signature", "claims"])
    assert.match(out, new RegExp(`^    ${stage} +pass$`, "m"), stage);
  assert.match(out, /signature: 64 bytes, not shown/);
  assert.match(out, /exp +\d+ +\d{4}-\d\d-\d\dT[\d:.]+Z \(in (10m|9m 5\ds)\)/);
  assert.ok(!out.includes(token.split(".")[2]), "signature printed");
});

test("a refused token: each failing rule is shown, the result is verify's first failure, exit 1", async () => {
  const token = await sign({ email: null }, { aud: "billing-api", exp: "-5m" });
  assert.equal(codeOf(token), "expired");
  const { code, out } = run(["explain", "--policy", policyFile], token);
  assert.equal(code, 1, out);
  assert.match(out, /^    exp +FAIL  expired \(exp\)/m);
  assert.match(out, /^    aud +FAIL  audience \(aud\)/m);
  assert.match(out, /^    required email +FAIL  missing_claim \(email\)/m);
  assert.match(out, /^    claims +FAIL  expired/m);
  assert.match(out, /^result: refused: expired \(exp\)$/m);
  // A forged signature stops at the signature stage; the claims are still shown, unverified.
  const other = await jose.generateKeyPair("ES256");
  const forged = await new jose.SignJWT({ sub: "admin" }).setProtectedHeader({ alg: "ES256", kid: "es-1" })
    .setIssuer(ISS).setAudience(AUD).setExpirationTime("10m").sign(other.privateKey);
  const f = run(["explain", "--policy", policyFile, "--json"], forged);
  assert.equal(f.code, 1);
  const e = JSON.parse(f.out);
  assert.equal(e.result.code, codeOf(forged));
  assert.deepEqual(e.stages.map((s) => s.verdict), ["pass", "pass", "pass", "pass", "pass", "fail", "not_run"]);
  assert.equal(e.claims.sub, "admin");
  assert.ok(!f.out.includes(forged.split(".")[2]));
});

test("claims cannot drive the terminal: control, C1 and bidi characters are escaped", async () => {
  const token = await sign({ name: "a\u001b[2J\u001b]0;pwned\u0007b\u009b31m\u202egnp.exe" });
  const { out } = run(["explain"], token);
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u.test(out), JSON.stringify(out));
  assert.match(out, /\\u001b\[2J/);
  assert.match(out, /\\u202e/);
});

test("malformed input and usage errors are explained, never echo the token", async () => {
  const token = await sign();
  const asArg = run(["explain", token], "");
  assert.equal(asArg.code, 2);
  assert.match(asArg.err, /standard input/);
  assert.ok(!asArg.err.includes(token) && !asArg.out.includes(token));
  const twoParts = run(["explain"], "eyJhbGciOiJIUzI1NiJ9.%%%");
  assert.equal(twoParts.code, 0);
  assert.match(twoParts.out, /2 segments \(a compact JWS has 3\)/);
  assert.match(twoParts.out, /^header \(unverified\):$/m);
  assert.match(twoParts.out, /^claims \(unverified\): not base64url$/m);
  const dup = `${Buffer.from('{"alg":"ES256","alg":"none"}').toString("base64url")}.${token.split(".")[1]}.${token.split(".")[2]}`;
  const d = run(["explain", "--policy", policyFile], dup);
  assert.equal(d.code, 1);
  assert.match(d.out, /header \(unverified\): not a strict JSON object/);
  assert.match(d.out, /^    structure +FAIL  malformed/m);
  assert.equal(run(["explain"], "").code, 2);
  assert.equal(run(["explain", "--policy", join(dir, "missing.json")], token).code, 2);
  const bad = run(["explain", "--policy", keylessFile], token);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /policy is not valid \(keys\)/);
  assert.equal(run(["frobnicate"], token).code, 2);
  assert.equal(run(["--help"], "").code, 0);
});

test("--jwks supplies the policy's keys; --now checks at another time", async () => {
  const token = await sign({}, { exp: "10m" });
  const { code, out } = run(["explain", "--policy", keylessFile, "--jwks", jwksFile], token);
  assert.equal(code, 0, out);
  const later = run(["explain", "--policy", policyFile, "--now", String(Math.floor(Date.now() / 1000) + 7200)], token);
  assert.equal(later.code, 1);
  assert.match(later.out, /^result: refused: expired \(exp\)$/m);
});

test("explain sends nothing anywhere: no fetch, http, https or net call in a whole run", async () => {
  const http = require("node:http");
  const https = require("node:https");
  const net = require("node:net");
  const calls = [];
  const saved = [globalThis.fetch, http.request, https.request, net.connect, net.createConnection];
  globalThis.fetch = (...a) => calls.push(["fetch", a]);
  http.request = https.request = net.connect = net.createConnection = (...a) => calls.push(["socket", a]);
  try {
    const { main } = require(cli);
    const token = await sign();
    const out = [];
    const sink = { write: (s) => out.push(s) };
    assert.equal(main(["explain", "--policy", policyFile], () => Buffer.from(token), sink, sink), 0);
    assert.match(out.join(""), /result: valid/);
  } finally {
    [globalThis.fetch, http.request, https.request, net.connect, net.createConnection] = saved;
  }
  assert.deepEqual(calls, []);
});
