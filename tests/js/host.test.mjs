// Host crypto and the verified-token cache of the npm package (Node entry).
//
// Parity: every Wycheproof vector for ES256 (P1363), Ed25519 and RS256 is checked through
// node:crypto (`native: true`) and through jwtgate's own Rust code (`native: false`); the two must
// give the same answer, and that answer must match the vector's verdict. A counting wrapper around
// the host proves the native path really ran.
//
// Cache: hits re-apply time rules at the caller's `now`, failures are never cached, a cache entry
// never outlives a policy check, and options are validated like the policy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as crypto from "node:crypto";
import * as jose from "jose";
import { b64, ecdsaP1363, hex, load, p256Jwk } from "./vectors.mjs";

const require = createRequire(import.meta.url);
const pkgDir = fileURLToPath(new URL("../../pkg/", import.meta.url));
const jwtgate = require(pkgDir);
const { nodeCryptoHost } = require(pkgDir + "host/node-crypto.cjs");
const { Verifier, Signer, verifySignature, setHostCrypto, hasHostCrypto } = jwtgate;

/** Wraps node:crypto host support and counts native signature checks. */
function countingHost() {
  const inner = nodeCryptoHost(crypto);
  const counts = { imports: 0, verifies: 0 };
  return {
    counts,
    importKey(jwk, alg, params) {
      const key = inner.importKey(jwk, alg, params);
      if (!key) return key;
      counts.imports++;
      return {
        verify(data, sig) {
          counts.verifies++;
          return key.verify(data, sig);
        },
      };
    },
  };
}

function check(jwk, alg, msg, sig, native) {
  try {
    return verifySignature(jwk, alg, msg, sig, native);
  } catch (e) {
    assert.equal(e.code, "config", "only an unusable key may throw");
    return "key refused";
  }
}

function parity(file, alg, keyFor, expectTotal) {
  const host = countingHost();
  setHostCrypto(host);
  try {
    const tally = { valid: 0, invalid: 0, acceptable: 0, refused: 0 };
    for (const group of load(file).testGroups) {
      const jwk = keyFor(group);
      for (const t of group.tests) {
        const msg = hex(t.msg);
        const sig = hex(t.sig);
        const native = jwk ? check(jwk, alg, msg, sig, true) : "key refused";
        const own = jwk ? check(jwk, alg, msg, sig, false) : "key refused";
        assert.equal(native, own, `${file} tcId ${t.tcId}: node:crypto and Rust disagree`);
        if (native === "key refused") tally.refused++;
        if (t.result === "valid") {
          assert.equal(native, true, `${file} tcId ${t.tcId}: valid signature refused`);
          tally.valid++;
        } else if (t.result === "invalid") {
          assert.notEqual(native, true, `${file} tcId ${t.tcId}: invalid signature accepted`);
          tally.invalid++;
        } else tally.acceptable++;
      }
    }
    assert.equal(tally.valid + tally.invalid + tally.acceptable, expectTotal);
    // Every valid signature, at least, went through node:crypto.
    assert.ok(host.counts.verifies >= tally.valid, JSON.stringify({ ...host.counts, ...tally }));
    return { ...tally, ...host.counts };
  } finally {
    setHostCrypto(nodeCryptoHost(crypto));
  }
}

test("the Node entry registers node:crypto", () => {
  assert.equal(hasHostCrypto(), true);
});

test("Wycheproof ES256 (P1363): node:crypto and Rust give the same, right answers", () => {
  const t = parity(
    "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
    "ES256",
    p256Jwk,
    262,
  );
  assert.ok(t.valid > 100 && t.invalid > 50, JSON.stringify(t));
});

for (const [file, alg, keyFor, total] of ecdsaP1363) {
  test(`Wycheproof ${alg} (P1363): node:crypto and Rust give the same, right answers`, () => {
    const t = parity(file, alg, keyFor, total);
    assert.ok(t.valid > 100 && t.invalid > 50, JSON.stringify(t));
  });
}

test("Wycheproof ECDSA DER signatures are not JWS signatures on either path", () => {
  const data = load("wycheproof/ecdsa_secp256r1_sha256_test.json");
  let checked = 0;
  for (const group of data.testGroups) {
    const jwk = p256Jwk(group);
    if (!jwk) continue;
    for (const t of group.tests.slice(0, 40)) {
      for (const native of [true, false]) {
        const r = check(jwk, "ES256", hex(t.msg), hex(t.sig), native);
        if (r === "key refused") continue;
        assert.equal(r, false, `tcId ${t.tcId} native=${native}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 200, String(checked));
});

test("Wycheproof Ed25519: node:crypto and Rust give the same, right answers", () => {
  const t = parity("wycheproof/ed25519_test.json", "EdDSA", (g) => g.publicKeyJwk, 151);
  assert.equal(t.refused, 0);
});

test("Wycheproof RS256 (PKCS#1 v1.5, 2048): node:crypto and Rust give the same, right answers", () => {
  const t = parity("wycheproof/rsa_signature_2048_sha256_test.json", "RS256", (g) => g.keyJwk, 259);
  assert.equal(t.refused, 0);
});

test("PS256/384/512 and RS384/512 from node:crypto verify on both paths; flipped bits on neither", () => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" });
  const msg = Buffer.from("eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ4In0");
  for (const [alg, hash, pss] of [
    ["RS384", "sha384", false],
    ["RS512", "sha512", false],
    ["PS256", "sha256", true],
    ["PS384", "sha384", true],
    ["PS512", "sha512", true],
  ]) {
    const opts = pss
      ? { key: privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: { sha256: 32, sha384: 48, sha512: 64 }[hash] }
      : privateKey;
    const sig = crypto.sign(hash, msg, opts);
    const bad = Buffer.from(sig);
    bad[17] ^= 1;
    for (const native of [true, false]) {
      assert.equal(verifySignature(jwk, alg, msg, sig, native), true, `${alg} native=${native}`);
      assert.equal(verifySignature(jwk, alg, msg, bad, native), false, `${alg} native=${native}`);
    }
  }
});

test("a host that throws or returns nothing leaves the check to jwtgate", async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const policy = {
    issuer: "https://issuer.example",
    audience: "api",
    algorithms: ["ES256"],
    keys: { keys: [{ ...(await jose.exportJWK(publicKey)), kid: "k" }] },
  };
  const token = await new jose.SignJWT({ sub: "u" })
    .setProtectedHeader({ alg: "ES256", kid: "k" })
    .setIssuer(policy.issuer)
    .setAudience("api")
    .setExpirationTime("5m")
    .sign(privateKey);
  try {
    setHostCrypto({ importKey: () => ({ verify: () => { throw new Error("no"); } }) });
    const v = new Verifier(policy, { cacheSize: 0 });
    assert.equal(v.nativeCrypto, true);
    assert.equal(v.verify(token).sub, "u");
    setHostCrypto({ importKey: () => undefined });
    assert.equal(new Verifier(policy).nativeCrypto, false);
    assert.equal(new Verifier(policy).verify(token).sub, "u");
    setHostCrypto(null);
    assert.equal(hasHostCrypto(), false);
    assert.equal(new Verifier(policy).nativeCrypto, false);
    // A host that lies "true" for a forged signature never gets asked: form checks come first...
    setHostCrypto({ importKey: () => ({ verify: () => true }) });
    const [h, p] = token.split(".");
    assert.throws(() => new Verifier(policy).verify(`${h}.${p}.${b64(Buffer.alloc(63))}`), { code: "signature" });
  } finally {
    setHostCrypto(nodeCryptoHost(crypto));
  }
  assert.equal(new Verifier(policy).nativeCrypto, true);
  assert.equal(new Verifier(policy, { nativeCrypto: false }).nativeCrypto, false);
});

test("only a boolean from the host counts: 1, \"1\", {} or a Promise for a bad signature leave the check to jwtgate", async () => {
  const { publicKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const other = await jose.generateKeyPair("ES256", { extractable: true });
  const policy = {
    issuer: "https://issuer.example",
    audience: "api",
    algorithms: ["ES256"],
    keys: { keys: [{ ...(await jose.exportJWK(publicKey)), kid: "k" }] },
  };
  // Well-formed, signed by another key: only a real signature check can refuse it.
  const forged = await new jose.SignJWT({ sub: "mallory" })
    .setProtectedHeader({ alg: "ES256", kid: "k" })
    .setIssuer(policy.issuer)
    .setAudience("api")
    .setExpirationTime("5m")
    .sign(other.privateKey);
  try {
    for (const answer of [1, "1", "true", {}, [], Promise.resolve(false)]) {
      setHostCrypto({ importKey: () => ({ verify: () => answer }) });
      const v = new Verifier(policy, { cacheSize: 0 });
      assert.equal(v.nativeCrypto, true);
      assert.throws(() => v.verify(forged), { code: "signature" }, JSON.stringify(answer));
    }
    // `false` is the host's own refusal.
    setHostCrypto({ importKey: () => ({ verify: () => false }) });
    assert.throws(() => new Verifier(policy).verify(forged), { code: "signature" });
  } finally {
    setHostCrypto(nodeCryptoHost(crypto));
  }
});

test("verifyAsync under Node: node:crypto's callback form (thread pool), same answers and order as verify", async () => {
  for (const alg of ["ES256", "ES384", "ES512", "EdDSA", "RS256", "PS256"]) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    const other = await jose.generateKeyPair(alg, { extractable: true });
    const policy = {
      issuer: "https://issuer.example",
      audience: "api",
      algorithms: [alg],
      keys: { keys: [{ ...(await jose.exportJWK(publicKey)), kid: "k" }] },
      leewaySeconds: 0,
    };
    const sign = (key, exp = "5m") =>
      new jose.SignJWT({ sub: "u" })
        .setProtectedHeader({ alg, kid: "k" })
        .setIssuer(policy.issuer)
        .setAudience("api")
        .setExpirationTime(exp)
        .sign(key);
    let calls = 0;
    const inner = nodeCryptoHost(crypto);
    try {
      setHostCrypto({
        importKey(jwk, a, params) {
          const key = inner.importKey(jwk, a, params);
          return key && { verify: () => assert.fail("verifyAsync took the sync path"), verifyAsync: (d, s) => (calls++, key.verifyAsync(d, s)) };
        },
      });
      const v = new Verifier(policy, { cacheSize: 0 });
      assert.equal((await v.verifyAsync(await sign(privateKey))).sub, "u", alg);
      await assert.rejects(v.verifyAsync(await sign(other.privateKey)), { code: "signature" }, alg);
      // Expired and forged: the signature error first, as verify orders them.
      const past = Math.floor(Date.now() / 1000) - 60;
      await assert.rejects(v.verifyAsync(await sign(other.privateKey, past)), { code: "signature" }, alg);
      await assert.rejects(v.verifyAsync(await sign(privateKey, past)), { code: "expired" }, alg);
      assert.equal(calls, 4, alg);
    } finally {
      setHostCrypto(nodeCryptoHost(crypto));
    }
  }
});

test("verifyAsync: a host's async answer other than exactly true or false, or a rejection, is left to jwtgate", async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const other = await jose.generateKeyPair("ES256", { extractable: true });
  const policy = {
    issuer: "https://issuer.example",
    audience: "api",
    algorithms: ["ES256"],
    keys: { keys: [{ ...(await jose.exportJWK(publicKey)), kid: "k" }] },
  };
  const sign = (key) =>
    new jose.SignJWT({ sub: "u" }).setProtectedHeader({ alg: "ES256", kid: "k" }).setIssuer(policy.issuer)
      .setAudience("api").setExpirationTime("5m").sign(key);
  const good = await sign(privateKey);
  const forged = await sign(other.privateKey);
  try {
    for (const make of [() => Promise.resolve(1), () => Promise.resolve("true"), () => Promise.reject(new Error("no")), () => {
      throw new Error("sync throw");
    }, () => 1]) {
      setHostCrypto({ importKey: () => ({ verify: () => "x", verifyAsync: make }) });
      const v = new Verifier(policy, { cacheSize: 0 });
      assert.equal(v.nativeCrypto, true);
      await assert.rejects(v.verifyAsync(forged), { code: "signature" });
      assert.equal((await v.verifyAsync(good)).sub, "u");
    }
    // A host without verifyAsync: its sync verify answers.
    let sync = 0;
    setHostCrypto({ importKey: () => ({ verify: () => (sync++, false) }) });
    await assert.rejects(new Verifier(policy, { cacheSize: 0 }).verifyAsync(good), { code: "signature" });
    assert.equal(sync, 1);
  } finally {
    setHostCrypto(nodeCryptoHost(crypto));
  }
});

async function hsSetup(cacheSize) {
  const secret = crypto.randomBytes(32);
  const policy = {
    issuer: "https://issuer.example",
    audience: "api",
    algorithms: ["HS256"],
    keys: { keys: [{ kty: "oct", kid: "k", k: b64(secret) }] },
    leewaySeconds: 0,
  };
  return { policy, signer: new Signer(policy, { ttlSeconds: 60 }), verifier: new Verifier(policy, { cacheSize }) };
}

test("cache hits re-check time: an expired or not-yet-valid token is refused on a hit too", async () => {
  const { signer, verifier } = await hsSetup(8);
  const t0 = 1_800_000_000;
  const token = signer.sign({ sub: "u" }, { now: t0 });
  assert.equal(verifier.verify(token, { now: t0 }).sub, "u"); // miss, then cached
  const a = verifier.verify(token, { now: t0 + 30 }); // hit
  const b = verifier.verify(token, { now: t0 + 30 });
  assert.notEqual(a, b, "a fresh object on every call");
  a.sub = "changed";
  assert.equal(verifier.verify(token, { now: t0 + 30 }).sub, "u", "callers cannot poison the cache");
  assert.throws(() => verifier.verify(token, { now: t0 + 60 }), { code: "expired" });
  assert.throws(() => verifier.verify(token, { now: t0 - 10 }), { code: "not_yet_valid" });
  assert.equal(verifier.verify(token, { now: t0 + 1 }).sub, "u");
});

test("failures are not cached; a tampered copy of a cached token is still refused", async () => {
  const { signer, verifier } = await hsSetup(8);
  const t0 = 1_800_000_000;
  const token = signer.sign({ sub: "u" }, { now: t0 });
  assert.throws(() => verifier.verify(token, { now: t0 + 3600 }), { code: "expired" });
  assert.equal(verifier.verify(token, { now: t0 }).sub, "u", "the earlier failure was not remembered");
  const [h, p, s] = token.split(".");
  const other = s[0] === "A" ? "B" : "A";
  assert.throws(() => verifier.verify(`${h}.${p}.${other}${s.slice(1)}`, { now: t0 }), { code: "signature" });
  assert.throws(() => verifier.verify(`${token}.`, { now: t0 }), { code: "malformed" });
});

test("a full cache evicts the oldest entries and keeps answering correctly", async () => {
  const { signer, verifier } = await hsSetup(4);
  const t0 = 1_800_000_000;
  const tokens = Array.from({ length: 20 }, (_, i) => signer.sign({ sub: `u${i}` }, { now: t0 }));
  for (let round = 0; round < 3; round++) {
    tokens.forEach((t, i) => assert.equal(verifier.verify(t, { now: t0 + round }).sub, `u${i}`));
  }
  tokens.forEach((t) => assert.throws(() => verifier.verify(t, { now: t0 + 61 }), { code: "expired" }));
});

test("verifier options are validated: a bad cacheSize or nativeCrypto is a config error", async () => {
  const { policy } = await hsSetup(0);
  for (const cacheSize of [-1, 1.5, "10", 2 ** 21, NaN]) {
    assert.throws(() => new Verifier(policy, { cacheSize }), { code: "config", field: "cacheSize" }, String(cacheSize));
  }
  assert.throws(() => new Verifier(policy, { nativeCrypto: "yes" }), { code: "config", field: "nativeCrypto" });
  const off = new Verifier(policy, { cacheSize: 0 });
  const token = new Signer(policy).sign({ sub: "u" });
  assert.equal(off.verify(token).sub, "u");
  assert.equal(off.verify(token).sub, "u");
});
