// Host crypto and the verified-token cache of the npm package.
//
// The Node build (`pkg/node`, cargo feature `host-keys`) has no RSA, ECDSA or Ed25519 arithmetic:
// node:crypto, through `jwtgate/host/node-crypto`, checks, verifies and signs. The pure build
// (`pkg/pure`) carries jwtgate's own (RustCrypto) and may also be given a host.
//
// Parity: every Wycheproof vector for ES256/384/512 (P1363), Ed25519 and RS256 gets the same
// answer from the Node build (node:crypto), the pure build with node:crypto as its host and the
// pure build's own Rust code (`native: false`), and that answer matches the vector's verdict. A
// counting wrapper around the host proves the host really ran. The Node build fails closed
// where the pure build falls back to its own code: a host that throws or answers oddly refuses.
//
// Cache: hits re-apply time rules at the caller's `now`, failures are never cached, a cache entry
// never outlives a policy check, and options are validated like the policy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as crypto from "node:crypto";
import * as jose from "jose";
import { b64, ecdsaP1363, hex, load, p256Jwk } from "./vectors.mjs";

const require = createRequire(import.meta.url);
const pkgDir = fileURLToPath(new URL("../../pkg/", import.meta.url));
const jwtgate = require(pkgDir);
const { nodeCryptoHost, ed25519Point } = require(pkgDir + "host/node-crypto.cjs");
const { Verifier, Signer, verifySignature, setHostCrypto, hasHostCrypto } = jwtgate;
const pure = await import(new URL("../../pkg/pure/index.js", import.meta.url));
pure.initSync({ module: readFileSync(new URL("../../pkg/pure/jwtgate_bg.wasm", import.meta.url)) });

/** Wraps node:crypto host support and counts what reached it. */
function countingHost() {
  const inner = nodeCryptoHost(crypto);
  const counts = { imports: 0, verifies: 0, checks: 0, signs: 0 };
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
    checkKey(jwk) {
      counts.checks++;
      return inner.checkKey(jwk);
    },
    sign(jwk, alg, params, data) {
      counts.signs++;
      return inner.sign(jwk, alg, params, data);
    },
  };
}

function check(lib, jwk, alg, msg, sig, native) {
  try {
    return lib.verifySignature(jwk, alg, msg, sig, native);
  } catch (e) {
    assert.equal(e.code, "config", "only an unusable key may throw");
    return "key refused";
  }
}

/** The host each build has between tests: node:crypto for the Node build, none for the pure build. */
function restoreHosts() {
  setHostCrypto(nodeCryptoHost(crypto));
  pure.setHostCrypto(null);
}

function parity(file, alg, keyFor, expectTotal) {
  const host = countingHost();
  const webHost = countingHost();
  setHostCrypto(host);
  pure.setHostCrypto(webHost);
  try {
    const tally = { valid: 0, invalid: 0, acceptable: 0, refused: 0 };
    for (const group of load(file).testGroups) {
      const jwk = keyFor(group);
      for (const t of group.tests) {
        const msg = hex(t.msg);
        const sig = hex(t.sig);
        const node = jwk ? check(jwtgate, jwk, alg, msg, sig, true) : "key refused";
        const webHosted = jwk ? check(pure, jwk, alg, msg, sig, true) : "key refused";
        const own = jwk ? check(pure, jwk, alg, msg, sig, false) : "key refused";
        assert.equal(node, own, `${file} tcId ${t.tcId}: the Node build and jwtgate's Rust disagree`);
        assert.equal(webHosted, own, `${file} tcId ${t.tcId}: node:crypto in the pure build and Rust disagree`);
        if (node === "key refused") tally.refused++;
        if (t.result === "valid") {
          assert.equal(node, true, `${file} tcId ${t.tcId}: valid signature refused`);
          tally.valid++;
        } else if (t.result === "invalid") {
          assert.notEqual(node, true, `${file} tcId ${t.tcId}: invalid signature accepted`);
          tally.invalid++;
        } else tally.acceptable++;
      }
    }
    assert.equal(tally.valid + tally.invalid + tally.acceptable, expectTotal);
    // Every valid signature, at least, went through node:crypto, in both builds.
    assert.ok(host.counts.verifies >= tally.valid, JSON.stringify({ ...host.counts, ...tally }));
    assert.ok(webHost.counts.verifies >= tally.valid, JSON.stringify({ ...webHost.counts, ...tally }));
    return { ...tally, ...host.counts };
  } finally {
    restoreHosts();
  }
}

test("the Node entry registers node:crypto; the pure build has no host until given one", () => {
  assert.equal(hasHostCrypto(), true);
  assert.equal(pure.hasHostCrypto(), false);
});

test("Wycheproof ES256 (P1363): the Node build, node:crypto in the pure build and Rust agree, rightly", () => {
  const t = parity(
    "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
    "ES256",
    p256Jwk,
    262,
  );
  assert.ok(t.valid > 100 && t.invalid > 50, JSON.stringify(t));
  assert.ok(t.checks > 0, "the Node build checked the keys through the host");
});

for (const [file, alg, keyFor, total] of ecdsaP1363) {
  test(`Wycheproof ${alg} (P1363): the Node build, node:crypto in the pure build and Rust agree, rightly`, () => {
    const t = parity(file, alg, keyFor, total);
    assert.ok(t.valid > 100 && t.invalid > 50, JSON.stringify(t));
  });
}

test("Wycheproof ECDSA DER signatures are not JWS signatures in either build", () => {
  const data = load("wycheproof/ecdsa_secp256r1_sha256_test.json");
  pure.setHostCrypto(nodeCryptoHost(crypto));
  let checked = 0;
  try {
    for (const group of data.testGroups) {
      const jwk = p256Jwk(group);
      if (!jwk) continue;
      for (const t of group.tests.slice(0, 40)) {
        for (const [lib, native] of [[jwtgate, true], [pure, true], [pure, false]]) {
          const r = check(lib, jwk, "ES256", hex(t.msg), hex(t.sig), native);
          if (r === "key refused") continue;
          assert.equal(r, false, `tcId ${t.tcId} native=${native}`);
          checked++;
        }
      }
    }
  } finally {
    restoreHosts();
  }
  assert.ok(checked > 300, String(checked));
});

test("Wycheproof Ed25519: the Node build, node:crypto in the pure build and Rust agree, rightly", () => {
  const t = parity("wycheproof/ed25519_test.json", "EdDSA", (g) => g.publicKeyJwk, 151);
  assert.equal(t.refused, 0);
});

test("Wycheproof RS256 (PKCS#1 v1.5, 2048): the Node build, node:crypto in the pure build and Rust agree, rightly", () => {
  const t = parity("wycheproof/rsa_signature_2048_sha256_test.json", "RS256", (g) => g.keyJwk, 259);
  assert.equal(t.refused, 0);
});

test("PS256/384/512 and RS384/512 from node:crypto verify in both builds; flipped bits in neither", () => {
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
    for (const [lib, native] of [[jwtgate, true], [pure, false]]) {
      assert.equal(lib.verifySignature(jwk, alg, msg, sig, native), true, `${alg} native=${native}`);
      assert.equal(lib.verifySignature(jwk, alg, msg, bad, native), false, `${alg} native=${native}`);
    }
  }
});

/** An ES256 policy, a good token for it and one signed by another key. */
async function es256Setup() {
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
  return { policy, good: await sign(privateKey), forged: await sign(other.privateKey) };
}

test("pure build: a host that throws or returns nothing leaves the check to jwtgate's own code", async () => {
  const { policy, good: token } = await es256Setup();
  try {
    pure.setHostCrypto({ importKey: () => ({ verify: () => { throw new Error("no"); } }) });
    const v = new pure.Verifier(policy, { cacheSize: 0 });
    assert.equal(v.nativeCrypto, true);
    assert.equal(v.verify(token).sub, "u");
    pure.setHostCrypto({ importKey: () => undefined });
    assert.equal(new pure.Verifier(policy).nativeCrypto, false);
    assert.equal(new pure.Verifier(policy).verify(token).sub, "u");
    pure.setHostCrypto(null);
    assert.equal(pure.hasHostCrypto(), false);
    assert.equal(new pure.Verifier(policy).nativeCrypto, false);
    // A host that lies "true" for a forged signature never gets asked: form checks come first...
    pure.setHostCrypto({ importKey: () => ({ verify: () => true }) });
    const [h, p] = token.split(".");
    assert.throws(() => new pure.Verifier(policy).verify(`${h}.${p}.${b64(Buffer.alloc(63))}`), { code: "signature" });
    assert.equal(new pure.Verifier(policy, { nativeCrypto: false }).nativeCrypto, false);
  } finally {
    restoreHosts();
  }
});

test("Node build: a host that throws, lacks checkKey or sign, or is removed, fails closed", async () => {
  const { policy, good } = await es256Setup();
  const inner = nodeCryptoHost(crypto);
  try {
    // A handle that throws: even a good token is refused.
    setHostCrypto({ ...inner, importKey: () => ({ verify: () => { throw new Error("no"); } }) });
    const v = new Verifier(policy, { cacheSize: 0 });
    assert.equal(v.nativeCrypto, true);
    assert.throws(() => v.verify(good), { code: "signature" });
    // A host that checks the key and then will not import it is broken: a config error.
    setHostCrypto({ ...inner, importKey: () => undefined });
    assert.throws(() => new Verifier(policy), { code: "config", field: "keys.keys[0]" });
    // A host without checkKey or sign, or none at all: EC keys are deferred, as in the web
    // build: `verify` has nothing to check them with and names verifyAsync, which WebCrypto
    // serves (never the incomplete host).
    for (const host of [{ importKey: inner.importKey }, { importKey: inner.importKey, checkKey: inner.checkKey }, null]) {
      setHostCrypto(host);
      const d = new Verifier(policy, { cacheSize: 0 });
      assert.throws(() => d.verify(good), (e) => e.code === "config" && /verifyAsync/.test(e.message));
      assert.equal((await d.verifyAsync(good)).sub, "u");
    }
    assert.equal(hasHostCrypto(), false);
    // A host whose checkKey answers anything but true refuses the key.
    for (const answer of [1, "true", {}, undefined, Promise.resolve(true)]) {
      setHostCrypto({ ...inner, checkKey: () => answer });
      assert.throws(() => new Verifier(policy), { code: "config" }, String(answer));
    }
    // A lying host is still not asked about a signature of the wrong form.
    setHostCrypto({ ...inner, importKey: () => ({ verify: () => true }) });
    const [h, p] = good.split(".");
    assert.throws(() => new Verifier(policy).verify(`${h}.${p}.${b64(Buffer.alloc(63))}`), { code: "signature" });
  } finally {
    restoreHosts();
  }
  assert.equal(new Verifier(policy).verify(good).sub, "u");
  // Its own code is not there to fall back on: asking for it is a config error.
  assert.throws(() => new Verifier(policy, { nativeCrypto: false }), { code: "config", field: "nativeCrypto" });
  const jwk = policy.keys.keys[0];
  assert.throws(() => verifySignature(jwk, "ES256", Buffer.from("x"), Buffer.alloc(64), false), { code: "config", field: "native" });
});

test("only a boolean from the host counts: 1, \"1\", {} or a Promise never pass a bad signature", async () => {
  const { policy, good, forged } = await es256Setup();
  const inner = nodeCryptoHost(crypto);
  try {
    for (const answer of [1, "1", "true", {}, [], Promise.resolve(true)]) {
      const host = { ...inner, importKey: () => ({ verify: () => answer }) };
      setHostCrypto(host);
      pure.setHostCrypto(host);
      for (const lib of [jwtgate, pure]) {
        const v = new lib.Verifier(policy, { cacheSize: 0 });
        assert.equal(v.nativeCrypto, true);
        assert.throws(() => v.verify(forged), { code: "signature" }, JSON.stringify(answer));
      }
      // The pure build checks the good one itself; the Node build refuses it (nothing to fall back on).
      assert.equal(new pure.Verifier(policy).verify(good).sub, "u");
      assert.throws(() => new Verifier(policy).verify(good), { code: "signature" });
    }
    // `false` is the host's own refusal.
    setHostCrypto({ ...inner, importKey: () => ({ verify: () => false }) });
    assert.throws(() => new Verifier(policy).verify(forged), { code: "signature" });
  } finally {
    restoreHosts();
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
        ...inner,
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
      restoreHosts();
    }
  }
});

test("verifyAsync: a host's async answer other than exactly true or false, or a rejection, never passes", async () => {
  const { policy, good, forged } = await es256Setup();
  const inner = nodeCryptoHost(crypto);
  try {
    for (const make of [() => Promise.resolve(1), () => Promise.resolve("true"), () => Promise.reject(new Error("no")), () => {
      throw new Error("sync throw");
    }, () => 1]) {
      // Its sync `verify` answers oddly too: the pure build's own code decides, the Node build refuses.
      const host = { ...inner, importKey: () => ({ verify: () => "x", verifyAsync: make }) };
      setHostCrypto(host);
      pure.setHostCrypto(host);
      const v = new Verifier(policy, { cacheSize: 0 });
      assert.equal(v.nativeCrypto, true);
      await assert.rejects(v.verifyAsync(forged), { code: "signature" });
      await assert.rejects(v.verifyAsync(good), { code: "signature" });
      const w = new pure.Verifier(policy, { cacheSize: 0 });
      await assert.rejects(w.verifyAsync(forged), { code: "signature" });
      assert.equal((await w.verifyAsync(good)).sub, "u");
    }
    // A host without verifyAsync: its sync verify answers.
    let sync = 0;
    setHostCrypto({ ...inner, importKey: () => ({ verify: () => (sync++, false) }) });
    await assert.rejects(new Verifier(policy, { cacheSize: 0 }).verifyAsync(good), { code: "signature" });
    assert.equal(sync, 1);
  } finally {
    restoreHosts();
  }
});

/** A fresh key pair of `alg` as JWKs (node:crypto's export). */
function keyPair(alg) {
  const spec = {
    ES256: ["ec", { namedCurve: "P-256" }],
    ES384: ["ec", { namedCurve: "P-384" }],
    ES512: ["ec", { namedCurve: "P-521" }],
    EdDSA: ["ed25519", {}],
    RS256: ["rsa", { modulusLength: 2048 }],
    PS256: ["rsa", { modulusLength: 2048 }],
  }[alg];
  const { publicKey, privateKey } = crypto.generateKeyPairSync(...spec);
  return { pub: publicKey.export({ format: "jwk" }), priv: privateKey.export({ format: "jwk" }) };
}

const signerPolicy = (alg, jwk) => ({
  issuer: "https://issuer.example",
  audience: "api",
  algorithms: [alg],
  keys: { keys: [{ ...jwk, kid: "k" }] },
});

/** Whether each build takes a policy with this key: true, or the error code and field. */
function loads(lib, alg, jwk) {
  try {
    new lib.Verifier(signerPolicy(alg, jwk));
    return true;
  } catch (e) {
    return `${e.code} ${e.field}`;
  }
}

test("Node build: EC points off their curve and private halves of another key are refused, as in the pure build", () => {
  for (const alg of ["ES256", "ES384", "ES512"]) {
    const { pub, priv } = keyPair(alg);
    const y = Buffer.from(pub.y, "base64url");
    y[y.length - 1] ^= 1;
    const offCurve = { ...pub, y: b64(y) };
    const stranger = { ...priv, d: keyPair(alg).priv.d };
    for (const bad of [offCurve, stranger]) {
      assert.equal(loads(jwtgate, alg, bad), "config keys.keys[0]", alg);
      assert.equal(loads(pure, alg, bad), "config keys.keys[0]", alg);
    }
    assert.equal(loads(jwtgate, alg, priv), true, alg);
  }
});

test("Node build: an Ed25519 x that is no point, a small-order x or another key's d is refused, as in the pure build", () => {
  const { pub, priv } = keyPair("EdDSA");
  const stranger = { ...priv, d: keyPair("EdDSA").priv.d };
  const identity = Buffer.alloc(32);
  identity[0] = 1; // y = 1: the neutral element, of order 1
  for (const bad of [stranger, { ...pub, x: b64(identity) }]) {
    assert.equal(loads(jwtgate, "EdDSA", bad), "config keys.keys[0]");
    assert.equal(loads(pure, "EdDSA", bad), "config keys.keys[0]");
  }
  // Random x: the Node build (node:crypto plus the adapter's point check) and ed25519-dalek agree.
  let points = 0;
  for (let i = 0; i < 200; i++) {
    const x = b64(crypto.randomBytes(32));
    const node = loads(jwtgate, "EdDSA", { ...pub, x });
    assert.equal(node, loads(pure, "EdDSA", { ...pub, x }), x);
    assert.equal(node === true, ed25519Point(Buffer.from(x, "base64url")), x);
    if (node === true) points++;
  }
  assert.ok(points > 60 && points < 140, String(points));
});

test("Node build: an RSA private key without its CRT members is a config error naming them", () => {
  const { priv } = keyPair("RS256");
  const { dp, dq, qi, ...noCrt } = priv;
  assert.ok(dp && dq && qi);
  assert.throws(() => new Signer(signerPolicy("RS256", noCrt)), (e) => e.code === "config" && /dp|CRT/.test(e.message));
  assert.equal(loads(jwtgate, "RS256", priv), true);
});

test("a node:crypto that ignores RSA-PSS padding (workerd's) is found out: no PS* signer, no PS* key handle", async () => {
  // workerd's node:crypto signs and verifies PKCS#1 v1.5 whatever `padding` says: a PS* token it
  // signed would carry a PKCS#1 signature. Simulated here by dropping `padding` and `saltLength`.
  const strip = (key) => {
    if (!key || typeof key !== "object" || !("padding" in key)) return key;
    const { padding, saltLength, ...rest } = key;
    return rest;
  };
  const lax = { ...crypto, sign: (d, data, key) => crypto.sign(d, data, strip(key)), verify: (d, data, key, sig) => crypto.verify(d, data, strip(key), sig) };
  const host = nodeCryptoHost(lax);
  const pss = keyPair("PS256");
  assert.equal(host.importKey(pss.pub, "PS256", { node: { digest: "sha256", padding: "pss", saltLength: 32 } }), undefined);
  assert.throws(() => host.sign(pss.priv, "PS256", { node: { digest: "sha256", padding: "pss", saltLength: 32 } }, new Uint8Array(1)));
  setHostCrypto(host);
  try {
    assert.throws(() => new Signer(signerPolicy("PS256", pss.priv)), (e) => e.code === "config" && /RSA-PSS/.test(e.message));
    assert.throws(() => new Verifier(signerPolicy("PS256", pss.pub)), (e) => e.code === "config");
    // PKCS#1 v1.5 is unaffected.
    const rs = keyPair("RS256");
    const token = new Signer(signerPolicy("RS256", rs.priv)).sign({ sub: "s" });
    await jose.jwtVerify(token, await jose.importJWK(rs.pub, "RS256"), { algorithms: ["RS256"] });
  } finally {
    restoreHosts();
  }
  // The real node:crypto applies PSS.
  assert.equal(typeof nodeCryptoHost(crypto).importKey(pss.pub, "PS256", { node: { digest: "sha256", padding: "pss", saltLength: 32 } }), "object");
});

test("Node build: Signer signs RS256, PS256, ES256/384/512 and EdDSA through node:crypto, and jose verifies", async () => {
  for (const alg of ["RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"]) {
    const { pub, priv } = keyPair(alg);
    const host = countingHost();
    setHostCrypto(host);
    let token;
    try {
      const signer = new Signer(signerPolicy(alg, priv), { ttlSeconds: 60 });
      // Signatures at construction: the host must make one that verifies, and for PS* two that
      // differ (PSS is randomised): a host that cannot, such as workerd's node:crypto for PS*,
      // is refused there.
      const atLoad = alg.startsWith("PS") ? 2 : 1;
      assert.equal(host.counts.signs, atLoad, alg);
      token = signer.sign({ sub: "s" });
      assert.equal(host.counts.signs, atLoad + 1, alg);
    } finally {
      restoreHosts();
    }
    const { payload, protectedHeader } = await jose.jwtVerify(token, await jose.importJWK(pub, alg), {
      issuer: "https://issuer.example",
      audience: "api",
      algorithms: [alg],
    });
    assert.equal(payload.sub, "s", alg);
    assert.equal(protectedHeader.alg, alg);
    assert.equal(new Verifier(signerPolicy(alg, pub)).verify(token).sub, "s", alg);
  }
  // A host whose sign answers anything but bytes of the right length: no signer, no token.
  const { priv } = keyPair("ES256");
  const inner = nodeCryptoHost(crypto);
  try {
    for (const out of [undefined, "sig", new Uint8Array(63), () => { throw new Error("no"); }]) {
      setHostCrypto({ ...inner, sign: typeof out === "function" ? out : () => out });
      assert.throws(() => new Signer(signerPolicy("ES256", priv)).sign({ sub: "s" }), (e) => typeof e.code === "string");
    }
  } finally {
    restoreHosts();
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

test("the cache admits a token on its second verification within about cacheSize misses; hits skip the signature", async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const policy = {
    issuer: "https://issuer.example",
    audience: "api",
    algorithms: ["ES256"],
    keys: { keys: [{ ...(await jose.exportJWK(publicKey)), kid: "k" }] },
  };
  const sign = (sub) =>
    new jose.SignJWT({ sub }).setProtectedHeader({ alg: "ES256", kid: "k" }).setIssuer(policy.issuer)
      .setAudience("api").setExpirationTime("5m").sign(privateKey);
  // 18 tokens in distinct slots of the admission table (js/extend.js: 256 slots for 8 entries):
  // a collision would admit a token early, which the second half of this test must exclude.
  const { admissionSlot } = await import("../../js/extend.js");
  const tokens = [];
  const slots = new Set();
  for (let i = 0; tokens.length < 18; i++) {
    const t = await sign(`u${tokens.length}`);
    if (!slots.has(admissionSlot(t, 256))) {
      slots.add(admissionSlot(t, 256));
      tokens.push(t);
    }
  }
  const host = countingHost();
  setHostCrypto(host);
  try {
    for (const useAsync of [false, true]) {
      const v = new Verifier(policy, { cacheSize: 8 });
      const check = async (t) => (useAsync ? (await v.verifyAsync(t)).sub : v.verify(t).sub);
      const before = host.counts.verifies;
      const verifies = () => host.counts.verifies - before;
      assert.equal(await check(tokens[0]), "u0"); // seen
      assert.equal(await check(tokens[0]), "u0"); // seen again: admitted
      assert.equal(verifies(), 2);
      for (let i = 0; i < 5; i++) assert.equal(await check(tokens[0]), "u0"); // hits
      assert.equal(verifies(), 2, `${useAsync ? "verifyAsync" : "verify"}: hits check no signature`);
      // Seen once, then again only after 16 other misses (twice the cache): not admitted.
      assert.equal(await check(tokens[1]), "u1");
      for (let i = 2; i < 18; i++) await check(tokens[i]);
      const n = verifies();
      assert.equal(await check(tokens[1]), "u1");
      assert.equal(await check(tokens[1]), "u1");
      assert.equal(verifies(), n + 2, "the second sight, after many misses, was not admitted: the third is a miss");
      assert.equal(await check(tokens[1]), "u1");
      assert.equal(verifies(), n + 2);
    }
  } finally {
    restoreHosts();
  }
});

test("verifier options are validated: a bad cacheSize or nativeCrypto is a config error", async () => {
  const { policy } = await hsSetup(0);
  for (const cacheSize of [-1, 1.5, "10", 2 ** 21, NaN]) {
    assert.throws(() => new Verifier(policy, { cacheSize }), { code: "config", field: "cacheSize" }, String(cacheSize));
  }
  assert.throws(() => new Verifier(policy, { nativeCrypto: "yes" }), { code: "config", field: "nativeCrypto" });
  assert.throws(() => new pure.Verifier(policy, { nativeCrypto: "yes" }), { code: "config", field: "nativeCrypto" });
  const off = new Verifier(policy, { cacheSize: 0 });
  const token = new Signer(policy).sign({ sub: "u" });
  assert.equal(off.verify(token).sub, "u");
  assert.equal(off.verify(token).sub, "u");
});
