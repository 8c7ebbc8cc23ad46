// The gate in front of an Auth.js app that keeps Auth.js's own session encoding (the JWE that
// @auth/core writes): JWTGATE_AUTHJS_SECRET holds the app's AUTH_SECRET (several, for
// rotation), and every cookie here is made by the real @auth/core handler — a Credentials sign-in
// through `Auth()`, CSRF round trip included — never by hand. The app stamps iss/aud in its `jwt`
// callback with the adapter's `stamp` (the zero-migration path); without it, the gate refuses.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { authjs } from "../../pkg/authjs/node.mjs";
import { authjsSignIn } from "./authjs-app.mjs";
import { ISS, AUD, upstream, gate, bearer, hsToken, hsJwk, openGates, sleep } from "./harness.mjs";

after(() => Promise.all([...openGates].map((g) => g.dispose())));

const SECRET = "gate-test-AUTH_SECRET-current-0123456789abcdefghij";
const OLD = "gate-test-AUTH_SECRET-rotated-out-9876543210zyxwvut";
const COOKIE = "__Secure-authjs.session-token";
const policy = { issuer: ISS, audience: AUD, algorithms: ["HS256"], requiredClaims: ["sub"], maxAgeSeconds: 8 * 3600 };
// The app's own policy helper: stamps iss, aud, auth_time, sid in the `jwt` callback.
const adapter = authjs({ issuer: ISS, audience: AUD, secret: "adapter-stamping-secret-0123456789abcdef", env: {} });

/** Signs `name` in through the real Auth.js handler; returns the session's Set-Cookie pairs. */
const signIn = ({ secret = [SECRET], name = "Ada", stamp = true } = {}) =>
  authjsSignIn({ secret, name, cookie: COOKIE, jwt: async ({ token }) => (stamp ? adapter.stamp(token) : token) });

const vars = (extra = {}) => ({
  JWTGATE_POLICY: JSON.stringify(policy),
  JWTGATE_KEYS: undefined,
  JWTGATE_AUTHJS_SECRET: JSON.stringify([SECRET, OLD]),
  ...extra,
});

async function get(g, cookie, headers = {}) {
  const before = upstream.hits.length;
  const r = await g.fetch("/orders", { headers: { cookie, ...headers } });
  const body = r.status === 200 ? await r.text() : await r.json();
  return { r, body, hit: upstream.hits[before] ?? null, reached: upstream.hits.length - before };
}

test("a session cookie from the real Auth.js handler passes, with the identity the gate read", async () => {
  const g = await gate(vars());
  const pairs = await signIn();
  assert.equal(pairs.length, 1);
  const { r, hit } = await get(g, `${pairs[0]}; theme=dark`, { authorization: "Basic dXNlcjpwYXNz" });
  assert.equal(r.status, 200);
  assert.equal(hit.headers["x-jwtgate-sub"], "user_1");
  const claims = JSON.parse(Buffer.from(hit.headers["x-jwtgate-claims"], "base64url").toString());
  assert.equal(claims.name, "Ada");
  assert.equal(claims.iss, ISS);
  assert.equal(claims.aud, AUD);
  assert.equal(typeof claims.sid, "string");
  // Only the credential the gate verified goes on: the cookie itself, not the Authorization.
  assert.equal(hit.headers.authorization, undefined);
  assert.ok(hit.headers.cookie.includes(pairs[0]) && hit.headers.cookie.includes("theme=dark"));
  await g.dispose();
});

test("chunked session cookies (over 4 KB) are joined as Auth.js joins them", async () => {
  const g = await gate(vars());
  const pairs = await signIn({ name: "B".repeat(5000) });
  assert.ok(pairs.length >= 2 && pairs.every((p, i) => p.startsWith(`${COOKIE}.${i}=`)), pairs.map((p) => p.slice(0, 40)).join());
  const { r, hit } = await get(g, [...pairs].reverse().join("; "));
  assert.equal(r.status, 200);
  assert.equal(hit.headers["x-jwtgate-sub"], "user_1");
  // One chunk missing: Auth.js would read a broken cookie; the gate refuses it.
  const { r: r2, reached } = await get(g, pairs.slice(1).join("; "));
  assert.equal(r2.status, 400);
  assert.equal(reached, 0);
  await g.dispose();
});

test("rotation: a cookie under an older secret passes while it is listed, and not after", async () => {
  const pairs = await signIn({ secret: [OLD] });
  const both = await gate(vars());
  assert.equal((await get(both, pairs[0])).r.status, 200);
  await both.dispose();
  const current = await gate(vars({ JWTGATE_AUTHJS_SECRET: SECRET }));
  const { r, body, reached } = await get(current, pairs[0]);
  assert.equal(r.status, 401);
  assert.equal(body.reason, "key_not_found");
  assert.equal(reached, 0);
  // The current secret alone, as a plain string, opens current cookies.
  assert.equal((await get(current, (await signIn())[0])).r.status, 200);
  await current.dispose();
});

test("refused: no iss/aud stamped, another app's secret, altered bytes, a JWS in the cookie, a bearer token", async () => {
  const g = await gate(vars());
  const unstamped = (await signIn({ stamp: false }))[0];
  const other = (await signIn({ secret: ["another-apps-AUTH_SECRET-0123456789abcdefghij"] }))[0];
  const good = (await signIn())[0];
  const [name, value] = [good.slice(0, good.indexOf("=")), good.slice(good.indexOf("=") + 1)];
  const segs = value.split(".");
  const c = segs[3];
  segs[3] = c.slice(0, 10) + (c[10] === "A" ? "B" : "A") + c.slice(11);
  const altered = `${name}=${segs.join(".")}`;
  const jws = `${COOKIE}=${await hsToken({ sub: "mallory" })}`;
  const cases = [
    [unstamped, "missing_claim"],
    [other, "key_not_found"],
    [altered, "signature"],
    [jws, "malformed"],
  ];
  for (const [cookie, reason] of cases) {
    const { r, body, reached } = await get(g, cookie);
    assert.equal(r.status, 401, reason);
    assert.equal(body.reason, reason);
    assert.equal(reached, 0, reason);
  }
  // This gate has no JWS key: a bearer token is never verified, even beside a good cookie.
  const { r, body, reached } = await get(g, good, bearer(await hsToken({ sub: "mallory" })));
  assert.equal(r.status, 401);
  assert.equal(body.reason, "key_not_found");
  assert.equal(reached, 0);
  await sleep(50);
  assert.ok(!g.logs.some((l) => l.includes(value) || l.includes(SECRET)), "a cookie or secret was logged");
  await g.dispose();
});

test("with a signing key as well: bearer tokens are JWS, cookies are Auth.js's JWE, never the other way", async () => {
  const g = await gate(vars({ JWTGATE_KEYS: JSON.stringify({ keys: [hsJwk] }) }));
  const jws = await hsToken({ sub: "service_1" });
  const cookie = (await signIn())[0];
  const asBearer = await get(g, "", bearer(jws));
  assert.equal(asBearer.r.status, 200);
  assert.equal(asBearer.hit.headers["x-jwtgate-sub"], "service_1");
  assert.equal((await get(g, cookie)).hit.headers["x-jwtgate-sub"], "user_1");
  // The same JWS as a cookie, the JWE as a bearer token: refused, nothing forwarded.
  for (const [c, h] of [[`${COOKIE}=${jws}`, {}], ["", bearer(cookie.slice(cookie.indexOf("=") + 1))]]) {
    const { r, body, reached } = await get(g, c, h);
    assert.equal(r.status, 401);
    assert.equal(body.reason, "malformed");
    assert.equal(reached, 0);
  }
  await g.dispose();
});

test("a revoked session id stops the Auth.js cookie at the gate", async () => {
  const g = await gate(vars(), { kv: true });
  const cookie = (await signIn())[0];
  assert.equal((await get(g, cookie)).r.status, 200);
  const value = cookie.slice(cookie.indexOf("=") + 1);
  const sid = JSON.parse(Buffer.from((await get(g, cookie)).hit.headers["x-jwtgate-claims"], "base64url")).sid;
  await (await g.mf.getKVNamespace("JWTGATE_REVOKED")).put(`sid:${sid}`, "1");
  const { r, body, reached } = await get(g, `${COOKIE}=${value}`);
  assert.equal(r.status, 401);
  assert.equal(body.reason, "revoked");
  assert.equal(reached, 0);
  await g.dispose();
});

test("JWTGATE_AUTHJS_SECRET that could not open anything is a configuration error", async () => {
  for (const bad of ["short-secret", "[]", '["ok-but-twice-0123456789abcdefghijklmn","ok-but-twice-0123456789abcdefghijklmn"]', '["x", 1]', "[not json"]) {
    const g = await gate(vars({ JWTGATE_AUTHJS_SECRET: bad }));
    const r = await g.fetch("/orders", { headers: { cookie: `${COOKIE}=x` } });
    assert.equal(r.status, 500, bad);
    await sleep(50);
    assert.ok(g.logs.some((l) => l.includes('"setting":"JWTGATE_AUTHJS_SECRET"')), bad);
    assert.ok(!g.logs.some((l) => l.includes("short-secret") || l.includes("ok-but-twice")), "secret logged");
    await g.dispose();
  }
});
