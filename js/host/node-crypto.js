// Host crypto for jwtgate from Node's `node:crypto` (also workerd's, under `nodejs_compat`):
//
//   const { setHostCrypto } = require("jwtgate");
//   setHostCrypto(require("jwtgate/host/node-crypto").nodeCryptoHost(require("node:crypto")));
//
// The Node entry of the package does this itself, and so does the edge gate (src/worker.rs binds
// this module; scripts/build-pkg.sh bundles it to CommonJS for the package). Both builds have no
// RSA, ECDSA or Ed25519 arithmetic of their own (cargo feature `host-keys`): this adapter is where those keys are
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
// d = -121665/121666 mod p, as RFC 8032 §5.1 gives it (a literal: computing it costs every
// process that loads this module half a millisecond).
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;

/**
 * Whether 32 bytes decode to a point of edwards25519 as ed25519-dalek decodes them (jwtgate's
 * own build): y little-endian without the sign bit, reduced mod p; a point iff
 * x^2 = (y^2 - 1) / (d y^2 + 1) has a root (Euler's criterion). node:crypto imports any 32 bytes.
 */
export function ed25519Point(bytes) {
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

/**
 * The edge gate's host: workerd's `node:crypto` (the `nodejs_compat` flag), or `undefined`
 * without it (then the gate refuses RSA, EC and OKP keys as configuration errors).
 */
export function builtinNodeCryptoHost() {
  const process = globalThis.process;
  const crypto = process && typeof process.getBuiltinModule === "function" && process.getBuiltinModule("node:crypto");
  return crypto && typeof crypto.sign === "function" ? nodeCryptoHost(crypto) : undefined;
}

/** @param {typeof import("node:crypto")} crypto */
export function nodeCryptoHost(crypto) {
  const { createPublicKey, createPrivateKey, createECDH, createDecipheriv, verify, sign, constants } = crypto;
  const ecdhCurves = { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" };
  // The options each form adds to the key (none: the key is passed as it is).
  const forms = {
    plain: () => null,
    pss: (p) => ({ padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength }),
    p1363: () => ({ dsaEncoding: "ieee-p1363" }),
  };
  const publicMembers = { RSA: ["n", "e"], EC: ["crv", "x", "y"], OKP: ["crv", "x"] };
  const probe = new TextEncoder().encode("jwtgate key check");

  // Node takes a KeyObject inside an options object; workerd's node:crypto takes only key
  // material there (it throws a TypeError for a KeyObject), so it gets the JWK itself. Asked once,
  // with P-256's base point as the key and a signature of zeros (never valid).
  let keyObjectsInOptions;
  function objectForm() {
    if (keyObjectsInOptions === undefined) {
      try {
        const g = createPublicKey({
          key: {
            kty: "EC",
            crv: "P-256",
            x: "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY",
            y: "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
          },
          format: "jwk",
        });
        verify("sha256", probe, { key: g, dsaEncoding: "ieee-p1363" }, new Uint8Array(64));
        keyObjectsInOptions = true;
      } catch {
        keyObjectsInOptions = false;
      }
    }
    return keyObjectsInOptions;
  }

  // workerd's node:crypto ignores `padding`: asked for RSA-PSS it signs and verifies PKCS#1 v1.5.
  // A PKCS#1 v1.5 signature (a fixed RSA-1024 test key's, over `probe`) that verifies under PSS
  // options shows it: then this host takes no PSS at all (importKey leaves it to the caller,
  // sign throws), and jwtgate refuses a PS* signing key rather than sign PKCS#1 under a PS* name.
  let pssApplied;
  function pssWorks() {
    if (pssApplied === undefined) {
      try {
        const key = createPublicKey({ key: PROBE_RSA, format: "jwk" });
        const signature = fromBase64url(PROBE_RSA_PKCS1_SIGNATURE);
        const asPss = keyArgument(key, PROBE_RSA, forms.pss({ saltLength: 32 }));
        pssApplied = verify("sha256", probe, key, signature) === true && verify("sha256", probe, asPss, signature) === false;
      } catch {
        pssApplied = false;
      }
    }
    return pssApplied;
  }
  /** The form for `p`, or `undefined` where this host cannot apply it. */
  function formOf(p) {
    const form = p && forms[p.padding];
    return form && (p.padding !== "pss" || pssWorks()) ? form : undefined;
  }

  /** The key argument of `verify`/`sign`: `keyObject` (made from `jwk`) with `options`. */
  function keyArgument(keyObject, jwk, options) {
    if (options === null) return keyObject;
    return objectForm() ? { key: keyObject, ...options } : { key: jwk, format: "jwk", ...options };
  }

  /** The key's public half, or throws (node:crypto refuses an EC point off its curve). */
  function publicKeyOf(jwk) {
    const members = publicMembers[jwk.kty];
    if (!members) throw new Error("unsupported kty");
    const pub = { kty: jwk.kty };
    for (const m of members) {
      if (typeof jwk[m] !== "string") throw new Error("missing member");
      pub[m] = jwk[m];
    }
    if (jwk.kty === "OKP" && (jwk.crv !== "Ed25519" || !ed25519Point(fromBase64url(jwk.x)))) {
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
      ecdh.setPrivateKey(fromBase64url(jwk.d));
      const point = ecdh.getPublicKey(); // 04 || x || y
      const len = (point.length - 1) / 2;
      return (
        toBase64url(point.subarray(1, 1 + len)) === jwk.x && toBase64url(point.subarray(1 + len)) === jwk.y
      );
    }
    // Ed25519: node:crypto derives the public key from `d`; it must be the JWK's.
    const derived = createPublicKey(privateKey).export({ format: "jwk" });
    return derived.x === jwk.x;
  }

  return {
    importKey(jwk, alg, params) {
      const p = params && params.node;
      const form = formOf(p);
      if (!form) return undefined;
      const key = keyArgument(createPublicKey({ key: jwk, format: "jwk" }), jwk, form(p));
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
    // AES-256 for Auth.js cookies (jwtgate checks A256CBC-HS512's HMAC tag itself, before this):
    // the plaintext, or a throw (wrong GCM tag, bad padding). Only these two ciphers.
    decrypt(cipher, key, iv, data, aad, tag) {
      if (cipher !== "aes-256-cbc" && cipher !== "aes-256-gcm") throw new Error("unsupported cipher");
      const decipher =
        cipher === "aes-256-gcm" ? createDecipheriv(cipher, key, iv, { authTagLength: 16 }) : createDecipheriv(cipher, key, iv);
      if (cipher === "aes-256-gcm") {
        decipher.setAAD(aad);
        decipher.setAuthTag(tag);
      }
      const head = decipher.update(data);
      const tail = decipher.final();
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      return out;
    },
    sign(jwk, alg, params, data) {
      const p = params && params.node;
      const form = formOf(p);
      if (!form) throw new Error("no node:crypto form for " + alg);
      return sign(p.digest, data, keyArgument(createPrivateKey({ key: jwk, format: "jwk" }), jwk, form(p)));
    },
  };
}

// A public RSA-1024 test key (for the PSS probe only) and its PKCS#1 v1.5 SHA-256 signature over
// "jwtgate key check".
const PROBE_RSA = {
  kty: "RSA",
  n: "3nkiy_B_3lEFwg97zuIMYNgujXa9ALHSGX2pU2n9u6EY37iSYaiFknE-nfKAuuh_y6s-52Rfjl8E81caNBymFJjncNejp2iejj1Eku2zFIUnt1k_iAb_EB21Y69N5GU6_vcO4xtgZ8XhH191a4H3KRXDdswW5WgJKJGCP1z3AbE",
  e: "AQAB",
};
const PROBE_RSA_PKCS1_SIGNATURE =
  "M9MeLSgn7_1Vx_aQIINlR87YSpYrh4pjAv5G2Yb49_DA-pwnmq1Y7ajesO6Z2iRWppw5wWvc9XRuj19tDRsi-rIJqeA-9oPIpJifZPW72SWCDl8c_LsdSYT1IwdvMpYfkqXuVx4aIN4INk1JC8-QAlN9KydgDYjaCzqnX8EyNBo";

// Base64url without `Buffer` (a global in Node, not in every runtime this module is bundled for).
function fromBase64url(text) {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64url(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
