// DPoP (RFC 9449) at the edge gate, over HTTP in workerd: `Authorization: DPoP` with a `DPoP`
// proof, the replay store in the gate's Durable Object (JwtgateState) shared by two gate
// isolates, and every refusal class: a bound token as a bearer token, a stolen token with the
// thief's key, a proof for another URL, method or token, a replayed proof (also across
// isolates, also concurrently), a missing or doubled proof, and the store's outage (503).
// Access tokens and proofs are made by jose.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as jose from "jose";
import {
  upstream,
  gate,
  gateBindings,
  basePolicy,
  hsToken,
  bearer,
  openGates,
  expectMisconfigured,
  sleep,
  readWranglerToml,
  stateWorker,
  stateOf,
} from "./harness.mjs";
import { gateWorkerOptions } from "../../scripts/workerd.mjs";

after(() => Promise.all([...openGates].map((g) => g.dispose())));

const policy = { ...basePolicy, dpop: { algorithms: ["ES256", "EdDSA"], maxAgeSeconds: 60 } };
const vars = (extra = {}) => ({ JWTGATE_POLICY: JSON.stringify(policy), JWTGATE_DPOP: "allowed", ...extra });
const STATE = { JWTGATE_STATE: "JwtgateState" };
const CHALLENGE = (error, code) =>
  `DPoP realm="app.example", algs="ES256 EdDSA", error="${error}", error_description="${code}"`;

const holder = await jose.generateKeyPair("ES256", { extractable: true });
const holderJwk = await jose.exportJWK(holder.publicKey);
const jkt = await jose.calculateJwkThumbprint(holderJwk);
const thief = await jose.generateKeyPair("ES256", { extractable: true });
const thiefJwk = await jose.exportJWK(thief.publicKey);
const ath = (t) => createHash("sha256").update(t).digest("base64url");

const boundToken = (claims = {}) => hsToken({ cnf: { jkt }, sid: "s-1", ...claims });
async function proof(token, { key = holder.privateKey, jwk = holderJwk, claims = {} } = {}) {
  return new jose.SignJWT({
    jti: crypto.randomUUID(),
    htm: "GET",
    htu: "https://app.example/orders",
    iat: Math.floor(Date.now() / 1000),
    ath: ath(token),
    ...claims,
  })
    .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk })
    .sign(key);
}
const dpopHeaders = (token, p) => ({ authorization: `DPoP ${token}`, dpop: p });

async function refused(r, status, wwwAuthenticate, reason) {
  assert.equal(r.status, status, `${reason}: ${r.status} ${r.headers.get("www-authenticate")}`);
  if (wwwAuthenticate) assert.equal(r.headers.get("www-authenticate"), wwwAuthenticate);
  const body = await r.json();
  assert.equal(body.reason ?? body.error, reason);
}

test("a bound token with its proof passes once, with the proof and identity upstream", async () => {
  const g = await gate(vars(), { durableObjects: STATE });
  const token = await boundToken();
  const p = await proof(token);
  const before = upstream.hits.length;
  const r = await g.fetch("/orders?page=2", { headers: { ...dpopHeaders(token, p), "x-jwtgate-sub": "admin" } });
  assert.equal(r.status, 200, await r.clone().text());
  const hit = upstream.hits.at(-1);
  assert.equal(upstream.hits.length, before + 1);
  assert.equal(hit.headers.authorization, `DPoP ${token}`);
  assert.equal(hit.headers.dpop, p);
  assert.equal(hit.headers["x-jwtgate-sub"], "user_1");
  // The same proof again: replayed, and the upstream is not reached.
  await refused(await g.fetch("/orders", { headers: dpopHeaders(token, p) }), 401, CHALLENGE("invalid_dpop_proof", "replayed"), "replayed");
  assert.equal(upstream.hits.length, before + 1);
  // A fresh proof passes; the token came from the verified-token cache this time.
  assert.equal((await g.fetch("/orders", { headers: dpopHeaders(token, await proof(token)) })).status, 200);
  // Missing gate answers advertise both schemes.
  const none = await g.fetch("/orders");
  assert.equal(none.headers.get("www-authenticate"), `Bearer realm="app.example", DPoP realm="app.example", algs="ES256 EdDSA"`);
  await g.dispose();
});

test("a bound token never passes as a bearer token, cached or not, proof header or not", async () => {
  const g = await gate(vars(), { durableObjects: STATE });
  const token = await boundToken();
  const before = upstream.hits.length;
  await refused(
    await g.fetch("/orders", { headers: bearer(token) }),
    401,
    `Bearer realm="app.example", error="invalid_token", error_description="dpop_binding"`,
    "dpop_binding",
  );
  // Cached by a DPoP request, then presented as a bearer token (with the proof beside it).
  assert.equal((await g.fetch("/orders", { headers: dpopHeaders(token, await proof(token)) })).status, 200);
  await refused(await g.fetch("/orders", { headers: { ...bearer(token), dpop: await proof(token) } }), 401, null, "dpop_binding");
  assert.equal(upstream.hits.length, before + 1);
  // A gate without DPoP refuses it too (the core's rule), and takes no DPoP scheme at all.
  const plain = await gate({ JWTGATE_POLICY: JSON.stringify(basePolicy) });
  await refused(await plain.fetch("/orders", { headers: bearer(token) }), 401, null, "dpop_binding");
  await refused(await plain.fetch("/orders", { headers: dpopHeaders(token, await proof(token)) }), 401, `Bearer realm="app.example"`, "missing_token");
  assert.equal(upstream.hits.length, before + 1);
  await plain.dispose();
  await g.dispose();
});

test("stolen token, another request, another token: refused before the upstream", async () => {
  const g = await gate(vars(), { durableObjects: STATE });
  const token = await boundToken();
  const before = upstream.hits.length;
  const cases = [
    [proof(token, { key: thief.privateKey, jwk: thiefJwk }), "invalid_token", "dpop_binding"],
    [proof(token, { key: thief.privateKey }), "invalid_dpop_proof", "dpop_proof"],
    [proof(token, { claims: { htu: "https://app.example/orders/other" } }), "invalid_dpop_proof", "dpop_proof"],
    [proof(token, { claims: { htu: "https://evil.example/orders" } }), "invalid_dpop_proof", "dpop_proof"],
    [proof(token, { claims: { htm: "POST" } }), "invalid_dpop_proof", "dpop_proof"],
    [proof(token, { claims: { ath: ath(await boundToken()) } }), "invalid_dpop_proof", "dpop_proof"],
    [proof(token, { claims: { iat: Math.floor(Date.now() / 1000) - 600 } }), "invalid_dpop_proof", "dpop_proof"],
  ];
  for (const [p, error, reason] of cases) {
    await refused(await g.fetch("/orders", { headers: dpopHeaders(token, await p) }), 401, CHALLENGE(error, reason), reason);
  }
  // No proof, an empty one, two of them.
  const p = await proof(token);
  await refused(await g.fetch("/orders", { headers: { authorization: `DPoP ${token}` } }), 401, CHALLENGE("invalid_dpop_proof", "dpop_proof"), "dpop_proof");
  const two = new Headers({ authorization: `DPoP ${token}` });
  two.append("dpop", p);
  two.append("dpop", await proof(token));
  await refused(await g.fetch("/orders", { headers: two }), 401, null, "dpop_proof");
  // An unbound token with the DPoP scheme.
  const plain = await hsToken();
  await refused(await g.fetch("/orders", { headers: dpopHeaders(plain, await proof(plain)) }), 401, CHALLENGE("invalid_token", "dpop_binding"), "dpop_binding");
  assert.equal(upstream.hits.length, before, "a refused request reached the upstream");
  // The untouched proof still works: refusals above used up nothing.
  assert.equal((await g.fetch("/orders", { headers: dpopHeaders(token, p) })).status, 200);
  await g.dispose();
});

test("an unbound bearer token still passes in allowed mode, without any DPoP header upstream", async () => {
  const g = await gate(vars(), { durableObjects: STATE });
  const token = await hsToken();
  const r = await g.fetch("/orders", { headers: { ...bearer(token), dpop: await proof(token), DPoP: "x" } });
  assert.equal(r.status, 200);
  assert.equal(upstream.hits.at(-1).headers.dpop, undefined);
  await g.dispose();
});

test("two gate isolates share one replay store: a proof is good once across both, even at once", async () => {
  const b = {
    name: "gate-b",
    ...gateWorkerOptions(gateBindings(vars())),
    durableObjects: { JWTGATE_STATE: { className: "JwtgateState", scriptName: "gate" } },
  };
  const g = await gate(vars(), { durableObjects: STATE, extraWorkers: [b] });
  const token = await boundToken();
  const p = await proof(token);
  assert.equal((await g.fetch("/orders", { headers: dpopHeaders(token, p) })).status, 200);
  await refused(await g.fetchFrom("gate-b", "/orders", { headers: dpopHeaders(token, p) }), 401, null, "replayed");
  // Concurrent: the same fresh proof to both isolates, several times over.
  for (let i = 0; i < 5; i++) {
    const q = await proof(token);
    const answers = await Promise.all([
      g.fetch("/orders", { headers: dpopHeaders(token, q) }),
      g.fetchFrom("gate-b", "/orders", { headers: dpopHeaders(token, q) }),
      g.fetchFrom("gate-b", "/orders", { headers: dpopHeaders(token, q) }),
    ]);
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 401, 401], `round ${i}`);
    for (const r of answers) if (r.status === 401) assert.equal((await r.json()).reason, "replayed");
  }
  await g.dispose();
});

test("the proof names the method exactly as received", async () => {
  const g = await gate(vars(), { durableObjects: STATE });
  const token = await boundToken();
  for (const method of ["PURGE", "PROPFIND", "PATCH"]) {
    const r = await g.fetch("/orders", { method, headers: dpopHeaders(token, await proof(token)) });
    await refused(r, 401, CHALLENGE("invalid_dpop_proof", "dpop_proof"), "dpop_proof");
  }
  const purge = await proof(token, { claims: { htm: "PURGE" } });
  assert.equal((await g.fetch("/orders", { method: "PURGE", headers: dpopHeaders(token, purge) })).status, 200);
  assert.equal(upstream.hits.at(-1).method, "PURGE");
  await g.dispose();
});

test("the store itself: a window over by its clock is refused, a key is kept once", async () => {
  const g = await gate(vars(), { durableObjects: STATE });
  const ns = await g.mf.getDurableObjectNamespace("JWTGATE_STATE");
  const stub = ns.get(ns.idFromName("dpop:test"));
  const put = (body) => stub.fetch("https://state/replay", { method: "POST", body: JSON.stringify(body) });
  const now = Math.floor(Date.now() / 1000);
  assert.equal((await put({ key: "k1", until: now - 1 })).status, 409, "window already over");
  assert.equal((await put({ key: "k1", until: now + 60 })).status, 200, "nothing was written for it");
  assert.equal((await put({ key: "k1", until: now + 60 })).status, 409);
  for (const bad of [{}, { key: "", until: now + 60 }, { key: "x".repeat(129), until: now + 60 }, { key: "k", until: "soon" }]) {
    assert.equal((await put(bad)).status, 400, JSON.stringify(bad));
  }
  assert.equal((await stub.fetch("https://state/replay")).status, 404);
  await g.dispose();
});

test("the replay store unreachable: 503 with Retry-After, never a pass", async () => {
  const g = await gate(vars(), stateOf(stateWorker("broken-state", `throw new Error("storage down");`)));
  const token = await boundToken();
  const before = upstream.hits.length;
  const r = await g.fetch("/orders", { headers: dpopHeaders(token, await proof(token)) });
  assert.equal(r.status, 503);
  assert.equal(r.headers.get("retry-after"), "5");
  assert.deepEqual(await r.json(), { error: "temporarily_unavailable", reason: "replay_unavailable" });
  assert.equal(upstream.hits.length, before);
  // Bearer traffic of unbound tokens does not need the store.
  assert.equal((await g.fetch("/orders", { headers: bearer(await hsToken()) })).status, 200);
  await sleep(20);
  assert.ok(g.logs.some((l) => l.includes("replay_store_failed")), g.logs.join("\n"));
  await g.dispose();
  // Another class bound as the store, answering 200 to everything, is no store either.
  const h = await gate(vars(), stateOf(stateWorker("yes-state", `return new Response("ok");`)));
  const again = await h.fetch("/orders", { headers: dpopHeaders(token, await proof(token)) });
  assert.equal(again.status, 503);
  assert.equal(upstream.hits.length, before + 1);
  await h.dispose();
});

test("a revoked session is refused before its proof is recorded", async () => {
  const g = await gate(vars(), { durableObjects: STATE, kv: true });
  const token = await boundToken({ sid: "revoked-sid" });
  await (await g.mf.getKVNamespace("JWTGATE_REVOKED")).put("sid:revoked-sid", "1");
  const p = await proof(token);
  await refused(await g.fetch("/orders", { headers: dpopHeaders(token, p) }), 401, CHALLENGE("invalid_token", "revoked"), "revoked");
  await g.dispose();
});

test("required mode takes only the DPoP scheme", async () => {
  const g = await gate(vars({ JWTGATE_DPOP: "required", JWTGATE_COOKIES: "none" }), { durableObjects: STATE });
  const none = await g.fetch("/orders");
  assert.equal(none.headers.get("www-authenticate"), `DPoP realm="app.example", algs="ES256 EdDSA"`);
  await refused(await g.fetch("/orders", { headers: bearer(await hsToken()) }), 401, CHALLENGE("invalid_token", "dpop_binding"), "dpop_binding");
  const token = await boundToken();
  assert.equal((await g.fetch("/orders", { headers: dpopHeaders(token, await proof(token)) })).status, 200);
  await g.dispose();
});

test("DPoP settings that cannot work are refused", async () => {
  const withState = { durableObjects: STATE };
  await expectMisconfigured(vars(), "JWTGATE_DPOP"); // no replay store
  await expectMisconfigured(vars({ JWTGATE_DPOP: "on" }), "JWTGATE_DPOP", withState);
  await expectMisconfigured(vars({ JWTGATE_DPOP: undefined }), "JWTGATE_DPOP", withState); // policy dpop without the setting
  await expectMisconfigured({ JWTGATE_DPOP: undefined }, "JWTGATE_STATE", withState); // store without DPoP
  await expectMisconfigured({ JWTGATE_DPOP: "allowed" }, "JWTGATE_DPOP", withState); // no policy dpop
  await expectMisconfigured(vars({ JWTGATE_DPOP: "required" }), "JWTGATE_DPOP", withState); // cookies still on
  await expectMisconfigured(vars({ JWTGATE_STATE: "my-namespace" }), "JWTGATE_STATE");
});

test("docs/gate.md's DPoP wrangler.toml is what wrangler reads and the gate accepts", async () => {
  const doc = readFileSync(new URL("../../docs/gate.md", import.meta.url), "utf8");
  const section = doc.slice(doc.indexOf("## DPoP"));
  const block = /```toml\n([\s\S]*?)```/.exec(section)[1];
  const config = readWranglerToml(block);
  assert.deepEqual(config.durable_objects.bindings, [{ name: "JWTGATE_STATE", class_name: "JwtgateState" }]);
  assert.deepEqual(config.migrations[0].new_sqlite_classes, ["JwtgateState"]);
  // The built Worker exports the class the binding names.
  const index = readFileSync(new URL("../../build/index.js", import.meta.url), "utf8");
  assert.match(index, /as JwtgateState[,}]/);
  const issuer = await jose.generateKeyPair("ES256", { extractable: true });
  const pub = { ...(await jose.exportJWK(issuer.publicKey)), kid: "as-1", alg: "ES256" };
  const g = await gate({ ...config.vars, JWTGATE_KEYS: JSON.stringify({ keys: [pub] }) }, { durableObjects: STATE });
  const token = await new jose.SignJWT({ sub: "u", cnf: { jkt } })
    .setProtectedHeader({ alg: "ES256", kid: "as-1" })
    .setIssuer("https://as.example")
    .setAudience("orders-api")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(issuer.privateKey);
  assert.equal((await g.fetch("/orders", { headers: dpopHeaders(token, await proof(token)) })).status, 200);
  await g.dispose();
});

test("server nonces: a proof without the gate's nonce is refused with one to retry with", async () => {
  const g = await gate(vars({ JWTGATE_DPOP_NONCE_SECRET: "nonce-secret-0123456789abcdefghijklmnop" }), { durableObjects: STATE });
  const token = await boundToken();
  const before = upstream.hits.length;
  const first = await g.fetch("/orders", { headers: dpopHeaders(token, await proof(token)) });
  await refused(first, 401, CHALLENGE("use_dpop_nonce", "use_dpop_nonce"), "use_dpop_nonce");
  const nonce = first.headers.get("dpop-nonce");
  assert.match(nonce, /^[A-Za-z0-9_-]{32}$/);
  // A forged or foreign nonce is no better.
  const forged = nonce.slice(0, -2) + (nonce.endsWith("AA") ? "BA" : "AA");
  const bad = await g.fetch("/orders", { headers: dpopHeaders(token, await proof(token, { claims: { nonce: forged } })) });
  await refused(bad, 401, null, "use_dpop_nonce");
  // A nonce that is not a string is no nonce: the same refusal, with one to retry with.
  const junk = await g.fetch("/orders", { headers: dpopHeaders(token, await proof(token, { claims: { nonce: 7 } })) });
  await refused(junk, 401, CHALLENGE("use_dpop_nonce", "use_dpop_nonce"), "use_dpop_nonce");
  assert.ok(junk.headers.get("dpop-nonce"));
  assert.equal(upstream.hits.length, before);
  // With the nonce: through.
  const ok = await g.fetch("/orders", { headers: dpopHeaders(token, await proof(token, { claims: { nonce } })) });
  assert.equal(ok.status, 200);
  await g.dispose();
  // Another gate with another secret does not take it; nonces need DPoP and 32 bytes.
  const other = await gate(vars({ JWTGATE_DPOP_NONCE_SECRET: "another-secret-0123456789abcdefghijklmnop" }), { durableObjects: STATE });
  await refused(await other.fetch("/orders", { headers: dpopHeaders(token, await proof(token, { claims: { nonce } })) }), 401, null, "use_dpop_nonce");
  await other.dispose();
  await expectMisconfigured({ JWTGATE_DPOP_NONCE_SECRET: "nonce-secret-0123456789abcdefghijklmnop" }, "JWTGATE_DPOP_NONCE_SECRET");
  await expectMisconfigured(vars({ JWTGATE_DPOP_NONCE_SECRET: "short" }), "JWTGATE_DPOP_NONCE_SECRET", { durableObjects: STATE });
});
