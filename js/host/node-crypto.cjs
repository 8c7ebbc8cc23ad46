"use strict";
// Host crypto for jwtgate from Node's `node:crypto` (also workerd with `nodejs_compat`):
//
//   const { setHostCrypto } = require("jwtgate");
//   setHostCrypto(require("jwtgate/host/node-crypto").nodeCryptoHost(require("node:crypto")));
//
// The Node entry of the package does this itself. Its build has no RSA, ECDSA or Ed25519
// arithmetic of its own (cargo feature `host-keys`): this adapter is where those keys are
// checked (`checkKey`), verified (`importKey`) and used to sign (`sign`). jwtgate keeps parsing,
// key selection, algorithm binding, the checks that need no arithmetic (RSA modulus and exponent
// bounds, Ed25519 small-order keys and signature form, every length) and claims. `importKey` is
// called once per key and algorithm (a KeyObject is made then, not per call). HMAC stays in
// jwtgate (as fast in wasm, and the secret never leaves it). How each algorithm is named to
// node:crypto comes from jwtgate's one table (`params.node`, from src/platform.rs).

// Ed25519 (RFC 8032 §5.1.3): p = 2^255 - 19, d = -121665/121666.
const P = (1n << 255n) - 19n;
function modPow(base, exp) {
  let result = 1n;
  base %= P;
  for (; exp > 0n; exp >>= 1n) {
    if (exp & 1n) result = (result * base) % P;
    base = (base * base) % P;
  }
  return result;
}
const D = (((-121665n * modPow(121666n, P - 2n)) % P) + P) % P;

/**
 * Whether 32 bytes decode to a point of edwards25519 as ed25519-dalek decodes them (jwtgate's
 * own build): y little-endian without the sign bit, reduced mod p; a point iff
 * x^2 = (y^2 - 1) / (d y^2 + 1) has a root (Euler's criterion). node:crypto imports any 32 bytes.
 */
function ed25519Point(bytes) {
  if (bytes.length !== 32) return false;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i] & 0x7f : bytes[i]);
  y %= P;
  const yy = (y * y) % P;
  const u = (yy - 1n + P) % P;
  const v = (D * yy + 1n) % P;
  const x2 = (u * modPow(v, P - 2n)) % P;
  return x2 === 0n || modPow(x2, (P - 1n) / 2n) === 1n;
}

/** @param {typeof import("node:crypto")} crypto */
function nodeCryptoHost(crypto) {
  const { createPublicKey, createPrivateKey, createECDH, verify, sign, constants } = crypto;
  const ecdhCurves = { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" };
  const forms = {
    plain: (key) => key,
    pss: (key, p) => ({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength }),
    p1363: (key) => ({ key, dsaEncoding: "ieee-p1363" }),
  };
  const publicMembers = { RSA: ["n", "e"], EC: ["crv", "x", "y"], OKP: ["crv", "x"] };
  const probe = Buffer.from("jwtgate key check");

  /** The key's public half, or throws (node:crypto refuses an EC point off its curve). */
  function publicKeyOf(jwk) {
    const members = publicMembers[jwk.kty];
    if (!members) throw new Error("unsupported kty");
    const pub = { kty: jwk.kty };
    for (const m of members) {
      if (typeof jwk[m] !== "string") throw new Error("missing member");
      pub[m] = jwk[m];
    }
    if (jwk.kty === "OKP" && (jwk.crv !== "Ed25519" || !ed25519Point(Buffer.from(jwk.x, "base64url")))) {
      throw new Error("not an Ed25519 point");
    }
    return createPublicKey({ key: pub, format: "jwk" });
  }

  /** Whether a private JWK belongs to its public members. */
  function privateMatches(jwk, publicKey) {
    const privateKey = createPrivateKey({ key: jwk, format: "jwk" });
    if (jwk.kty === "RSA") {
      // A test signature: node:crypto takes the CRT members as given.
      const signature = sign("sha256", probe, privateKey);
      return verify("sha256", probe, publicKey, signature);
    }
    if (jwk.kty === "EC") {
      // node:crypto keeps an EC JWK's x and y beside any `d` (its public half is then the JWK's
      // whatever `d` is): derive the point from `d` itself and compare.
      const ecdh = createECDH(ecdhCurves[jwk.crv]);
      ecdh.setPrivateKey(Buffer.from(jwk.d, "base64url"));
      const point = ecdh.getPublicKey(); // 04 || x || y
      const len = (point.length - 1) / 2;
      return (
        point.subarray(1, 1 + len).toString("base64url") === jwk.x &&
        point.subarray(1 + len).toString("base64url") === jwk.y
      );
    }
    // Ed25519: node:crypto derives the public key from `d`; it must be the JWK's.
    const derived = createPublicKey(privateKey).export({ format: "jwk" });
    return derived.x === jwk.x;
  }

  return {
    importKey(jwk, alg, params) {
      const p = params && params.node;
      const form = p && forms[p.padding];
      if (!form) return undefined;
      const key = form(createPublicKey({ key: jwk, format: "jwk" }), p);
      return {
        verify: (data, signature) => verify(p.digest, data, key, signature),
        // The callback form runs on libuv's thread pool: verifyAsync's path, so that verifications
        // in flight use the other cores. `data` and `signature` are the caller's own copies.
        verifyAsync: (data, signature) =>
          new Promise((resolve, reject) =>
            verify(p.digest, data, key, signature, (err, ok) => (err ? reject(err) : resolve(ok))),
          ),
      };
    },
    checkKey(jwk) {
      try {
        const publicKey = publicKeyOf(jwk);
        return jwk.d === undefined || privateMatches(jwk, publicKey);
      } catch {
        return false;
      }
    },
    sign(jwk, alg, params, data) {
      const p = params && params.node;
      const form = p && forms[p.padding];
      if (!form) throw new Error("no node:crypto form for " + alg);
      return sign(p.digest, data, form(createPrivateKey({ key: jwk, format: "jwk" }), p));
    },
  };
}

module.exports = { nodeCryptoHost, ed25519Point };
