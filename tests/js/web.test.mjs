// The web build (pkg/web: browsers, workerd, edge runtimes) has no RSA, ECDSA, Ed25519 or AES
// code of its own. Without host crypto its keys are *deferred*: WebCrypto checks and uses them,
// through the async methods, and every synchronous method that would need them refuses with a
// `config` error naming what to call instead, never a silent `false` or a pass. Run in Node's
// WebCrypto; every token it signs is checked by jose, an independent implementation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as nodeCrypto from "node:crypto";
import * as jose from "jose";

const require = createRequire(import.meta.url);
const web = await import(new URL("../../pkg/web/index.js", import.meta.url));
web.initSync({ module: readFileSync(new URL("../../pkg/web/jwtgate_bg.wasm", import.meta.url)) });
const { nodeCryptoHost } = require(fileURLToPath(new URL("../../pkg/host/node-crypto.cjs", import.meta.url)));

const ISS = "https://issuer.example";
const AUD = "api";
const NOW = Math.floor(Date.now() / 1000);
const ALGS = ["RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"];

async function keys(alg) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const priv = { ...(await jose.exportJWK(privateKey)), kid: "k1", alg };
  const pub = { ...(await jose.exportJWK(publicKey)), kid: "k1", alg };
  return { publicKey, priv, pub };
}

const policy = (alg, jwk) => ({ issuer: ISS, audience: AUD, algorithms: [alg], keys: { keys: [jwk] } });
const subtleOf = () => globalThis.crypto.subtle;
const names = (method) => (e) => e.name === "JwtGateError" && e.code === "config" && e.message.includes(method);

test("no host crypto in the web build until one is registered", () => {
  assert.equal(web.hasHostCrypto(), false);
});

for (const alg of ALGS) {
  test(`${alg}: signAsync signs through WebCrypto (jose verifies), sign refuses, verifyAsync reads it`, async () => {
    const k = await keys(alg);
    const signer = new web.Signer(policy(alg, k.priv), { ttlSeconds: 600 });
    assert.throws(() => signer.sign({ sub: "u" }), names("signAsync"));
    assert.throws(() => signer.signAsIs({ sub: "u" }), names("signAsIsAsync"));
    const token = await signer.signAsync({ sub: "u" }, { now: NOW });
    const { payload, protectedHeader } = await jose.jwtVerify(token, k.publicKey, {
      issuer: ISS,
      audience: AUD,
      algorithms: [alg],
      currentDate: new Date(NOW * 1000),
    });
    assert.equal(payload.sub, "u");
    assert.equal(payload.exp - payload.iat, 600);
    assert.deepEqual([protectedHeader.alg, protectedHeader.kid], [alg, "k1"]);
    // signAsIsAsync: the same claims again; the same bytes where the algorithm is deterministic.
    const again = await signer.signAsIsAsync(payload, { now: NOW });
    if (["RS256", "EdDSA"].includes(alg)) assert.equal(again, token);
    else assert.equal((await jose.jwtVerify(again, k.publicKey, { currentDate: new Date(NOW * 1000) })).payload.jti, payload.jti);
    // The claim rules hold before anything is signed.
    await assert.rejects(signer.signAsIsAsync({ ...payload, aud: "other" }, { now: NOW }), { code: "audience" });
    const verifier = new web.Verifier(policy(alg, k.pub));
    assert.deepEqual(await verifier.verifyAsync(token, { now: NOW }), payload);
    assert.throws(() => new web.Verifier(policy(alg, k.pub), { cacheSize: 0 }).verify(token, { now: NOW }), names("verifyAsync"));
  });
}

test("a private JWK whose halves do not belong together signs nothing (config), in every family", async () => {
  for (const alg of ["RS256", "ES256", "EdDSA"]) {
    const a = await keys(alg);
    const b = await keys(alg);
    const mixed = { ...a.priv, d: b.priv.d, ...(alg === "RS256" ? { p: b.priv.p, q: b.priv.q, dp: b.priv.dp, dq: b.priv.dq, qi: b.priv.qi } : {}) };
    const signer = new web.Signer(policy(alg, mixed));
    await assert.rejects(signer.signAsync({ sub: "u" }), (e) => e.code === "config" && e.field === "keys", alg);
    await assert.rejects(signer.signAsync({ sub: "u" }), { code: "config" }, `${alg}: still refused`);
  }
});

test("without WebCrypto the async methods are config errors, never a token or a pass", async () => {
  const k = await keys("ES256");
  const signer = new web.Signer(policy("ES256", k.priv));
  const token = await signer.signAsync({ sub: "u" });
  const saved = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true, writable: true });
  try {
    await assert.rejects(new web.Signer(policy("ES256", k.priv)).signAsync({ sub: "u" }), { code: "config" });
    await assert.rejects(new web.Verifier(policy("ES256", k.pub)).verifyAsync(token), { code: "config" });
  } finally {
    Object.defineProperty(globalThis, "crypto", saved);
  }
});

test("HMAC needs no host: the sync and async methods answer alike", async () => {
  const secret = { kty: "oct", kid: "h", k: Buffer.from(nodeCrypto.randomBytes(32)).toString("base64url") };
  const p = policy("HS256", secret);
  const signer = new web.Signer(p);
  const token = signer.sign({ sub: "u" }, { now: NOW });
  assert.equal(await signer.signAsIsAsync(new web.Verifier(p).verify(token, { now: NOW }), { now: NOW }), token);
  assert.equal((await new web.Verifier(p).verifyAsync(await signer.signAsync({ sub: "v" }))).sub, "v");
  const r = new web.Refresher({ ...p, maxAgeSeconds: 3600, refresh: { audience: `${ISS}/refresh` } });
  assert.equal(r.refresh(r.start({ sub: "u" })).refreshExpiresIn > 0, true);
});

test("what needs a synchronous host says so: Refresher with an EC key, verifyDpop, verifySignature", async () => {
  const k = await keys("ES256");
  assert.throws(
    () => new web.Refresher({ ...policy("ES256", k.priv), maxAgeSeconds: 3600, refresh: { audience: `${ISS}/refresh` } }),
    names("setHostCrypto"),
  );
  const v = new web.Verifier({ ...policy("ES256", k.pub), dpop: { algorithms: ["ES256"] } });
  assert.throws(() => v.verifyDpop("a.b.c", "d.e.f", { method: "GET", url: "https://api.example/" }), (e) => e.code === "config" && e.field === "dpop");
  assert.throws(() => web.verifySignature(k.pub, "ES256", new Uint8Array(1), new Uint8Array(64), true), (e) => e.code === "config" && e.field === "jwk");
});

test("with node:crypto registered, the web build checks keys when they load and signs and verifies synchronously", async () => {
  const k = await keys("ES256");
  web.setHostCrypto(nodeCryptoHost(nodeCrypto));
  try {
    const token = new web.Signer(policy("ES256", k.priv)).sign({ sub: "u" });
    assert.equal(new web.Verifier(policy("ES256", k.pub)).verify(token).sub, "u");
    // The host checks the point now: one off its curve is refused when it loads.
    const y = Buffer.from(k.pub.y, "base64url");
    y[31] ^= 1;
    assert.throws(() => new web.Verifier(policy("ES256", { ...k.pub, y: y.toString("base64url") })), { code: "config" });
  } finally {
    web.setHostCrypto(null);
  }
  // A verifier built before the host came keeps its deferred keys: still async only.
  assert.equal(web.hasHostCrypto(), false);
});

test("an EC point off its curve, deferred, is refused by WebCrypto's import at first use (config)", async () => {
  const k = await keys("ES256");
  const token = await new web.Signer(policy("ES256", k.priv)).signAsync({ sub: "u" });
  const y = Buffer.from(k.pub.y, "base64url");
  y[31] ^= 1;
  const v = new web.Verifier(policy("ES256", { ...k.pub, y: y.toString("base64url") }));
  await assert.rejects(v.verifyAsync(token), (e) => e.code === "config" && e.field === "keys.keys[0]");
});

test("WebCrypto answers that are not bytes are config errors: no junk token, no junk claims", async () => {
  const k = await keys("ES256");
  const realSign = subtleOf().sign;
  subtleOf().sign = async () => 64; // a number: `new Uint8Array(64)` would be 64 zeros
  try {
    await assert.rejects(new web.Signer(policy("ES256", k.priv)).signAsync({ sub: "u" }), (e) => e.code === "config" && e.field === "keys");
  } finally {
    subtleOf().sign = realSign;
  }
  const fixture = JSON.parse(readFileSync(new URL("../fixtures/authjs/cookies.json", import.meta.url), "utf8"));
  const reader = new web.AuthJsCookie({ issuer: "https://app.example", audience: "app", algorithms: ["HS256"] }, { secret: fixture.secret, cookieName: fixture.secureCookie });
  const now = fixture.iat + 10;
  const { importKey, decrypt } = subtleOf();
  const cases = [
    ["a key WebCrypto will not import", { importKey: async () => { throw new Error("no AES"); } }, "config"],
    ["a decryption that answers a number", { decrypt: async () => 17 }, "config"],
    ["a decryption that answers an Array", { decrypt: async () => [1, 2, 3] }, "config"],
    ["a decryption that refuses (a wrong tag)", { decrypt: async () => { throw new Error("OperationError"); } }, "signature"],
  ];
  for (const [what, patch, code] of cases) {
    Object.assign(subtleOf(), patch);
    try {
      for (const enc of ["gcm", "cbc"]) await assert.rejects(reader.openAsync(fixture[enc], { now }), { code }, `${what} (${enc})`);
    } finally {
      Object.assign(subtleOf(), { importKey, decrypt });
    }
  }
  assert.equal((await reader.openAsync(fixture.gcm, { now })).sub, "user_1");
});

test("explain names verifyAsync for a deferred key's signature instead of calling it invalid", async () => {
  const k = await keys("EdDSA");
  const token = await new web.Signer(policy("EdDSA", k.priv)).signAsync({ sub: "u" });
  const report = web.explain(token, policy("EdDSA", k.pub));
  const signature = report.stages.find((s) => s.stage === "signature");
  assert.equal(signature?.verdict, "fail", JSON.stringify(report.stages));
  assert.equal(signature.code, "config");
  assert.match(signature.message, /verifyAsync/);
});

test("the finishing internals serve deferred objects only: no plaintext or signature from outside for the others", async () => {
  const raw = await import(new URL("../../pkg/web/jwtgate.js", import.meta.url));
  const fixture = JSON.parse(readFileSync(new URL("../fixtures/authjs/cookies.json", import.meta.url), "utf8"));
  const secret = { kty: "oct", kid: "h", k: Buffer.from(nodeCrypto.randomBytes(32)).toString("base64url") };
  web.setHostCrypto(nodeCryptoHost(nodeCrypto));
  try {
    const reader = new web.AuthJsCookie({ issuer: "https://app.example", audience: "app", algorithms: ["HS256"] }, { secret: fixture.secret, cookieName: fixture.secureCookie });
    const forged = new TextEncoder().encode(JSON.stringify({ sub: "admin", iss: "https://app.example", aud: "app" }));
    assert.throws(() => raw.__jwtgate_openFinish(reader, fixture.gcm, { now: fixture.iat + 10 }, forged), { code: "config" });
    const signer = new web.Signer(policy("HS256", secret));
    assert.throws(() => raw.__jwtgate_finishSign(signer, "e30.e30", new Uint8Array(32), true), { code: "config" });
  } finally {
    web.setHostCrypto(null);
  }
});

test("nativeCrypto: false asks the web build for arithmetic it does not have: config, naming jwtgate/pure", async () => {
  const k = await keys("ES256");
  assert.throws(
    () => new web.Verifier(policy("ES256", k.pub), { nativeCrypto: false }),
    (e) => e.code === "config" && e.field === "nativeCrypto" && e.message.includes("jwtgate/pure"),
  );
});
