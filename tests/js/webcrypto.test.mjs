// `Verifier.verifyAsync` of the ES module entry (pkg/web/index.js, no arithmetic of its own), run
// in Node's WebCrypto: signatures go to crypto.subtle.verify (counted, to prove it), everything
// else stays in Rust, answers and error precedence match the pure build's `verify` (its own
// RustCrypto), a key WebCrypto refuses is `config` (in jwtgate/pure: Rust checks it), and the
// composition verifyAsync uses (Rust's form checks, then WebCrypto) agrees with Rust on every
// Wycheproof ES256, ES384, ES512, Ed25519 and RS256 vector.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import * as jose from "jose";
import { ecdsaP1363, hex, load, p256Jwk } from "./vectors.mjs";

const web = await import(new URL("../../pkg/web/index.js", import.meta.url));
web.initSync({ module: readFileSync(new URL("../../pkg/web/jwtgate_bg.wasm", import.meta.url)) });
const { Verifier, verifySignature, setHostCrypto } = web;
const pure = await import(new URL("../../pkg/pure/index.js", import.meta.url));
pure.initSync({ module: readFileSync(new URL("../../pkg/pure/jwtgate_bg.wasm", import.meta.url)) });

const subtle = globalThis.crypto.subtle;
const realVerify = subtle.verify.bind(subtle);
const realImport = subtle.importKey.bind(subtle);
const counts = { verify: 0, import: 0 };
subtle.verify = (...a) => (counts.verify++, realVerify(...a));
subtle.importKey = (...a) => (counts.import++, realImport(...a));

const ISS = "https://issuer.example";
const AUD = "api";
const T0 = Math.floor(Date.now() / 1000);

function keyPair(alg) {
  if (alg.startsWith("HS")) {
    const k = globalThis.crypto.getRandomValues(new Uint8Array(64));
    return { sign: k, jwk: { kty: "oct", k: Buffer.from(k).toString("base64url"), kid: "k" } };
  }
  const kp = alg.startsWith("RS") || alg.startsWith("PS")
    ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : alg.startsWith("ES")
      ? generateKeyPairSync("ec", { namedCurve: { ES256: "P-256", ES384: "P-384", ES512: "P-521" }[alg] })
      : generateKeyPairSync("ed25519");
  return { sign: kp.privateKey, jwk: { ...kp.publicKey.export({ format: "jwk" }), kid: "k" } };
}

const sign = (alg, k, { exp = T0 + 600, aud = AUD } = {}) =>
  new jose.SignJWT({ sub: "u" })
    .setProtectedHeader({ alg, kid: "k" })
    .setIssuer(ISS)
    .setAudience(aud)
    .setIssuedAt(T0 - 60)
    .setExpirationTime(exp)
    .sign(k.sign);

const policy = (alg, k) => ({ issuer: ISS, audience: AUD, algorithms: [alg], keys: { keys: [k.jwk] } });

function tamper(token) {
  const [h, p, s] = token.split(".");
  const sig = Buffer.from(s, "base64url");
  sig[sig.length >> 1] ^= 0x20;
  return `${h}.${p}.${sig.toString("base64url")}`;
}

const codeOf = async (promise) => {
  try {
    await promise;
    return "ok";
  } catch (e) {
    assert.equal(e.name, "JwtGateError");
    return e.code;
  }
};

for (const alg of ["RS256", "RS512", "PS256", "PS384", "ES256", "ES384", "ES512", "EdDSA"]) {
  test(`${alg}: verifyAsync checks the signature with WebCrypto and agrees with Rust's verify`, async () => {
    const k = keyPair(alg);
    const v = new Verifier(policy(alg, k), { cacheSize: 0 });
    assert.equal(v.nativeCrypto, false);
    const good = await sign(alg, k);
    const before = counts.verify;
    assert.equal((await v.verifyAsync(good)).sub, "u");
    assert.equal(counts.verify, before + 1, "crypto.subtle.verify was used");
    assert.equal(await codeOf(v.verifyAsync(tamper(good))), "signature");
    // A claim failure only shows once the signature verified; a forged one is a signature error.
    const expired = await sign(alg, k, { exp: T0 - 3600 });
    assert.equal(await codeOf(v.verifyAsync(expired)), "expired");
    assert.equal(await codeOf(v.verifyAsync(tamper(expired))), "signature");
    const otherAud = await sign(alg, k, { aud: "other" });
    assert.equal(await codeOf(v.verifyAsync(otherAud)), "audience");
    // Rules before the signature are Rust's, as in verify.
    assert.equal(await codeOf(v.verifyAsync(good + ".")), "malformed");
    // The synchronous method has nothing to check it with here, and says which to call.
    assert.throws(() => v.verify(good), (e) => e.code === "config" && /verifyAsync/.test(e.message));
    const rust = new pure.Verifier(policy(alg, k), { cacheSize: 0 });
    for (const t of [good, tamper(good), expired, tamper(expired), otherAud]) {
      let sync;
      try {
        sync = rust.verify(t).sub;
      } catch (e) {
        sync = e.code;
      }
      const asyncAnswer = await v.verifyAsync(t).then((c) => c.sub, (e) => e.code);
      assert.equal(asyncAnswer, sync);
    }
  });
}

test("HMAC stays in Rust; the key is imported into WebCrypto once; the cache spares WebCrypto", async () => {
  const hs = keyPair("HS256");
  const vh = new Verifier(policy("HS256", hs));
  const before = counts.verify;
  assert.equal((await vh.verifyAsync(await sign("HS256", hs))).sub, "u");
  assert.equal(counts.verify, before, "no WebCrypto for HMAC");

  const k = keyPair("ES256");
  const v = new Verifier(policy("ES256", k), { cacheSize: 8 });
  const t1 = await sign("ES256", k);
  const t2 = await sign("ES256", k, { exp: T0 + 900 });
  const imports = counts.import;
  // Each twice: the cache admits a token on its second verification.
  for (const t of [t1, t2, t1, t2]) await v.verifyAsync(t);
  assert.equal(counts.import, imports + 1, "one importKey per key and algorithm");
  const verifies = counts.verify;
  assert.equal((await v.verifyAsync(t1)).sub, "u");
  assert.equal((v.verify(t2)).sub, "u", "verify and verifyAsync share the cache");
  assert.equal(counts.verify, verifies, "cache hits do not verify again");
  assert.equal(await codeOf(v.verifyAsync(t1, { now: T0 + 700 })), "expired", "hits re-check time");
  assert.equal((await v.verifyAsync(t2, { now: T0 + 700 })).sub, "u");
});

test("a key WebCrypto cannot import, or a WebCrypto that throws: config in the web build, Rust's check in jwtgate/pure", async () => {
  const k = keyPair("EdDSA");
  const good = await sign("EdDSA", k);
  const isConfig = (e) => e.code === "config" && e.field === "keys.keys[0]" && /WebCrypto/.test(e.message);
  subtle.importKey = () => Promise.reject(new Error("unsupported"));
  try {
    const v = new Verifier(policy("EdDSA", k), { cacheSize: 0 });
    const before = counts.verify;
    await assert.rejects(v.verifyAsync(good), isConfig);
    await assert.rejects(v.verifyAsync(tamper(good)), isConfig);
    assert.equal(counts.verify, before, "WebCrypto not asked without a key");
    const p = new pure.Verifier(policy("EdDSA", k), { cacheSize: 0 });
    assert.equal((await p.verifyAsync(good)).sub, "u");
    assert.equal(await codeOf(p.verifyAsync(tamper(good))), "signature");
  } finally {
    subtle.importKey = (...a) => (counts.import++, realImport(...a));
  }
  subtle.verify = () => Promise.reject(new Error("boom"));
  try {
    const v = new Verifier(policy("EdDSA", k), { cacheSize: 0 });
    await assert.rejects(v.verifyAsync(good), isConfig);
    const p = new pure.Verifier(policy("EdDSA", k), { cacheSize: 0 });
    assert.equal((await p.verifyAsync(good)).sub, "u");
    assert.equal(await codeOf(p.verifyAsync(tamper(good))), "signature");
  } finally {
    subtle.verify = (...a) => (counts.verify++, realVerify(...a));
  }
  // No WebCrypto at all: the same config error, never a pass.
  const saved = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true, writable: true });
  try {
    await assert.rejects(new Verifier(policy("EdDSA", k), { cacheSize: 0 }).verifyAsync(good), isConfig);
  } finally {
    Object.defineProperty(globalThis, "crypto", saved);
  }
});

test("web build: an Ed25519 x that is no point is refused at first use (WebCrypto would import it)", async () => {
  const k = keyPair("EdDSA");
  const good = await sign("EdDSA", k);
  // 2 is no y-coordinate of edwards25519 (pure refuses the key when it loads).
  const x = Buffer.alloc(32);
  x[0] = 2;
  const bad = { ...k, jwk: { ...k.jwk, x: x.toString("base64url") } };
  assert.throws(() => new pure.Verifier(policy("EdDSA", bad)), { code: "config" });
  const v = new Verifier(policy("EdDSA", bad), { cacheSize: 0 });
  await assert.rejects(v.verifyAsync(good), (e) => e.code === "config" && e.field === "keys.keys[0]");
});

// --- Wycheproof: Rust's form checks, then WebCrypto (verifyAsync's composition), against Rust.
const WEB = {
  ES256: [{ name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-256" }],
  ES384: [{ name: "ECDSA", namedCurve: "P-384" }, { name: "ECDSA", hash: "SHA-384" }],
  ES512: [{ name: "ECDSA", namedCurve: "P-521" }, { name: "ECDSA", hash: "SHA-512" }],
  EdDSA: [{ name: "Ed25519" }, { name: "Ed25519" }],
  RS256: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "RSASSA-PKCS1-v1_5" }],
};

async function viaWebCrypto(jwk, alg, msg, sig) {
  // The web build's key and form checks: a recording host sees the signature only if they pass
  // (it accepts every key: the key checks that need arithmetic are WebCrypto's import below).
  let passed = false;
  setHostCrypto({ importKey: () => ({ verify: () => ((passed = true), false) }), checkKey: () => true, sign: () => undefined });
  try {
    verifySignature(jwk, alg, msg, sig, true);
  } catch {
    return false; // a key the web build refuses
  } finally {
    setHostCrypto(null);
  }
  if (!passed) return false;
  let key;
  try {
    key = await realImport("jwk", jwk, WEB[alg][0], false, ["verify"]);
  } catch {
    return false; // verifyAsync: `config`, never a pass
  }
  return realVerify(WEB[alg][1], key, sig, msg);
}

async function parity(file, alg, keyFor, total) {
  let n = 0;
  for (const group of load(file).testGroups) {
    const jwk = keyFor(group);
    for (const t of group.tests) {
      const msg = hex(t.msg);
      const sig = hex(t.sig);
      const rust = pure.verifySignature(jwk, alg, msg, sig, false);
      const webAnswer = await viaWebCrypto(jwk, alg, msg, sig);
      assert.equal(webAnswer, rust, `${file} tcId ${t.tcId}: WebCrypto path and Rust disagree`);
      if (t.result === "valid") assert.equal(rust, true, `tcId ${t.tcId}`);
      if (t.result === "invalid") assert.equal(rust, false, `tcId ${t.tcId}`);
      n++;
    }
  }
  assert.equal(n, total);
}

test("Wycheproof ES256 (P1363): Rust form checks + WebCrypto give Rust's answers", () =>
  parity("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json", "ES256", p256Jwk, 262));

for (const [file, alg, keyFor, total] of ecdsaP1363) {
  test(`Wycheproof ${alg} (P1363): Rust form checks + WebCrypto give Rust's answers`, () =>
    parity(file, alg, keyFor, total));
}

test("Wycheproof Ed25519: Rust form checks + WebCrypto give Rust's answers", () =>
  parity("wycheproof/ed25519_test.json", "EdDSA", (g) => g.publicKeyJwk, 151));

test("Wycheproof RS256: Rust form checks + WebCrypto give Rust's answers", () =>
  parity("wycheproof/rsa_signature_2048_sha256_test.json", "RS256", (g) => g.keyJwk, 259));
