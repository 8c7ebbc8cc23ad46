// The gate's hardening over HTTP, one attack per test: revocation a refresh cannot launder,
// revocation settings that could silently do nothing, and JWKS fetches an attacker (or a broken
// issuer) could bend. Each test states the attack, then checks the gate's answer and what
// reached the upstream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Response as MfResponse } from "miniflare";
import {
  sleep,
  nowS,
  upstream,
  jwks,
  resetJwks,
  keyA,
  pubA,
  hsToken,
  esToken,
  gate,
  bearer,
  expectInvalid,
  jwksVars as harnessJwksVars,
  expectMisconfigured,
} from "./harness.mjs";


// ---------------------------------------------------------------- revocation
test("a refresh does not launder a revoked session: sub cut-off by session start, sid entries", async () => {
  const g = await gate({}, { kv: true });
  const kv = await g.mf.getKVNamespace("JWTGATE_REVOKED");
  const now = nowS();
  // The attack: a session stolen an hour ago is refreshed (new iat, new jti) after the subject
  // was cut off. Compared with iat it would pass; compared with the session start it must not.
  const signedIn = now - 3600;
  await kv.put("sub:u-stolen", String(now - 60));
  const refreshed = await hsToken({ sub: "u-stolen", auth_time: signedIn, sid: "s-stolen" });
  await expectInvalid(g, refreshed, "revoked");
  // A session that started after the cut-off (signed in again) passes.
  const fresh = await hsToken({ sub: "u-stolen", auth_time: now - 10, sid: "s-new" });
  assert.equal((await g.fetch("/orders", { headers: bearer(fresh) })).status, 200);
  // Without auth_time, the session start is iat: a token issued after the cut-off passes.
  assert.equal((await g.fetch("/orders", { headers: bearer(await hsToken({ sub: "u-stolen" })) })).status, 200);

  // sid: one session, whatever jti it is re-issued with; other sessions of the subject pass.
  const first = await hsToken({ sub: "u-sid", sid: "s-1", auth_time: now - 100 });
  assert.equal((await g.fetch("/orders", { headers: bearer(first) })).status, 200); // now cached
  await kv.put("sid:s-1", "1");
  await expectInvalid(g, first, "revoked");
  await expectInvalid(g, await hsToken({ sub: "u-sid", sid: "s-1", auth_time: now - 100 }), "revoked");
  assert.equal(
    (await g.fetch("/orders", { headers: bearer(await hsToken({ sub: "u-sid", sid: "s-2" })) })).status,
    200,
  );

  // A cut-off that is not a number denies every session of the subject (fail closed).
  await kv.put("sub:u-garbled", "yesterday");
  await expectInvalid(g, await hsToken({ sub: "u-garbled" }), "revoked");
  // A sid that is not a string cannot be looked up: refused, not skipped.
  await expectInvalid(g, await hsToken({ sub: "u-x", sid: 42 }), "malformed");
  await g.dispose();
});

test("revocation settings that would silently do nothing are configuration errors", async () => {
  // A plain variable where the KV binding should be: no list would ever be consulted.
  await expectMisconfigured({ JWTGATE_REVOKED: "my-revocation-namespace" }, "JWTGATE_REVOKED");
  // Failing open from a list that is not there.
  await expectMisconfigured({ JWTGATE_REVOCATION_FAIL_OPEN: "true" }, "JWTGATE_REVOCATION_FAIL_OPEN");
  await expectMisconfigured({ JWTGATE_REVOCATION_FAIL_OPEN: "yes" }, "JWTGATE_REVOCATION_FAIL_OPEN", { kv: true });
});

test("failing open skips only failed lookups: a claim too long to be listed is refused, and other entries apply", async () => {
  const g = await gate({ JWTGATE_REVOCATION_FAIL_OPEN: "true" }, { kv: true });
  const kv = await g.mf.getKVNamespace("JWTGATE_REVOKED");
  // The attack: a jti longer than a KV key makes its lookup fail; failing open must not turn
  // that into a pass for a revoked subject (nor for anyone: such a token can never be revoked).
  await kv.put("sub:u-long", String(nowS() + 60));
  const long = "j".repeat(600);
  await expectInvalid(g, await hsToken({ sub: "u-long", jti: long }), "revoked");
  await expectInvalid(g, await hsToken({ sub: "u-fine", jti: long }), "revoked");
  await expectInvalid(g, await hsToken({ sub: "u-fine", sid: "s".repeat(600) }), "revoked");
  // Fail-open does not weaken a lookup that worked.
  await expectInvalid(g, await hsToken({ sub: "u-long" }), "revoked");
  assert.equal((await g.fetch("/orders", { headers: bearer(await hsToken({ sub: "u-fine" })) })).status, 200);
  await g.dispose();
});

// ---------------------------------------------------------------- JWKS fetches
// A short timeout, so stalled fetches end quickly.
const jwksVars = (extra = {}) => harnessJwksVars({ JWTGATE_JWKS_TIMEOUT_MS: "500", ...extra });

async function expectJwksUnavailable(g, logPart) {
  const r = await g.fetch("/orders", { headers: bearer(await esToken(keyA, "a1")) });
  assert.equal(r.status, 503);
  assert.equal((await r.json()).reason, "jwks_unavailable");
  await sleep(50);
  assert.ok(g.logs.some((l) => l.includes(logPart)), `${logPart}: ${g.logs.join("\n")}`);
}

test("a JWKS redirect is not followed: the issuer's keys come from the configured URL only", async () => {
  // The attack: an open redirect on the issuer's host (or a compromised path) points the gate at
  // a key set the attacker controls. The gate must not follow it.
  const evil = { hits: 0 };
  const before = upstream.hits.length;
  resetJwks(JSON.stringify({ keys: [pubA] }));
  jwks.status = 302;
  jwks.headers = { location: `${upstream.url}/attacker-jwks.json` };
  const g = await gate(jwksVars());
  await expectJwksUnavailable(g, "302");
  evil.hits = upstream.hits.slice(before).filter((h) => h.url.includes("attacker")).length;
  assert.equal(evil.hits, 0, "the redirect was followed");
  await g.dispose();
  resetJwks();
});

test("a JWKS answer that is not 200 is refused, even with a key set in its body", async () => {
  for (const status of [203, 206, 404, 500]) {
    resetJwks(JSON.stringify({ keys: [pubA] }));
    jwks.status = status;
    const g = await gate(jwksVars());
    await expectJwksUnavailable(g, String(status));
    await g.dispose();
  }
  resetJwks();
});

test("a JWKS body over 256 KiB is refused before it is parsed", async () => {
  // A valid key set, padded out: the cap is on bytes read, not on what they mean.
  resetJwks(JSON.stringify({ keys: [pubA], pad: "x".repeat(300 * 1024) }));
  const g = await gate(jwksVars());
  await expectJwksUnavailable(g, "bytes");
  await g.dispose();
  // Just under the cap is fine.
  resetJwks(JSON.stringify({ keys: [pubA], pad: "x".repeat(200 * 1024) }));
  const ok = await gate(jwksVars());
  assert.equal((await ok.fetch("/orders", { headers: bearer(await esToken(keyA, "a1")) })).status, 200);
  await ok.dispose();
  resetJwks();
});

test("a JWKS body that stalls after the headers times out: the timeout covers the whole read", async () => {
  resetJwks(JSON.stringify({ keys: [pubA] }));
  jwks.stall = true;
  const g = await gate(jwksVars({ JWTGATE_JWKS_TIMEOUT_MS: "300" }));
  const started = Date.now();
  await expectJwksUnavailable(g, "timed out");
  assert.ok(Date.now() - started < 5000, "the gate waited on the stalled body");
  await g.dispose();
  resetJwks();
});

test("JWKS URLs that only look like loopback need https", async () => {
  for (const url of [
    "http://127.evil.example/jwks",
    "http://localhost.evil.example/jwks",
    "http://evil.example@127.0.0.1/jwks",
    "http://[::1]evil/jwks",
    "http://127.0.0.1.evil.example/jwks",
  ]) {
    await expectMisconfigured({ JWTGATE_KEYS: undefined, JWTGATE_JWKS_URL: url }, "JWTGATE_JWKS_URL");
  }
});

// ---------------------------------------------------------------- found in review
test("scope rules are plain prefixes: format suffixes and longer names need the scope too", async () => {
  // The attack: `/admin.json` with a token lacking `admin`; Rails' (.:format) and Spring's
  // suffix matching serve it from the /admin handler.
  const before = upstream.hits.length;
  const g = await gate({ JWTGATE_SCOPES: JSON.stringify({ "/admin/": "admin" }) });
  const user = await hsToken({ scope: "read" });
  for (const path of ["/admin", "/admin.json", "/Admin.JSON", "/admin/users.json", "/administrator"]) {
    const r = await g.fetch(path, { headers: bearer(user) });
    assert.equal(r.status, 403, path);
    assert.deepEqual(await r.json(), { error: "insufficient_scope", scope: "admin" });
  }
  assert.equal(upstream.hits.length, before);
  const admin = await hsToken({ scope: "read admin" });
  assert.equal((await g.fetch("/admin.json", { headers: bearer(admin) })).status, 200);
  assert.equal((await g.fetch("/adm", { headers: bearer(user) })).status, 200);
  await g.dispose();
});

test("a session cookie hidden in another cookie's value is refused, not forwarded", async () => {
  // The attack: my valid bearer token, and a victim's session cookie after a space or comma in
  // another pair, where SimpleCookie (aiohttp, Bottle) or legacy Tomcat would find it.
  const before = upstream.hits.length;
  const g = await gate();
  const mine = await hsToken({ sub: "attacker" });
  for (const cookie of [
    "a=1 __Secure-authjs.session-token=victim-session",
    "a=1,__Secure-authjs.session-token=victim-session",
    "theme=dark; x __Secure-authjs.session-token=victim-session",
  ]) {
    const r = await g.fetch("/orders", { headers: { ...bearer(mine), cookie } });
    assert.equal(r.status, 400, cookie);
    assert.equal((await r.json()).reason, "ambiguous_cookies");
  }
  assert.equal(upstream.hits.length, before, "a request carrying a hidden session cookie was forwarded");
  // Cookies that merely sit beside the bearer token pass, without any session cookie.
  const r = await g.fetch("/orders", { headers: { ...bearer(mine), cookie: "theme=dark; lang=en" } });
  assert.equal(r.status, 200);
  assert.equal(upstream.hits.at(-1).headers.cookie, "theme=dark; lang=en");
  await g.dispose();
});

test("path-override headers never reach the upstream: the path forwarded is the one judged", async () => {
  const g = await gate({ JWTGATE_PUBLIC_PATHS: "/health", JWTGATE_SCOPES: JSON.stringify({ "/admin": "admin" }) });
  const overrides = {
    "x-original-url": "/admin",
    "x_original_url": "/admin",
    "X-Rewrite-URL": "/admin",
    "x-override-url": "/admin",
    "x-original-uri": "/admin",
    "x-forwarded-uri": "/admin",
    "x-forwarded-path": "/admin",
    "x-forwarded-prefix": "/admin",
  };
  for (const [path, init] of [
    ["/health", {}],
    ["/orders", { headers: bearer(await hsToken()) }],
  ]) {
    const before = upstream.hits.length;
    const r = await g.fetch(path, { ...init, headers: { ...init.headers, ...overrides } });
    assert.equal(r.status, 200, path);
    const hit = upstream.hits.slice(before)[0];
    const left = Object.keys(hit.headers).filter((k) => /^x[-_](original|rewrite|override|forwarded)[-_](ur[il]|path|prefix)$/i.test(k));
    assert.deepEqual(left, [], `${path}: ${left}`);
  }
  await g.dispose();
});

test("a Cache API copy of the JWKS stamped in the future is not trusted as fresh", async () => {
  const url = `${jwks.url}/.well-known/jwks.json`;
  const copy = (at) =>
    new MfResponse(JSON.stringify({ keys: [pubA] }), {
      headers: { "content-type": "application/json", "cache-control": "max-age=600", "x-jwtgate-fetched-at": String(at) },
    });
  resetJwks("oops");
  jwks.status = 500; // the issuer is down: only the cached copy could serve
  // Control: a copy fetched a second ago serves, with no network fetch.
  const warm = await gate(jwksVars());
  await (await warm.mf.getCaches()).default.put(url, copy(nowS() - 1));
  assert.equal((await warm.fetch("/orders", { headers: bearer(await esToken(keyA, "a1")) })).status, 200);
  assert.equal(jwks.hits, 0);
  await warm.dispose();
  // A copy "fetched" in the future would never go stale: ignored, so the 500 decides.
  const g = await gate(jwksVars());
  await (await g.mf.getCaches()).default.put(url, copy(nowS() + 10_000_000));
  await expectJwksUnavailable(g, "500");
  assert.ok(jwks.hits >= 1);
  await g.dispose();
  resetJwks();
});

// ---------------------------------------------------------------- a failing revocation store
test("a revocation store that fails answers 503; failing open skips only the failed lookups", async () => {
  const before = upstream.hits.length;
  const all = ["jti:", "sid:", "sub:"];
  // Fail closed: every lookup fails, nothing reaches the upstream.
  const closed = await gate({}, { flakyKv: { failing: all } });
  const r = await closed.fetch("/orders", { headers: bearer(await hsToken()) });
  assert.equal(r.status, 503);
  assert.equal((await r.json()).reason, "revocation_unavailable");
  assert.ok(Number(r.headers.get("retry-after")) >= 1);
  assert.equal(upstream.hits.length, before);
  await closed.dispose();

  // Fail open, every lookup failing: the documented trade — the token passes.
  const open = await gate({ JWTGATE_REVOCATION_FAIL_OPEN: "true" }, { flakyKv: { failing: all } });
  assert.equal((await open.fetch("/orders", { headers: bearer(await hsToken()) })).status, 200);
  await open.dispose();

  // Fail open with only the jti lookup failing: the subject's cut-off still denies.
  const partly = await gate(
    { JWTGATE_REVOCATION_FAIL_OPEN: "true" },
    { flakyKv: { failing: ["jti:"], entries: { "sub:u-cut": String(nowS() + 60) } } },
  );
  await expectInvalid(partly, await hsToken({ sub: "u-cut" }), "revoked");
  assert.equal((await partly.fetch("/orders", { headers: bearer(await hsToken({ sub: "u-ok" })) })).status, 200);
  await partly.dispose();
});

test("JWTGATE_REVOKED as an object variable is not a KV namespace", async () => {
  // workers-rs's env.kv() takes any object; an object var with no KV methods would make every
  // lookup fail, and under FAIL_OPEN every token pass.
  await expectMisconfigured({ JWTGATE_REVOKED: { get: "not a function" } }, "JWTGATE_REVOKED");
  await expectMisconfigured(
    { JWTGATE_REVOKED: { namespace: "x" }, JWTGATE_REVOCATION_FAIL_OPEN: "true" },
    "JWTGATE_REVOKED",
  );
});
