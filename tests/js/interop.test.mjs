// The npm package (pkg/, built by scripts/build-pkg.sh) against an independent implementation,
// `jose`: tokens jose signs must verify in jwtgate, tokens jwtgate signs must verify in jose with
// the same issuer/audience checks, for every supported algorithm.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as jose from "jose";

const require = createRequire(import.meta.url);
const pkgDir = fileURLToPath(new URL("../../pkg/", import.meta.url));
const { Verifier, Signer } = require(pkgDir); // CommonJS, as Node users load it

const ISS = "https://pay.example.com";
const AUD = "pay-api";
const ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];
const now = () => Math.floor(Date.now() / 1000);

async function keyPair(alg, kid) {
  if (alg.startsWith("HS")) {
    const bytes = crypto.getRandomValues(new Uint8Array(64));
    const jwk = { kty: "oct", kid, k: Buffer.from(bytes).toString("base64url") };
    return { signKey: bytes, verifyKey: bytes, publicJwk: jwk, privateJwk: jwk };
  }
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  return {
    signKey: privateKey,
    verifyKey: publicKey,
    publicJwk: { ...(await jose.exportJWK(publicKey)), kid },
    privateJwk: { ...(await jose.exportJWK(privateKey)), kid },
  };
}

const policy = (alg, jwk, extra = {}) => ({
  issuer: ISS,
  audience: AUD,
  algorithms: [alg],
  keys: { keys: [jwk] },
  requiredClaims: ["sub"],
  ...extra,
});

const keys = {};
test.before(async () => {
  for (const alg of ALGS) keys[alg] = await keyPair(alg, `${alg}-kid`);
});

for (const alg of ALGS) {
  test(`${alg}: jose signs, jwtgate verifies`, async () => {
    const k = keys[alg];
    const token = await new jose.SignJWT({ sub: "user_1", scope: "read" })
      .setProtectedHeader({ alg, kid: k.publicJwk.kid, typ: "JWT" })
      .setIssuer(ISS)
      .setAudience(AUD)
      .setIssuedAt()
      .setNotBefore("0s")
      .setExpirationTime("10m")
      .setJti("j-1")
      .sign(k.signKey);
    const v = new Verifier(policy(alg, k.publicJwk));
    const claims = v.verify(token);
    assert.equal(claims.sub, "user_1");
    assert.equal(claims.scope, "read");
    // The same token for another service: refused.
    const other = new Verifier({ ...policy(alg, k.publicJwk), audience: "billing-api" });
    assert.throws(() => other.verify(token), { name: "JwtGateError", code: "audience", claim: "aud" });
    const staging = new Verifier({ ...policy(alg, k.publicJwk), issuer: "https://staging.pay.example.com" });
    assert.throws(() => staging.verify(token), { name: "JwtGateError", code: "issuer" });
  });

  test(`${alg}: jwtgate signs, jose verifies`, async () => {
    const k = keys[alg];
    const s = new Signer(policy(alg, k.privateJwk), { ttlSeconds: 120 });
    assert.equal(s.algorithm, alg);
    const token = s.sign({ sub: "user_2", roles: ["a", "b"] });
    const { payload, protectedHeader } = await jose.jwtVerify(token, k.verifyKey, {
      issuer: ISS,
      audience: AUD,
      algorithms: [alg],
      requiredClaims: ["sub", "exp", "iat", "nbf", "jti"],
    });
    assert.equal(payload.sub, "user_2");
    assert.deepEqual(payload.roles, ["a", "b"]);
    assert.equal(payload.exp - payload.iat, 120);
    assert.equal(protectedHeader.kid, `${alg}-kid`);
    assert.equal(protectedHeader.typ, "JWT");
    // jose really checks too: the same token under another audience fails there as well.
    await assert.rejects(
      jose.jwtVerify(token, k.verifyKey, { issuer: ISS, audience: "billing-api", algorithms: [alg] }),
      { code: "ERR_JWT_CLAIM_VALIDATION_FAILED" },
    );
  });
}

test("jose's unsecured JWT (alg none) is refused", () => {
  const token = new jose.UnsecuredJWT({ sub: "admin" }).setIssuer(ISS).setAudience(AUD).setExpirationTime("10m").encode();
  const v = new Verifier(policy("HS256", keys.HS256.publicJwk));
  assert.throws(() => v.verify(token), { name: "JwtGateError", code: "algorithm" });
});

test("a jose token with the key embedded in its header (jwk) is refused", async () => {
  const k = keys.ES256;
  const token = await new jose.SignJWT({ sub: "u" })
    .setProtectedHeader({ alg: "ES256", kid: k.publicJwk.kid, jwk: { kty: k.publicJwk.kty, crv: k.publicJwk.crv, x: k.publicJwk.x, y: k.publicJwk.y } })
    .setIssuer(ISS).setAudience(AUD).setExpirationTime("10m")
    .sign(k.signKey);
  const v = new Verifier(policy("ES256", k.publicJwk));
  assert.throws(() => v.verify(token), { code: "header" });
});

test("errors are typed, stable and never echo the token", () => {
  const k = keys.ES256;
  const s = new Signer(policy("ES256", k.privateJwk));
  const v = new Verifier(policy("ES256", k.publicJwk));
  const t0 = 1_800_000_000;
  const token = s.sign({ sub: "u" }, { now: t0 });
  assert.equal(v.verify(token, { now: t0 + 60 }).sub, "u");
  let err;
  try {
    v.verify(token, { now: t0 + 10_000 });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error);
  assert.equal(err.name, "JwtGateError");
  assert.equal(err.code, "expired");
  assert.equal(err.claim, "exp");
  for (const part of token.split(".")) assert.ok(!err.message.includes(part));
  assert.throws(() => new Verifier({ ...policy("ES256", k.publicJwk), audience: undefined }), {
    name: "JwtGateError",
    code: "config",
    field: "audience",
  });
  assert.throws(() => new Verifier({ ...policy("ES256", k.publicJwk), issuer: process.env.JWTGATE_SURELY_UNSET }), {
    code: "config",
    field: "issuer",
  });
  assert.throws(() => s.sign({ sub: "u", big: 10n }), { code: "malformed" });
});

test("the ES module entries work after initSync, with the token cache: web through WebCrypto, pure on its own", async () => {
  const k = keys.EdDSA;
  for (const dir of ["web", "pure"]) {
    const m = await import(new URL(`../../pkg/${dir}/index.js`, import.meta.url));
    m.initSync({ module: readFileSync(new URL(`../../pkg/${dir}/jwtgate_bg.wasm`, import.meta.url)) });
    const signer = new m.Signer(policy("EdDSA", k.privateJwk));
    const token = await signer.signAsync({ sub: dir });
    assert.equal(new Verifier(policy("EdDSA", k.publicJwk)).verify(token).sub, dir);
    const wv = new m.Verifier(policy("EdDSA", k.publicJwk), { cacheSize: 4 });
    assert.equal(wv.nativeCrypto, false, `no host crypto in the ${dir} build`);
    assert.equal(m.Verifier.prototype.verify.jwtgateCached, true);
    assert.equal((await wv.verifyAsync(token)).sub, dir);
    assert.equal((await wv.verifyAsync(token)).sub, dir); // the second sight is cached
    assert.equal(wv.verify(token).sub, dir, "a hit: the cache holds what verifyAsync verified");
    const exp = JSON.parse(Buffer.from(token.split(".")[1], "base64url")).exp;
    await assert.rejects(wv.verifyAsync(token, { now: exp + 3600 }), { code: "expired" });
    const { payload } = await jose.jwtVerify(token, k.verifyKey, { issuer: ISS, audience: AUD });
    assert.equal(payload.sub, dir);
    if (dir === "pure") {
      assert.equal(signer.sign({ sub: dir }).split(".").length, 3);
    } else {
      // No arithmetic of its own and no host: the synchronous methods name the async ones.
      assert.throws(() => signer.sign({ sub: dir }), (e) => e.code === "config" && /signAsync/.test(e.message));
      const fresh = new m.Verifier(policy("EdDSA", k.publicJwk), { cacheSize: 0 });
      assert.throws(() => fresh.verify(token), (e) => e.code === "config" && /verifyAsync/.test(e.message));
    }
  }
});

test("package.json resolves to the right build per condition", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../pkg/package.json", import.meta.url)));
  assert.equal(pkg.name, "jwtgate");
  assert.equal(pkg.exports["."].node.default, "./node/index.cjs");
  assert.equal(pkg.exports["."].workerd.default, "./web/index.js");
  assert.equal(require.resolve(pkgDir), require.resolve(pkgDir + "node/index.cjs"));
});

test("the Node entry registers node:crypto and exposes named exports to ES modules", async () => {
  const esm = await import(pkgDir + "node/index.cjs");
  assert.equal(typeof esm.Verifier, "function", "named export seen by the ES module loader");
  assert.equal(esm.hasHostCrypto(), true);
  assert.equal(esm.default, require(pkgDir));
});
