// Signer.publicJwks / Refresher.publicJwks: the JWKS a Node issuer publishes. Checked with jose
// (an independent verifier): the published set verifies the signer's tokens; no member but the
// public ones ever appears; and a rotation walked through sign -> publish ahead -> rotate -> old
// tokens still verify -> retire.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as jose from "jose";

const require = createRequire(import.meta.url);
const node = require(fileURLToPath(new URL("../../pkg/", import.meta.url)));

const ISS = "https://issuer.example";
const policy = (keys, algorithms = ["ES256"], extra = {}) => ({ issuer: ISS, audience: "api", algorithms, keys: { keys }, ...extra });
const PUBLIC_MEMBERS = new Set(["kty", "crv", "n", "e", "x", "y", "kid", "alg", "use"]);

async function keyPair(alg, kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, ...(alg.startsWith("RS") || alg.startsWith("PS") ? { modulusLength: 2048 } : {}) });
  const priv = { ...(await jose.exportJWK(privateKey)), kid };
  const pub = { ...(await jose.exportJWK(publicKey)), kid };
  return { priv, pub };
}

const verifyWith = (jwks, token) => jose.jwtVerify(token, jose.createLocalJWKSet(jwks), { issuer: ISS, audience: "api" });
const onlyPublic = (jwks) => {
  for (const k of jwks.keys) {
    for (const name of Object.keys(k)) assert.ok(PUBLIC_MEMBERS.has(name), `member ${name} published`);
    assert.equal(k.use, "sig");
  }
};

test("every algorithm: the published set verifies the signer's tokens with jose, and holds public members only", async () => {
  for (const alg of ["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"]) {
    const k = await keyPair(alg, `${alg}-1`);
    const signer = new node.Signer(policy([k.priv], [alg]));
    const jwks = signer.publicJwks();
    onlyPublic(jwks);
    assert.equal(jwks.keys.length, 1, alg);
    assert.equal(jwks.keys[0].kid, `${alg}-1`);
    assert.equal(jwks.keys[0].alg, alg);
    const { payload } = await verifyWith(jwks, signer.sign({ sub: "u" }));
    assert.equal(payload.sub, "u");
  }
  // An HMAC secret is never published: an HMAC signer has nothing to publish.
  const secret = { kty: "oct", kid: "h", k: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url") };
  const ec = await keyPair("ES256", "e");
  assert.throws(() => new node.Signer(policy([secret, ec.pub], ["HS256", "ES256"])).publicJwks(), { code: "config" });
  // An Ed25519 key answering to both names is published under the one its tokens carry.
  const ed = await keyPair("EdDSA", "ed");
  for (const [algs, name] of [[["EdDSA", "Ed25519"], "EdDSA"], [["Ed25519", "EdDSA"], "Ed25519"]]) {
    const s = new node.Signer(policy([ed.priv], algs));
    const t = s.sign({ sub: "u" });
    assert.equal(jose.decodeProtectedHeader(t).alg, name);
    assert.equal(s.publicJwks().keys[0].alg, name);
    await verifyWith(s.publicJwks(), t);
  }
});

test("a rotation: publish the next key ahead, rotate, old tokens still verify, retire", async () => {
  const k1 = await keyPair("ES256", "2026-01");
  const k2 = await keyPair("ES256", "2026-02");
  // 1. K1 signs; the set holds K1.
  const s1 = new node.Signer(policy([k1.priv]));
  const old = s1.sign({ sub: "u" });
  assert.deepEqual(s1.publicJwks().keys.map((k) => k.kid), ["2026-01"]);
  // 2. K2 published ahead (its public half beside the signing key): K1 still signs, first.
  const s2 = new node.Signer(policy([k1.priv, k2.pub]));
  assert.equal(jose.decodeProtectedHeader(s2.sign({ sub: "u" })).kid, "2026-01");
  const ahead = s2.publicJwks();
  assert.deepEqual(ahead.keys.map((k) => k.kid), ["2026-01", "2026-02"]);
  onlyPublic(ahead);
  // 3. Rotate: K2 signs (its private key now), K1's public half stays published.
  const s3 = new node.Signer(policy([k2.priv, k1.pub]));
  const fresh = s3.sign({ sub: "u" });
  assert.equal(jose.decodeProtectedHeader(fresh).kid, "2026-02");
  const rotated = s3.publicJwks();
  assert.deepEqual(rotated.keys.map((k) => k.kid), ["2026-02", "2026-01"]);
  await verifyWith(rotated, old); // tokens K1 signed before the rotation still verify
  await verifyWith(rotated, fresh);
  // A verifier that fetched the set published ahead (step 2) verifies the new tokens too.
  await verifyWith(ahead, fresh);
  // 4. Retire K1 once its tokens have expired: they no longer verify.
  const s4 = new node.Signer(policy([k2.priv]));
  assert.deepEqual(s4.publicJwks().keys.map((k) => k.kid), ["2026-02"]);
  await assert.rejects(verifyWith(s4.publicJwks(), old), { code: "ERR_JWKS_NO_MATCHING_KEY" });
});

test("a Refresher publishes the key its access and refresh tokens are signed with", async () => {
  const k = await keyPair("EdDSA", "ed-1");
  const r = new node.Refresher(policy([k.priv], ["EdDSA"], { maxAgeSeconds: 3600, refresh: { audience: "https://issuer.example/refresh" } }));
  const jwks = r.publicJwks();
  onlyPublic(jwks);
  const refresh = r.start({ sub: "u" });
  await jose.jwtVerify(refresh, jose.createLocalJWKSet(jwks), { issuer: ISS, audience: "https://issuer.example/refresh" });
});
