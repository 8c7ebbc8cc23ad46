// The gate publishes the public halves of the keys it signs access and refresh tokens with
// (JWTGATE_JWKS_PATH), over HTTP in workerd. Checked with jose: the served set verifies the
// tokens the gate's refresh endpoint issues; no private member ever appears; a rotation walked
// through sign -> publish ahead -> rotate -> old tokens still verify -> retire.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as jose from "jose";
import { ISS, AUD, gate, basePolicy, openGates, expectMisconfigured } from "./harness.mjs";

after(() => Promise.all([...openGates].map((g) => g.dispose())));

const REFRESH_AUD = "https://auth.example.com/refresh";
const PATH = "/.jwtgate/refresh";
const COOKIE = "__Host-jwtgate-refresh";
const STATE = { JWTGATE_STATE: "JwtgateState" };
const PUBLIC_MEMBERS = new Set(["kty", "crv", "x", "y", "n", "e", "kid", "alg", "use"]);
const policy = { ...basePolicy, algorithms: ["ES256"], maxAgeSeconds: 86400, refresh: { audience: REFRESH_AUD, ttlSeconds: 3600, accessTtlSeconds: 300 } };

async function keyPair(kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  return { kid, privateKey, priv: { ...(await jose.exportJWK(privateKey)), kid }, pub: { ...(await jose.exportJWK(publicKey)), kid } };
}
const k1 = await keyPair("2026-01");
const k2 = await keyPair("2026-02");

const vars = (keys, extra = {}) => ({
  JWTGATE_POLICY: JSON.stringify(policy),
  JWTGATE_KEYS: JSON.stringify({ keys }),
  JWTGATE_REFRESH_PATH: PATH,
  ...extra,
});

/** An access token from the gate's refresh endpoint, for a family the issuer started with `key`. */
async function accessToken(g, key) {
  const first = await new jose.SignJWT({ sub: "user_1", sid: crypto.randomUUID(), gen: 0, auth_time: Math.floor(Date.now() / 1000) })
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "jwtgate-refresh+jwt" })
    .setIssuer(ISS)
    .setAudience(REFRESH_AUD)
    .setIssuedAt()
    .setExpirationTime("1h")
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
  const r = await g.fetch(PATH, { method: "POST", headers: { cookie: `${COOKIE}=${first}` } });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()).access_token;
}

async function published(g, path = "/.well-known/jwks.json") {
  const r = await g.fetch(path);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "application/jwk-set+json");
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  const jwks = await r.json();
  for (const k of jwks.keys) for (const name of Object.keys(k)) assert.ok(PUBLIC_MEMBERS.has(name), `published ${name}`);
  return { jwks, cacheControl: r.headers.get("cache-control") };
}

const verify = (jwks, token) => jose.jwtVerify(token, jose.createLocalJWKSet(jwks), { issuer: ISS, audience: AUD });

test("the served set verifies the gate's tokens with jose, holds public members only, and is cacheable", async () => {
  const g = await gate(vars([k1.priv], { JWTGATE_JWKS_CACHE_SECONDS: "120" }), { durableObjects: STATE });
  try {
    const { jwks, cacheControl } = await published(g);
    assert.equal(cacheControl, "public, max-age=120");
    assert.deepEqual(jwks.keys.map((k) => [k.kid, k.alg, k.use]), [["2026-01", "ES256", "sig"]]);
    const { payload, protectedHeader } = await verify(jwks, await accessToken(g, k1));
    assert.equal(payload.sub, "user_1");
    assert.equal(protectedHeader.kid, "2026-01");
    // Served whatever credential comes with it, and only to GET and HEAD.
    assert.equal((await g.fetch("/.well-known/jwks.json", { headers: { authorization: "Bearer x.y.z" } })).status, 200);
    assert.equal((await g.fetch("/.well-known/jwks.json", { method: "HEAD" })).status, 200);
    const post = await g.fetch("/.well-known/jwks.json", { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  } finally {
    await g.dispose();
  }
});

test("a rotation: publish the next key ahead, rotate, old tokens still verify, retire", async () => {
  // 1. K1 signs.
  let g = await gate(vars([k1.priv]), { durableObjects: STATE });
  const old = await accessToken(g, k1);
  await g.dispose();
  // 2. K2 published ahead of its use: K1 still signs, listed first.
  g = await gate(vars([k1.priv, k2.pub]), { durableObjects: STATE });
  const ahead = (await published(g)).jwks;
  assert.deepEqual(ahead.keys.map((k) => k.kid), ["2026-01", "2026-02"]);
  assert.equal(jose.decodeProtectedHeader(await accessToken(g, k1)).kid, "2026-01");
  await g.dispose();
  // 3. Rotate: K2 signs; K1's public half stays published, so its tokens still verify, at the
  //    gate and for every service that fetched the set.
  g = await gate(vars([k2.priv, k1.pub]), { durableObjects: STATE });
  try {
    const rotated = (await published(g)).jwks;
    assert.deepEqual(rotated.keys.map((k) => k.kid), ["2026-02", "2026-01"]);
    const fresh = await accessToken(g, k2);
    assert.equal(jose.decodeProtectedHeader(fresh).kid, "2026-02");
    await verify(rotated, old);
    await verify(rotated, fresh);
    await verify(ahead, fresh); // a service still holding the set published ahead
    assert.equal((await g.fetch("/orders", { headers: { authorization: `Bearer ${old}` } })).status, 200);
  } finally {
    await g.dispose();
  }
  // 4. Retire K1 once its tokens have expired.
  g = await gate(vars([k2.priv]), { durableObjects: STATE });
  try {
    const retired = (await published(g)).jwks;
    assert.deepEqual(retired.keys.map((k) => k.kid), ["2026-02"]);
    await assert.rejects(verify(retired, old), { code: "ERR_JWKS_NO_MATCHING_KEY" });
  } finally {
    await g.dispose();
  }
});

test("nothing to publish is a configuration error; none turns it off", async () => {
  // An HMAC-signing gate (its verifiers share the secret) and a gate that signs nothing.
  await expectMisconfigured({ JWTGATE_JWKS_PATH: "/keys" }, "JWTGATE_JWKS_PATH");
  const g = await gate(vars([k1.priv], { JWTGATE_JWKS_PATH: "none" }), { durableObjects: STATE });
  try {
    const r = await g.fetch("/.well-known/jwks.json");
    assert.equal(r.status, 401, "not served: an ordinary protected path");
  } finally {
    await g.dispose();
  }
});
