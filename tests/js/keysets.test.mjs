// Key sets as issuers publish them, through the npm package: an issuer's whole mixed JWKS (made
// by jose) under each single pinned algorithm. Tokens signed by jose, by hand (PyJWT-style:
// header.payload signed with node:crypto) and by jwtgate's Signer verify; tokens naming an inert
// key are refused with `key_not_found`; jose's own createLocalJWKSet, given the same set and the
// same pinned algorithm, agrees on every token; `verifier.keys()` says what became of each key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { createPrivateKey, createHmac, generateKeyPairSync, sign as nodeSign, constants } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as jose from "jose";

const require = createRequire(import.meta.url);
const { Verifier, Signer } = require(fileURLToPath(new URL("../../pkg/", import.meta.url)));

const ISS = "https://issuer.example";
const AUD = "orders-api";

async function pair(alg, kid, { keepAlg } = {}) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const pub = { ...(await jose.exportJWK(publicKey)), kid };
  const priv = { ...(await jose.exportJWK(privateKey)), kid };
  if (keepAlg) {
    pub.alg = alg;
    priv.alg = alg;
  }
  return { pub, priv, signKey: privateKey };
}

// The issuer's set: RSA with alg RS256, a rotated RSA key without alg, EC P-256, Ed25519, an
// oct secret, EC P-384 and P-521, a secp256k1 key (not verified by jwtgate) and an encryption key.
const rsa1 = await pair("RS256", "rsa-1", { keepAlg: true });
const rsa2 = await pair("PS256", "rsa-2");
const ec = await pair("ES256", "ec-1");
const ed = await pair("EdDSA", "ed-1");
const ec384 = await pair("ES384", "ec-384");
const ec521 = await pair("ES512", "ec-521");
// jose generates no secp256k1 keys under WebCrypto: node:crypto does.
const k256 = (() => {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "secp256k1" });
  return { pub: { ...publicKey.export({ format: "jwk" }), kid: "k256" }, priv: { ...privateKey.export({ format: "jwk" }), kid: "k256" } };
})();
const encKey = await pair("ES256", "enc-1");
const secret = crypto.getRandomValues(new Uint8Array(32));
const oct = { kty: "oct", kid: "hs-1", k: Buffer.from(secret).toString("base64url") };
delete rsa2.pub.alg;
const publicSet = {
  keys: [rsa1.pub, rsa2.pub, ec.pub, ed.pub, oct, ec384.pub, ec521.pub, k256.pub, { ...encKey.pub, use: "enc" }],
};

const signers = {
  RS256: { kid: "rsa-1", key: rsa1.signKey, jwk: rsa1.priv },
  PS256: { kid: "rsa-2", key: rsa2.signKey, jwk: rsa2.priv },
  ES256: { kid: "ec-1", key: ec.signKey, jwk: ec.priv },
  ES384: { kid: "ec-384", key: ec384.signKey, jwk: ec384.priv },
  ES512: { kid: "ec-521", key: ec521.signKey, jwk: ec521.priv },
  EdDSA: { kid: "ed-1", key: ed.signKey, jwk: ed.priv },
  HS256: { kid: "hs-1", key: secret, jwk: oct },
};
const usable = { RS256: ["rsa-1", "rsa-2"], PS256: ["rsa-2"], ES256: ["ec-1"], ES384: ["ec-384"], ES512: ["ec-521"], EdDSA: ["ed-1"], HS256: ["hs-1"] };

const now = () => Math.floor(Date.now() / 1000);
const claims = () => ({ iss: ISS, aud: AUD, sub: "user_1", iat: now(), exp: now() + 600 });
const policy = (alg, keys = publicSet) => ({ issuer: ISS, audience: AUD, algorithms: [alg], keys });

const joseSign = (alg, kid, key) =>
  new jose.SignJWT(claims()).setProtectedHeader(kid ? { alg, kid } : { alg }).sign(key);

// PyJWT-style: assemble header.payload by hand and sign it with node:crypto.
function handSign(alg, kid) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const header = kid ? { typ: "JWT", alg, kid } : { typ: "JWT", alg };
  const input = `${b64(header)}.${b64(claims())}`;
  const s = signers[alg];
  let sig;
  if (alg === "HS256") sig = createHmac("sha256", secret).update(input).digest();
  else {
    const key = createPrivateKey({ key: s.jwk, format: "jwk" });
    if (alg === "RS256") sig = nodeSign("sha256", Buffer.from(input), key);
    if (alg === "PS256")
      sig = nodeSign("sha256", Buffer.from(input), {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
    const ecHash = { ES256: "sha256", ES384: "sha384", ES512: "sha512" }[alg];
    if (ecHash) sig = nodeSign(ecHash, Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    if (alg === "EdDSA") sig = nodeSign(null, Buffer.from(input), key);
  }
  return `${input}.${Buffer.from(sig).toString("base64url")}`;
}

const codeOf = (fn) => {
  try {
    fn();
    return "ok";
  } catch (e) {
    return e.code ?? `threw ${e}`;
  }
};

async function joseVerdict(alg, token) {
  try {
    if (alg === "HS256") {
      // createLocalJWKSet takes no oct keys: jose users pass the secret itself.
      await jose.jwtVerify(token, secret, { algorithms: [alg], issuer: ISS, audience: AUD });
    } else {
      await jose.jwtVerify(token, jose.createLocalJWKSet(publicSet), { algorithms: [alg], issuer: ISS, audience: AUD });
    }
    return "ok";
  } catch {
    return "refused";
  }
}

for (const alg of Object.keys(signers)) {
  test(`${alg} pinned over the whole mixed set: jose, hand-made and Signer tokens verify`, async () => {
    const v = new Verifier(policy(alg), { cacheSize: 0 });
    const report = v.keys();
    assert.equal(report.length, publicSet.keys.length);
    assert.deepEqual(
      report.filter((k) => !k.inert).map((k) => k.kid),
      usable[alg],
    );
    for (const k of report.filter((k) => !k.inert)) assert.equal(k.alg, alg);

    const { kid, key } = signers[alg];
    const tokens = [await joseSign(alg, kid, key), handSign(alg, kid)];
    for (const t of tokens) {
      assert.equal(codeOf(() => v.verify(t)), "ok");
      assert.equal(await joseVerdict(alg, t), "ok");
    }
    // Without kid: only when exactly one usable key remains.
    const kidless = await joseSign(alg, undefined, key);
    assert.equal(codeOf(() => v.verify(kidless)), usable[alg].length === 1 ? "ok" : "key_not_found");

    // jwtgate's Signer, given the issuer's whole private set, round-trips.
    const privateSet = { keys: [rsa1.priv, rsa2.priv, ec.priv, ed.priv, oct, ec384.priv, ec521.priv, k256.priv] };
    const signer = new Signer(policy(alg, privateSet));
    assert.equal(signer.algorithm, alg);
    assert.equal(v.verify(signer.sign({ sub: "user_1" })).sub, "user_1");
  });
}

test("tokens naming an inert key are key_not_found; jose refuses them too", async () => {
  // PS256 pinned: rsa-1 carries alg RS256, so it is inert although its PS256 signature is good.
  const v = new Verifier(policy("PS256"), { cacheSize: 0 });
  // A KeyObject: the WebCrypto key jose generated for RS256 cannot sign PS256.
  const rsa1Any = createPrivateKey({ key: rsa1.priv, format: "jwk" });
  const t = await joseSign("PS256", "rsa-1", rsa1Any);
  assert.equal(codeOf(() => v.verify(t)), "key_not_found");
  assert.equal(await joseVerdict("PS256", t), "refused");
  // ES256 pinned: the encryption key and the RSA keys are inert.
  const ve = new Verifier(policy("ES256"), { cacheSize: 0 });
  const enc = await joseSign("ES256", "enc-1", encKey.signKey);
  assert.equal(codeOf(() => ve.verify(enc)), "key_not_found");
  assert.equal(await joseVerdict("ES256", enc), "refused");
  const wrongKid = await joseSign("ES256", "rsa-2", ec.signKey);
  assert.equal(codeOf(() => ve.verify(wrongKid)), "key_not_found");
});

test("keys() explains every inert key, without key material", () => {
  const v = new Verifier(policy("PS256"));
  const byKid = Object.fromEntries(v.keys().map((k) => [k.kid, k]));
  assert.equal(byKid["rsa-1"].inert, "algorithm_not_allowed");
  assert.deepEqual(
    { alg: byKid["rsa-2"].alg, verify: byKid["rsa-2"].verify, sign: byKid["rsa-2"].sign },
    { alg: "PS256", verify: true, sign: false },
  );
  assert.equal(byKid["ec-1"].inert, "key_type_not_allowed");
  assert.equal(byKid["ec-384"].inert, "key_type_not_allowed");
  assert.equal(byKid["k256"].inert, "unsupported_key_type");
  assert.equal(byKid["enc-1"].inert, "not_for_signatures");
  assert.equal(typeof byKid["enc-1"].reason, "string");
  assert.equal(byKid["rsa-2"].field, "keys.keys[1]");
  const text = JSON.stringify(v.keys());
  for (const jwk of publicSet.keys) for (const m of ["n", "x", "y", "k"]) if (jwk[m]) assert.ok(!text.includes(jwk[m]), m);
});

test("one key, one algorithm: a key without alg under two pinned algorithms of its family is a config error", () => {
  const both = { ...policy("RS256"), algorithms: ["RS256", "PS256"], keys: { keys: [rsa2.pub] } };
  assert.throws(() => new Verifier(both), (e) => e.code === "config" && e.field === "keys.keys[0].alg");
  const pinned = { ...both, keys: { keys: [rsa1.pub] } };
  const v = new Verifier(pinned, { cacheSize: 0 });
  const rsa1Any = createPrivateKey({ key: rsa1.priv, format: "jwk" });
  return joseSign("PS256", "rsa-1", rsa1Any).then((t) => assert.equal(codeOf(() => v.verify(t)), "algorithm"));
});

test("signingAlgorithms pins an issuer's signing key; Verifier.forSigner verifies with its public half", async () => {
  const { signingAlgorithms } = require(fileURLToPath(new URL("../../pkg/", import.meta.url)));
  // The whole set with the EC private key in it (WebCrypto-exported: key_ops ["sign"], no alg).
  const ecPriv = { ...ec.priv, key_ops: ["sign"] };
  const keys = { keys: [rsa1.pub, rsa2.pub, ecPriv, ed.pub, k256.pub, { ...encKey.pub, use: "enc" }] };
  assert.deepEqual(signingAlgorithms(keys), ["ES256"]);
  assert.deepEqual(signingAlgorithms({ keys: [ed.priv, rsa2.priv] }), ["EdDSA", "RS256"]);
  assert.deepEqual(signingAlgorithms({ keys: [rsa1.pub, ed.pub] }), ["RS256", "EdDSA"]);
  assert.throws(() => signingAlgorithms({ keys: [{ kty: "oct", k: "c2hvcnQ" }] }), { code: "config", field: "keys.keys[0].k" });
  assert.throws(() => signingAlgorithms({ keys: [] }), { code: "config" });
  assert.throws(() => signingAlgorithms("not json"), { code: "config" });

  const policy = { issuer: ISS, audience: AUD, algorithms: signingAlgorithms(keys), keys };
  const signer = new Signer(policy, { ttlSeconds: 600 });
  const verifier = Verifier.forSigner(policy, { cacheSize: 0 });
  const report = verifier.keys();
  assert.ok(report.every((k) => k.sign !== true), JSON.stringify(report));
  assert.deepEqual(report.filter((k) => k.verify).map((k) => k.kid), ["ec-1"]);
  const token = signer.sign({ sub: "u1" });
  assert.equal(verifier.verify(token).sub, "u1");
  // jose agrees, with the public key alone.
  const { payload } = await jose.jwtVerify(token, await jose.importJWK(ec.pub, "ES256"), { issuer: ISS, audience: AUD });
  assert.equal(payload.sub, "u1");
  // The same policy given to a plain Verifier refuses the key_ops ["sign"] key: forSigner is
  // what turns it into its verifying half.
  assert.throws(() => new Verifier(policy), { code: "config" });
});
