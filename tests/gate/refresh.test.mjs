// Refresh-token rotation with reuse detection at the edge gate (JWTGATE_REFRESH_PATH), over
// HTTP in workerd: each refresh family lives in the gate's Durable Object (JwtgateState), shared
// by two gate isolates. The first refresh token of a family is made by jose (the issuer's
// sign-in); every later one by the gate. Covered: rotation, reuse killing the family and its
// access tokens on the very next request, two concurrent refreshes of one token (one wins, the
// other is a reuse), the two token kinds never passing for each other, the refresh cookie never
// reaching the upstream, cross-site refreshes, and the store's outage (503).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as jose from "jose";
import { authjs } from "../../pkg/authjs/node.mjs";
import { authjsSignIn } from "./authjs-app.mjs";
import {
  ISS,
  AUD,
  upstream,
  gate,
  gateBindings,
  basePolicy,
  hsSecret,
  hsToken,
  bearer,
  openGates,
  expectMisconfigured,
  sleep,
  readWranglerToml,
  stateWorker,
  stateOf,
  refreshToken,
} from "./harness.mjs";
import { gateWorkerOptions } from "../../scripts/workerd.mjs";

after(() => Promise.all([...openGates].map((g) => g.dispose())));

const REFRESH_AUD = "https://auth.example.com/refresh";
const PATH = "/.jwtgate/refresh";
const COOKIE = "__Host-jwtgate-refresh";
const policy = { ...basePolicy, maxAgeSeconds: 86400, refresh: { audience: REFRESH_AUD, ttlSeconds: 3600, accessTtlSeconds: 300 } };
const vars = (extra = {}) => ({
  JWTGATE_POLICY: JSON.stringify(policy),
  JWTGATE_REFRESH_PATH: PATH,
  JWTGATE_PUBLIC_PATHS: "/health",
  ...extra,
});
const STATE = { JWTGATE_STATE: "JwtgateState" };

/** A family's first refresh token, as the issuer signs it at sign-in (jose). */
const firstRefresh = (sid = crypto.randomUUID(), claims = {}) =>
  refreshToken({ sub: "user_1", sid, email: "u@example.com", ...claims }, REFRESH_AUD);

const cookieOf = (r) => {
  const set = r.headers.get("set-cookie") ?? "";
  const m = new RegExp(`^${COOKIE}=([^;]*)`).exec(set);
  return { value: m?.[1] ?? null, set };
};
const post = (g, token, headers = {}, via = null) => {
  const init = { method: "POST", headers: { cookie: `${COOKIE}=${token}`, ...headers } };
  return via ? g.fetchFrom(via, PATH, init) : g.fetch(PATH, init);
};

test("a refresh rotates: a new access token, the next refresh token as an HttpOnly cookie", async () => {
  const g = await gate(vars(), { durableObjects: STATE });
  const r = await post(g, await firstRefresh());
  assert.equal(r.status, 200, await r.clone().text());
  const body = await r.json();
  assert.equal(body.token_type, "Bearer");
  assert.equal(body.expires_in, 300);
  const { value, set } = cookieOf(r);
  assert.match(set, /Max-Age=3600; Path=\/; Secure; HttpOnly; SameSite=Strict/);
  assert.equal(r.headers.get("cache-control"), "no-store");
  // Independent checks with jose: the access token is the policy's, carrying the user's claims.
  const { payload, protectedHeader } = await jose.jwtVerify(body.access_token, hsSecret, { issuer: ISS, audience: AUD });
  assert.equal(payload.email, "u@example.com");
  assert.equal(payload.gen, undefined);
  assert.equal(protectedHeader.typ, "JWT");
  const next = await jose.jwtVerify(value, hsSecret, { issuer: ISS, audience: REFRESH_AUD, typ: "jwtgate-refresh+jwt" });
  assert.equal(next.payload.gen, 1);
  assert.equal(next.payload.sid, payload.sid);
  // The access token passes the gate; the refresh cookie never reaches the upstream.
  const a = await g.fetch("/orders", { headers: { ...bearer(body.access_token), cookie: `theme=dark; ${COOKIE}=${value}` } });
  assert.equal(a.status, 200);
  assert.equal(upstream.hits.at(-1).headers.cookie, "theme=dark");
  assert.equal(upstream.hits.at(-1).headers["x-jwtgate-sub"], "user_1");
  assert.equal((await g.fetch("/health", { headers: { cookie: `${COOKIE}=${value}` } })).status, 200);
  assert.equal(upstream.hits.at(-1).url, "/health");
  assert.equal(upstream.hits.at(-1).headers.cookie, undefined, "public paths drop it too");
  // And again with the new cookie: generation 2.
  const r2 = await post(g, value);
  assert.equal(r2.status, 200);
  assert.equal(jose.decodeJwt(cookieOf(r2).value).gen, 2);
  await g.dispose();
});

test("a reuse revokes the family: the refresh fails and its access tokens stop at the next request", async () => {
  const g = await gate(vars(), { durableObjects: STATE });
  const stolen = await firstRefresh();
  const r1 = await post(g, stolen);
  const access1 = (await r1.json()).access_token;
  const r2 = await post(g, cookieOf(r1).value);
  const access2 = (await r2.json()).access_token;
  const latest = cookieOf(r2).value;
  assert.equal((await g.fetch("/orders", { headers: bearer(access2) })).status, 200);
  // The thief replays the first refresh token.
  const reuse = await post(g, stolen);
  assert.equal(reuse.status, 401);
  assert.deepEqual(await reuse.json(), { error: "invalid_grant", reason: "revoked" });
  assert.match(cookieOf(reuse).set, new RegExp(`^${COOKIE}=; Max-Age=0`));
  // Both access tokens die at once (they are still within their lifetime), as does the latest refresh token.
  for (const t of [access1, access2]) {
    const r = await g.fetch("/orders", { headers: bearer(t) });
    assert.equal(r.status, 401);
    assert.equal((await r.json()).reason, "revoked");
  }
  assert.equal((await post(g, latest)).status, 401);
  await sleep(20);
  assert.ok(g.logs.some((l) => l.includes('"jwtgate":"refresh_reuse"')), g.logs.join("\n"));
  assert.ok(!g.logs.some((l) => l.includes(stolen.split(".")[2])), "the token was logged");
  // Tokens of other sessions (or without a sid) are untouched.
  assert.equal((await g.fetch("/orders", { headers: bearer(await hsToken()) })).status, 200);
  await g.dispose();
});

test("two isolates refreshing one token at once: one wins, the other is a reuse that ends the family", async () => {
  const b = { name: "gate-b", ...gateWorkerOptions(gateBindings(vars())), durableObjects: { JWTGATE_STATE: { className: "JwtgateState", scriptName: "gate" } } };
  const g = await gate(vars(), { durableObjects: STATE, extraWorkers: [b] });
  for (let round = 0; round < 3; round++) {
    const token = await firstRefresh();
    const answers = await Promise.all([post(g, token), post(g, token, {}, "gate-b")]);
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 401], `round ${round}`);
    const winner = answers.find((r) => r.status === 200);
    const access = (await winner.json()).access_token;
    // The family is revoked: even the winner's access token is refused, in either isolate.
    assert.equal((await g.fetch("/orders", { headers: bearer(access) })).status, 401);
    assert.equal((await g.fetchFrom("gate-b", "/orders", { headers: bearer(access) })).status, 401);
  }
  await g.dispose();
});

test("refresh and access tokens never pass for each other; bad cookies, methods and origins", async () => {
  const g = await gate(vars(), { durableObjects: STATE });
  const refresh = await firstRefresh();
  // A refresh token as an access token: its typ (and its audience).
  const asAccess = await g.fetch("/orders", { headers: bearer(refresh) });
  assert.equal((await asAccess.json()).reason, "type");
  // An access token as a refresh token: another typ (and audience).
  const asRefresh = await post(g, await hsToken({ sid: "s", gen: 0, auth_time: Math.floor(Date.now() / 1000) }));
  assert.equal(asRefresh.status, 401);
  assert.equal((await asRefresh.json()).reason, "type");
  // No cookie, two cookies, a forged one.
  assert.equal((await g.fetch(PATH, { method: "POST" })).status, 401);
  const two = await g.fetch(PATH, { method: "POST", headers: { cookie: `${COOKIE}=${refresh}; ${COOKIE}=${refresh}` } });
  assert.equal(two.status, 400);
  const forged = await new jose.SignJWT({ sub: "admin", sid: "x", gen: 0, auth_time: Math.floor(Date.now() / 1000) })
    .setProtectedHeader({ alg: "HS256", kid: "hs-1", typ: "jwtgate-refresh+jwt" })
    .setIssuer(ISS).setAudience(REFRESH_AUD).setIssuedAt().setExpirationTime("1h")
    .sign(crypto.getRandomValues(new Uint8Array(32)));
  assert.equal((await (await post(g, forged)).json()).reason, "signature");
  // Another class bound as the store, answering what the gate's class would: no store.
  const fake = await gate(vars(), stateOf(stateWorker("fake-state", `return new Response("rotated:1");`)));
  assert.equal((await post(fake, await firstRefresh())).status, 503);
  const live = await gate(vars(), stateOf(stateWorker("live-state", `return new Response("live");`)));
  assert.equal((await live.fetch("/orders", { headers: bearer(await hsToken({ sid: "s" })) })).status, 503);
  await fake.dispose();
  await live.dispose();
  // At the session's absolute end (inside the leeway the refresh token still verifies in): 401, not a rotation.
  const old = Math.floor(Date.now() / 1000) - 86400 - 10;
  const ended = await post(g, await firstRefresh(undefined, { auth_time: old }));
  assert.equal(ended.status, 401);
  assert.equal((await ended.json()).reason, "too_old");
  // A later generation than the store issued: fails closed.
  const ahead = await firstRefresh(undefined, { gen: 5 });
  assert.equal((await (await post(g, ahead)).json()).reason, "revoked");
  // Only POST, only same-origin.
  const get = await g.fetch(PATH, { headers: { cookie: `${COOKIE}=${refresh}` } });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  assert.equal((await post(g, refresh, { origin: "https://evil.example" })).status, 403);
  assert.equal((await post(g, refresh, { "sec-fetch-site": "cross-site" })).status, 403);
  assert.equal((await post(g, refresh, { "sec-fetch-site": "same-site" })).status, 403);
  // None of the refusals above used the token up.
  assert.equal((await post(g, refresh, { origin: "https://app.example", "sec-fetch-site": "same-origin" })).status, 200);
  await g.dispose();
});

test("a revoked session (KV) cannot refresh", async () => {
  const g = await gate(vars(), { durableObjects: STATE, kv: true });
  await (await g.mf.getKVNamespace("JWTGATE_REVOKED")).put("sid:gone", "1");
  const r = await post(g, await firstRefresh("gone"));
  assert.equal(r.status, 401);
  assert.equal((await r.json()).reason, "revoked");
  await g.dispose();
});

test("the family store unreachable: 503 for refreshes and for access tokens with a sid", async () => {
  const g = await gate(vars(), stateOf(stateWorker("broken-state", `throw new Error("storage down");`)));
  const before = upstream.hits.length;
  const r = await post(g, await firstRefresh());
  assert.equal(r.status, 503);
  assert.equal(r.headers.get("retry-after"), "5");
  const withSid = await g.fetch("/orders", { headers: bearer(await hsToken({ sid: "s-1" })) });
  assert.equal(withSid.status, 503);
  assert.equal((await withSid.json()).reason, "session_unavailable");
  assert.equal(upstream.hits.length, before);
  // A token without a sid belongs to no family.
  assert.equal((await g.fetch("/orders", { headers: bearer(await hsToken()) })).status, 200);
  await g.dispose();
});

test("refresh settings that cannot work are refused", async () => {
  const withState = { durableObjects: STATE };
  await expectMisconfigured(vars(), "JWTGATE_REFRESH_PATH"); // no family store
  await expectMisconfigured(vars({ JWTGATE_REFRESH_PATH: undefined }), "JWTGATE_REFRESH_PATH", withState);
  await expectMisconfigured({ JWTGATE_REFRESH_PATH: PATH }, "JWTGATE_REFRESH_PATH", withState); // no refresh member
  await expectMisconfigured(vars({ JWTGATE_REFRESH_PATH: "/.jwtgate/../x" }), "JWTGATE_REFRESH_PATH", withState);
  await expectMisconfigured(vars({ JWTGATE_PUBLIC_PATHS: "/.jwtgate" }), "JWTGATE_REFRESH_PATH", withState);
  // No signing key: the gate cannot issue.
  const pub = await jose.exportJWK((await jose.generateKeyPair("ES256", { extractable: true })).publicKey);
  await expectMisconfigured(vars({ JWTGATE_KEYS: JSON.stringify({ keys: [{ ...pub, kid: "p" }] }) }), "JWTGATE_REFRESH_PATH", withState);
});

test("docs/gate.md's refresh wrangler.toml is what wrangler reads and the gate runs", async () => {
  const doc = readFileSync(new URL("../../docs/gate.md", import.meta.url), "utf8");
  const block = /```toml\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf("## Refresh tokens")))[1];
  const config = readWranglerToml(block);
  assert.deepEqual(config.durable_objects.bindings, [{ name: "JWTGATE_STATE", class_name: "JwtgateState" }]);
  const issuer = await jose.generateKeyPair("ES256", { extractable: true });
  const priv = { ...(await jose.exportJWK(issuer.privateKey)), kid: "as-1", alg: "ES256" };
  const g = await gate({ ...config.vars, JWTGATE_KEYS: JSON.stringify({ keys: [priv] }) }, { durableObjects: STATE });
  const first = await new jose.SignJWT({ sub: "u", sid: crypto.randomUUID(), gen: 0, auth_time: Math.floor(Date.now() / 1000) })
    .setProtectedHeader({ alg: "ES256", kid: "as-1", typ: "jwtgate-refresh+jwt" })
    .setIssuer("https://auth.example")
    .setAudience("https://auth.example/refresh")
    .setIssuedAt()
    .setExpirationTime("14d")
    .sign(issuer.privateKey);
  const r = await g.fetch("/.jwtgate/refresh", { method: "POST", headers: { cookie: `${COOKIE}=${first}` } });
  assert.equal(r.status, 200, await r.clone().text());
  const { access_token } = await r.json();
  await jose.jwtVerify(access_token, issuer.publicKey, { issuer: "https://auth.example", audience: "orders-api" });
  assert.equal((await g.fetch("/orders", { headers: bearer(access_token) })).status, 200);
  await g.dispose();
});

test("a revoked family also stops the Auth.js session cookie of that sid", async () => {
  const SECRET = "gate-test-AUTH_SECRET-refresh-0123456789abcdefghij";
  const adapter = authjs({ issuer: ISS, audience: AUD, secret: "adapter-stamping-secret-0123456789abcdef", env: {} });
  const pairs = await authjsSignIn({ secret: [SECRET], name: "Ada", cookie: "__Secure-authjs.session-token", jwt: async ({ token }) => adapter.stamp(token) });
  const g = await gate(
    vars({ JWTGATE_AUTHJS_SECRET: JSON.stringify([SECRET]), JWTGATE_POLICY: JSON.stringify({ ...policy, maxAgeSeconds: 8 * 3600 }) }),
    { durableObjects: STATE },
  );
  const session = await g.fetch("/orders", { headers: { cookie: pairs[0] } });
  assert.equal(session.status, 200, await session.clone().text());
  const sid = JSON.parse(Buffer.from(upstream.hits.at(-1).headers["x-jwtgate-claims"], "base64url").toString()).sid;
  // The same session's refresh family, rotated once and then reused.
  const first = await firstRefresh(sid);
  assert.equal((await post(g, first)).status, 200);
  assert.equal((await post(g, first)).status, 401);
  const later = await g.fetch("/orders", { headers: { cookie: pairs[0] } });
  assert.equal(later.status, 401);
  assert.equal((await later.json()).reason, "revoked");
  await g.dispose();
});
