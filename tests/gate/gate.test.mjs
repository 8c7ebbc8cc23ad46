// The edge gate over HTTP (see harness.mjs): configuration, tokens, cookies, routing, scopes,
// JWKS, revocation and the cache, each through the real Worker in workerd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as jose from "jose";
import {
  buildDir,
  ISS,
  AUD,
  sleep,
  nowS,
  listen,
  upstream,
  jwks,
  openGates,
  hsSecret,
  hsJwk,
  keyA,
  keyB,
  pubA,
  pubB,
  hsToken,
  esToken,
  basePolicy,
  gate,
  bearer,
  expectInvalid,
  jwksVars as harnessJwksVars,
  expectMisconfigured,
} from "./harness.mjs";

// ---------------------------------------------------------------- tests
test("misconfiguration: every request is 500 misconfigured, nothing reaches upstream", async () => {
  const cases = [
    [{ UPSTREAM_URL: undefined }, "UPSTREAM_URL"],
    [{ JWTGATE_POLICY: "{not json" }, "JWTGATE_POLICY"],
    [{ JWTGATE_POLICY: JSON.stringify({ ...basePolicy, issuer: "" }) }, "JWTGATE_POLICY"],
    [{ JWTGATE_KEYS: JSON.stringify({ keys: [{ kty: "oct", k: "c2hvcnQ" }] }) }, "JWTGATE_KEYS"],
    [{ JWTGATE_KEYS: undefined }, "JWTGATE_KEYS"],
    [{ JWTGATE_POLICY: JSON.stringify({ ...basePolicy, keys: { keys: [hsJwk] } }) }, "JWTGATE_POLICY"],
    [{ JWTGATE_JWKS_URL: "http://idp.example/jwks" }, "JWTGATE_JWKS_URL"],
    [{ JWTGATE_SCOPES: "[]" }, "JWTGATE_SCOPES"],
  ];
  for (const [vars, setting] of cases) await expectMisconfigured(vars, setting);
});

test("no token: 401 Bearer challenge; browser navigation with a login URL: 302 with callbackUrl", async () => {
  const g = await gate({ JWTGATE_LOGIN_URL: "/login" });
  let r = await g.fetch("/orders?page=2");
  assert.equal(r.status, 401);
  assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="app.example"');
  assert.deepEqual(await r.json(), { error: "missing_token" });
  r = await g.fetch("/orders?page=2", { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
  assert.equal(r.status, 302);
  assert.equal(r.headers.get("location"), "/login?callbackUrl=https%3A%2F%2Fapp.example%2Forders%3Fpage%3D2");
  r = await g.fetch("/orders", { headers: { accept: "application/json" } });
  assert.equal(r.status, 401);
  await g.dispose();
});

test("invalid tokens: 401 invalid_token with the core reason, logged without the token", async () => {
  const g = await gate();
  const good = await hsToken();
  const [h, p, s] = good.split(".");
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  await expectInvalid(g, await hsToken({}, { exp: nowS() - 3600 }), "expired");
  await expectInvalid(g, await hsToken({}, { aud: "billing-api" }), "audience");
  await expectInvalid(g, await hsToken({}, { iss: "https://staging.auth.example.com" }), "issuer");
  await expectInvalid(g, `${b64({ alg: "none" })}.${p}.`, "algorithm");
  await expectInvalid(g, `${h}.${b64({ sub: "admin", iss: ISS, aud: AUD, exp: nowS() + 600 })}.${s}`, "signature");
  await expectInvalid(g, await hsToken({}, { header: { jku: "https://evil.example/jwks" } }), "header");
  await expectInvalid(g, await esToken(keyA, "nope"), "key_not_found");
  await expectInvalid(g, "x".repeat(17000), "too_large");
  await expectInvalid(g, "a.b", "malformed");
  await sleep(50);
  const rejections = g.logs.filter((l) => l.includes('"jwtgate":"rejected"'));
  assert.ok(rejections.some((l) => l.includes('"reason":"expired"') && l.includes(`"iss":"${ISS}"`) && l.includes('"kid":"hs-1"')));
  for (const l of g.logs) assert.ok(!l.includes(s) && !l.includes(p), "token in log");
  await g.dispose();
});

test("valid token: forwarded with identity headers; spoofed x-jwtgate-* removed; method, path, query and body intact", async () => {
  const g = await gate({
    JWTGATE_CLAIM_HEADERS: JSON.stringify({
      email: "x-jwtgate-email",
      roles: "x-jwtgate-roles",
      // JSON paths: nested members, a namespaced member name in brackets, a path that ends in an object.
      "org.id": "x-jwtgate-org",
      '["https://ns.example/claims"].tier': "x-jwtgate-tier",
      org: "x-jwtgate-org-json",
      "org.id.deeper": "x-jwtgate-none",
      "team.id": "x-jwtgate-team",
    }),
  });
  const token = await hsToken({
    email: "ana@example.com",
    roles: ["a", "b"],
    org: { id: "org_7", name: "Ana's" },
    "https://ns.example/claims": { tier: "gold" },
    "team.id": "flat-not-a-path",
  });
  upstream.hits.length = 0;
  const r = await g.fetch("/orders/7?expand=items&x=%20y", {
    method: "POST",
    headers: { ...bearer(token), "content-type": "text/plain", "x-jwtgate-sub": "admin", "X-JwtGate-Claims": "forged", "x-other": "kept" },
    body: "hello body",
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("x-upstream"), "yes");
  const hit = upstream.hits.at(-1);
  assert.equal(hit.method, "POST");
  assert.equal(hit.url, "/orders/7?expand=items&x=%20y");
  assert.equal(hit.body, "hello body");
  assert.equal(hit.headers["x-jwtgate-sub"], "user_1");
  assert.equal(hit.headers["x-other"], "kept");
  assert.equal(hit.headers.authorization, `Bearer ${token}`);
  assert.equal(hit.headers["x-jwtgate-email"], "ana@example.com");
  assert.equal(hit.headers["x-jwtgate-roles"], '["a","b"]');
  assert.equal(hit.headers["x-jwtgate-org"], "org_7");
  assert.equal(hit.headers["x-jwtgate-tier"], "gold");
  assert.equal(hit.headers["x-jwtgate-org-json"], '{"id":"org_7","name":"Ana\'s"}');
  // A path through a string, and a dotted key that names a nested path (not the flat member): no header.
  assert.equal(hit.headers["x-jwtgate-none"], undefined);
  assert.equal(hit.headers["x-jwtgate-team"], undefined);
  const claims = JSON.parse(Buffer.from(hit.headers["x-jwtgate-claims"], "base64url").toString());
  assert.equal(claims.sub, "user_1");
  assert.equal(claims.aud, AUD);
  const expiresIn = Number(hit.headers["x-jwtgate-expires-in"]);
  assert.ok(expiresIn > 500 && expiresIn <= 600, String(expiresIn));
  await g.dispose();

  const g2 = await gate({ JWTGATE_FORWARD_AUTHORIZATION: "false" });
  assert.equal((await g2.fetch("/orders", { headers: bearer(token) })).status, 200);
  assert.equal(upstream.hits.at(-1).headers.authorization, undefined);
  await g2.dispose();
});

test("Auth.js cookies: the secure name, the plain one only on plain HTTP, chunks joined in index order, bearer first", async () => {
  const g = await gate({ JWTGATE_PLAIN_HTTP: "true" });
  const token = await hsToken({ sub: "cookie_user" });
  const other = await hsToken({ sub: "bearer_user" });
  const third = Math.ceil(token.length / 3);
  const parts = [token.slice(0, third), token.slice(third, 2 * third), token.slice(2 * third)];
  const cases = [
    [`__Secure-authjs.session-token=${token}`, "cookie_user"],
    [`theme=dark; authjs.session-token=${token}`, "cookie_user"],
    [`authjs.session-token.2=${parts[2]}; authjs.session-token.0=${parts[0]}; authjs.session-token.1=${parts[1]}`, "cookie_user"],
    [`__Secure-authjs.session-token.0=${parts[0]}; __Secure-authjs.session-token.1=${parts[1]}; __Secure-authjs.session-token.2=${parts[2]}`, "cookie_user"],
  ];
  for (const [cookie, sub] of cases) {
    const r = await g.fetch("/orders", { headers: { cookie } });
    assert.equal(r.status, 200, cookie.slice(0, 40));
    assert.equal(upstream.hits.at(-1).headers["x-jwtgate-sub"], sub);
  }
  let r = await g.fetch("/orders", { headers: { cookie: `authjs.session-token=${token}`, ...bearer(other) } });
  assert.equal(upstream.hits.at(-1).headers["x-jwtgate-sub"], "bearer_user");
  // A missing middle chunk: Auth.js would join across the gap, so the set is refused as ambiguous.
  r = await g.fetch("/orders", { headers: { cookie: `authjs.session-token.0=${parts[0]}; authjs.session-token.2=${parts[2]}` } });
  assert.equal(r.status, 400);
  assert.deepEqual(await r.json(), { error: "invalid_request", reason: "ambiguous_cookies" });
  await g.dispose();
  // On HTTPS (the default) the unprefixed name, which can be planted over plain HTTP, is no credential.
  const secure = await gate();
  r = await secure.fetch("/orders", { headers: { cookie: `authjs.session-token=${token}` } });
  assert.equal(r.status, 401);
  assert.deepEqual(await r.json(), { error: "missing_token" });
  await secure.dispose();
});

test("public paths pass without a token (spoofed headers still removed); preflights are answered by the gate unless allowed", async () => {
  const g = await gate({ JWTGATE_PUBLIC_PATHS: "/health,/assets/", JWTGATE_PREFLIGHT_PATHS: "/api/open" });
  let r = await g.fetch("/health", { headers: { "x-jwtgate-sub": "admin" } });
  assert.equal(r.status, 200);
  assert.equal(upstream.hits.at(-1).headers["x-jwtgate-sub"], undefined);
  assert.equal((await g.fetch("/assets/app.js")).status, 200);
  assert.equal((await g.fetch("/healthz")).status, 401);
  const before = upstream.hits.length;
  r = await g.fetch("/orders", { method: "OPTIONS", headers: { "access-control-request-method": "POST", origin: "https://web.example" } });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get("access-control-allow-origin"), null);
  assert.equal(upstream.hits.length, before, "a preflight outside JWTGATE_PREFLIGHT_PATHS never reaches upstream");
  r = await g.fetch("/api/open/x", {
    method: "OPTIONS",
    headers: { "access-control-request-method": "POST", origin: "https://web.example", cookie: "__Secure-authjs.session-token=x", authorization: "Basic eDp5" },
  });
  assert.equal(r.status, 200);
  const hit = upstream.hits.at(-1);
  assert.equal(hit.method, "OPTIONS");
  assert.equal(hit.headers.cookie, undefined);
  assert.equal(hit.headers.authorization, undefined);
  // Without Origin it is no preflight: an OPTIONS request like any other.
  assert.equal((await g.fetch("/orders", { method: "OPTIONS", headers: { "access-control-request-method": "POST" } })).status, 401);
  assert.equal((await g.fetch("/orders", { method: "OPTIONS" })).status, 401);
  await g.dispose();
});

test("scopes: a valid token without the path's scopes is 403 insufficient_scope", async () => {
  const g = await gate({ JWTGATE_SCOPES: JSON.stringify({ "/admin": "admin", "/admin/billing": "admin billing" }) });
  const reader = await hsToken({ scope: "read" });
  const admin = await hsToken({ scope: "read admin" });
  let r = await g.fetch("/admin/users", { headers: bearer(reader) });
  assert.equal(r.status, 403);
  assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="app.example", error="insufficient_scope", scope="admin"');
  assert.deepEqual(await r.json(), { error: "insufficient_scope", scope: "admin" });
  assert.equal((await g.fetch("/admin/users", { headers: bearer(admin) })).status, 200);
  assert.equal((await g.fetch("/admin/billing/1", { headers: bearer(admin) })).status, 403);
  assert.equal((await g.fetch("/orders", { headers: bearer(reader) })).status, 200);
  await g.dispose();
});

// A short cooldown, so rotation tests can wait it out. The gate counts whole seconds, so a
// 1-second cooldown could end between two requests a millisecond apart; with 2 s, requests less
// than 1 s after a fetch are always inside it, and 2.1 s later always past it.
const jwksVars = (extra = {}) => harnessJwksVars({ JWTGATE_JWKS_COOLDOWN_SECONDS: "2", ...extra });

test("remote JWKS: one fetch shared by concurrent requests, rotation through an unknown kid, cooldown", async () => {
  jwks.hang = false;
  jwks.status = 200;
  jwks.body = JSON.stringify({ keys: [pubA, { kty: "RSA", kid: "tiny", n: "AQAB", e: "AQAB" }] });
  jwks.hits = 0;
  const g = await gate(jwksVars());
  const tA = await esToken(keyA, "a1");
  const answers = await Promise.all(Array.from({ length: 20 }, () => g.fetch("/orders", { headers: bearer(tA) })));
  assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
  assert.equal(jwks.hits, 1, "concurrent requests must share one fetch");
  await sleep(50);
  const loaded = g.logs.find((l) => l.includes('"jwtgate":"keys_loaded"') && l.includes('"source":"jwks"'));
  assert.ok(loaded && loaded.includes('"kid":"tiny"') && loaded.includes('"inert":"invalid"'), "unusable remote key listed as inert");

  // Rotation: the issuer adds b1; the first b1 token triggers one refetch.
  jwks.body = JSON.stringify({ keys: [pubA, pubB] });
  await sleep(2100); // past the cooldown since the first fetch
  const tB = await esToken(keyB, "b1");
  assert.equal((await g.fetch("/orders", { headers: bearer(tB) })).status, 200);
  assert.equal(jwks.hits, 2);
  // Right after that refetch, an unknown kid does not refetch (cooldown)...
  await expectInvalid(g, await esToken(keyB, "zz"), "key_not_found");
  assert.equal(jwks.hits, 2);
  // ...and after the cooldown, a burst of unknown kids refetches once.
  await sleep(2100);
  for (let i = 0; i < 5; i++) await expectInvalid(g, await esToken(keyB, `zz${i}`), "key_not_found");
  assert.equal(jwks.hits, 3, "one refetch for the first unknown kid, none during the cooldown");
  await g.dispose();
});

test("an issuer's mixed key set in JWTGATE_KEYS: fitting keys verify, the rest are inert and logged once", async () => {
  const rsa = await jose.generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
  const p384 = await jose.generateKeyPair("ES384", { extractable: true });
  const k256 = generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey;
  const rsaPub = { ...(await jose.exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256" };
  const p384Pub = { ...(await jose.exportJWK(p384.publicKey)), kid: "ec-384" };
  const encPub = { ...pubB, kid: "enc-1", use: "enc" };
  const k256Pub = { ...k256.export({ format: "jwk" }), kid: "k256" };
  const mixed = { keys: [hsJwk, rsaPub, pubA, p384Pub, k256Pub, encPub] };
  const g = await gate({ JWTGATE_KEYS: JSON.stringify(mixed) });
  for (const t of [await hsToken(), await esToken(keyA, "a1")]) {
    assert.equal((await g.fetch("/orders", { headers: bearer(t) })).status, 200);
  }
  const rsaToken = await new jose.SignJWT({ sub: "user_rsa" })
    .setProtectedHeader({ alg: "RS256", kid: "rsa-1" })
    .setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime("10m")
    .sign(rsa.privateKey);
  await expectInvalid(g, rsaToken, "algorithm"); // RS256 is not pinned: refused before key selection
  await expectInvalid(g, await esToken(keyB, "enc-1"), "key_not_found"); // the encryption key is inert
  await sleep(50);
  const loaded = g.logs.filter((l) => l.includes('"jwtgate":"keys_loaded"'));
  assert.equal(loaded.length, 1, loaded.join("\n"));
  const { keys } = JSON.parse(loaded[0]);
  assert.deepEqual(
    keys.map((k) => [k.kid, k.alg ?? k.inert]),
    [["hs-1", "HS256"], ["rsa-1", "algorithm_not_allowed"], ["a1", "ES256"], ["ec-384", "key_type_not_allowed"], ["k256", "unsupported_key_type"], ["enc-1", "not_for_signatures"]],
  );
  for (const m of [hsJwk.k, rsaPub.n, pubA.x, p384Pub.x]) assert.ok(!loaded[0].includes(m), "key material logged");
  await g.dispose();
});

test("a new isolate starts warm from the Cache API copy of the JWKS", async () => {
  const dir = mkdtempSync(join(tmpdir(), "jwtgate-cache-"));
  jwks.hang = false;
  jwks.status = 200;
  jwks.body = JSON.stringify({ keys: [pubA] });
  jwks.hits = 0;
  const tA = await esToken(keyA, "a1");
  const first = await gate(jwksVars(), { cachePersist: dir });
  assert.equal((await first.fetch("/orders", { headers: bearer(tA) })).status, 200);
  assert.equal(jwks.hits, 1);
  await first.dispose();
  jwks.status = 500; // the issuer is down when the next isolate starts
  const second = await gate(jwksVars(), { cachePersist: dir });
  assert.equal((await second.fetch("/orders", { headers: bearer(tA) })).status, 200);
  assert.equal(jwks.hits, 1, "served from the Cache API, no network fetch");
  await second.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test("remote JWKS outage: the last good set is served up to the stale bound, then 503", async () => {
  jwks.hang = false;
  jwks.status = 200;
  jwks.body = JSON.stringify({ keys: [pubA] });
  const g = await gate(jwksVars({ JWTGATE_JWKS_CACHE_SECONDS: "10", JWTGATE_JWKS_STALE_SECONDS: "4" }));
  const tA = await esToken(keyA, "a1");
  assert.equal((await g.fetch("/orders", { headers: bearer(tA) })).status, 200);
  const fetchedAt = Date.now();
  jwks.status = 500;
  jwks.body = "oops";
  // Past freshness (10 s): the refetch fails, the stale set still serves.
  await sleep(fetchedAt + 11_000 - Date.now());
  assert.equal((await g.fetch("/orders", { headers: bearer(tA) })).status, 200);
  // Past freshness + stale bound (14 s): fail closed.
  await sleep(fetchedAt + 15_500 - Date.now());
  const r = await g.fetch("/orders", { headers: bearer(tA) });
  assert.equal(r.status, 503);
  assert.equal((await r.json()).reason, "jwks_unavailable");
  assert.ok(Number(r.headers.get("retry-after")) >= 1);
  await g.dispose();
});

test("remote JWKS that never answers: the fetch times out and the gate fails closed", async () => {
  jwks.hang = true;
  const g = await gate(jwksVars({ JWTGATE_JWKS_TIMEOUT_MS: "200" }));
  const r = await g.fetch("/orders", { headers: bearer(await esToken(keyA, "a1")) });
  assert.equal(r.status, 503);
  assert.equal((await r.json()).reason, "jwks_unavailable");
  await sleep(50);
  assert.ok(g.logs.some((l) => l.includes("timed out")), g.logs.join("\n"));
  jwks.hang = false;
  await g.dispose();
});

test("KV revocation: jti and subject cut-off, checked on cache hits too", async () => {
  const g = await gate({}, { kv: true });
  const kv = await g.mf.getKVNamespace("JWTGATE_REVOKED");
  const t1 = await hsToken({ sub: "u-rev", jti: "jti-1" });
  assert.equal((await g.fetch("/orders", { headers: bearer(t1) })).status, 200); // now cached
  await kv.put("jti:jti-1", "1");
  await expectInvalid(g, t1, "revoked");
  const t2 = await hsToken({ sub: "u-sub", jti: "jti-2" });
  assert.equal((await g.fetch("/orders", { headers: bearer(t2) })).status, 200);
  await kv.put("sub:u-sub", String(nowS() + 5)); // tokens issued before this are revoked
  await expectInvalid(g, t2, "revoked");
  await kv.put("sub:u-sub", String(nowS() - 3600)); // an older cut-off: token is newer, fine
  assert.equal((await g.fetch("/orders", { headers: bearer(t2) })).status, 200);
  await g.dispose();
});

test("verified-token cache: a hit re-checks exp", async () => {
  const g = await gate({ JWTGATE_POLICY: JSON.stringify({ ...basePolicy, leewaySeconds: 0 }) });
  const t = await hsToken({}, { exp: nowS() + 2 });
  assert.equal((await g.fetch("/orders", { headers: bearer(t) })).status, 200);
  assert.equal((await g.fetch("/orders", { headers: bearer(t) })).status, 200);
  await sleep(3100);
  await expectInvalid(g, t, "expired");
  await g.dispose();
});
