// The gate's host crypto over HTTP: its wasm has no RSA, ECDSA or Ed25519 arithmetic of its own
// (cargo feature `host-keys`). WebCrypto checks signatures; workerd's node:crypto, under the
// `nodejs_compat` flag wrangler.toml sets, checks keys as they load and makes the signatures the
// gate issues. Every family is tried both ways against jose; a key whose private half is not its
// public key's is refused; and without the flag such keys are configuration errors, never keys
// that pass.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as jose from "jose";
import { ISS, AUD, gate, bearer, hsToken, openGates, sleep, upstream } from "./harness.mjs";

after(() => Promise.all([...openGates].map((g) => g.dispose())));

const FAMILIES = [
  ["RS256", {}],
  ["PS384", {}],
  ["ES256", {}],
  ["ES384", {}],
  ["ES512", {}],
  ["EdDSA", { crv: "Ed25519" }],
];

async function keyPair(alg, opts, kid) {
  const pair = await jose.generateKeyPair(alg, { extractable: true, ...opts });
  return {
    alg,
    kid,
    pair,
    pub: { ...(await jose.exportJWK(pair.publicKey)), kid, alg },
    priv: { ...(await jose.exportJWK(pair.privateKey)), kid, alg },
  };
}

const signed = (k, claims = {}, header = {}) =>
  new jose.SignJWT({ sub: "user_host", ...claims })
    .setProtectedHeader({ alg: k.alg, kid: k.kid, ...header })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(k.pair.privateKey);

const keys = await Promise.all(FAMILIES.map(([alg, opts], i) => keyPair(alg, opts, `k-${i}`)));
const others = await Promise.all(FAMILIES.map(([alg, opts], i) => keyPair(alg, opts, `k-${i}`)));
const policy = (extra = {}) => ({
  issuer: ISS,
  audience: AUD,
  algorithms: ["HS256", ...FAMILIES.map(([a]) => a)],
  requiredClaims: ["sub"],
  ...extra,
});

test("every family verifies at the gate: jose's tokens pass, another key's and a tampered one's do not", async () => {
  const g = await gate({
    JWTGATE_POLICY: JSON.stringify(policy()),
    JWTGATE_KEYS: JSON.stringify({ keys: keys.map((k) => k.pub) }),
  });
  const before = upstream.hits.length;
  for (const [i, k] of keys.entries()) {
    const good = await signed(k);
    const r = await g.fetch("/orders", { headers: bearer(good) });
    assert.equal(r.status, 200, `${k.alg}: ${await r.text()}`);
    assert.equal(upstream.hits.at(-1).headers["x-jwtgate-sub"], "user_host");
    // The same kid and alg, signed by another key of the family.
    const forged = await signed(others[i]);
    const f = await g.fetch("/orders", { headers: bearer(forged) });
    assert.equal(f.status, 401, k.alg);
    assert.match(f.headers.get("www-authenticate"), /invalid_token/);
    // One bit of the signature flipped.
    const [h, p, s] = good.split(".");
    const sig = Buffer.from(s, "base64url");
    sig[sig.length >> 1] ^= 1;
    const t = await g.fetch("/orders", { headers: bearer(`${h}.${p}.${sig.toString("base64url")}`) });
    assert.equal(t.status, 401, `${k.alg} tampered`);
  }
  assert.equal(upstream.hits.length, before + keys.length, "only the genuine tokens reached the upstream");
  await g.dispose();
});

test("the gate signs with RS*, ES* and EdDSA: its tokens verify with jose; a PS* signing key is refused", async () => {
  const REFRESH_AUD = `${ISS}/refresh`;
  for (const k of keys) {
    const g = await gate(
      {
        JWTGATE_POLICY: JSON.stringify(
          policy({ algorithms: [k.alg], maxAgeSeconds: 86400, refresh: { audience: REFRESH_AUD, ttlSeconds: 3600, accessTtlSeconds: 300 } }),
        ),
        JWTGATE_KEYS: JSON.stringify({ keys: [k.priv] }),
        JWTGATE_REFRESH_PATH: "/.jwtgate/refresh",
      },
      { durableObjects: { JWTGATE_STATE: "JwtgateState" } },
    );
    const first = await new jose.SignJWT({ sub: "u", sid: crypto.randomUUID(), gen: 0, auth_time: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: "jwtgate-refresh+jwt" })
      .setIssuer(ISS)
      .setAudience(REFRESH_AUD)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(k.pair.privateKey);
    const r = await g.fetch("/.jwtgate/refresh", { method: "POST", headers: { cookie: `__Host-jwtgate-refresh=${first}` } });
    await sleep(20);
    if (k.alg.startsWith("PS")) {
      // workerd's node:crypto ignores `padding` (it would sign PKCS#1 v1.5 under a PS* name):
      // the gate's signer checks its host's signature at load, and refuses.
      assert.equal(r.status, 500, `${k.alg}: ${await r.clone().text()}`);
      assert.deepEqual(await r.json(), { error: "misconfigured" });
      assert.ok(g.logs.some((l) => l.includes("RSA-PSS")), g.logs.join("\n"));
      await g.dispose();
      continue;
    }
    assert.equal(r.status, 200, `${k.alg}: ${await r.clone().text()} ${g.logs.join("\n")}`);
    const { access_token } = await r.json();
    const { protectedHeader } = await jose.jwtVerify(access_token, k.pair.publicKey, { issuer: ISS, audience: AUD });
    assert.equal(protectedHeader.alg, k.alg);
    // The next refresh token (the cookie) is the gate's signature too.
    const next = /__Host-jwtgate-refresh=([^;]*)/.exec(r.headers.get("set-cookie"))[1];
    await jose.jwtVerify(next, k.pair.publicKey, { issuer: ISS, audience: REFRESH_AUD });
    await g.dispose();
  }
});

test("a private key whose public members are another key's is a configuration error", async () => {
  for (const i of [0, 2, 4, 5]) {
    const k = keys[i];
    const mixed = { ...others[i].priv, kid: k.kid };
    // The private members of one key under the public members of another.
    for (const m of ["n", "e", "x", "y"]) if (k.pub[m] !== undefined) mixed[m] = k.pub[m];
    const g = await gate({
      JWTGATE_POLICY: JSON.stringify(policy({ algorithms: [k.alg] })),
      JWTGATE_KEYS: JSON.stringify({ keys: [mixed] }),
    });
    const r = await g.fetch("/orders", { headers: bearer(await signed(k)) });
    assert.equal(r.status, 500, k.alg);
    assert.deepEqual(await r.json(), { error: "misconfigured" });
    await sleep(20);
    assert.ok(g.logs.some((l) => l.includes('"setting":"JWTGATE_KEYS"')), `${k.alg}: ${g.logs.join("\n")}`);
    assert.ok(!g.logs.some((l) => l.includes(mixed.d)), "key material logged");
    await g.dispose();
  }
});

test("without nodejs_compat: RSA, EC and OKP keys are configuration errors that say so; HMAC still works", async () => {
  const before = upstream.hits.length;
  const g = await gate(
    {
      JWTGATE_POLICY: JSON.stringify(policy({ algorithms: ["ES256"] })),
      JWTGATE_KEYS: JSON.stringify({ keys: [keys[2].pub] }),
    },
    { compatibilityFlags: [] },
  );
  const r = await g.fetch("/orders", { headers: bearer(await signed(keys[2])) });
  assert.equal(r.status, 500);
  assert.deepEqual(await r.json(), { error: "misconfigured" });
  await sleep(20);
  assert.ok(g.logs.some((l) => l.includes("nodejs_compat")), g.logs.join("\n"));
  assert.equal(upstream.hits.length, before);
  await g.dispose();
  const h = await gate({}, { compatibilityFlags: [] });
  assert.equal((await h.fetch("/orders", { headers: bearer(await hsToken()) })).status, 200);
  await h.dispose();
});
