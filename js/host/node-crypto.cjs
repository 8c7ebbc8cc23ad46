"use strict";
// Host crypto for jwtgate from Node's `node:crypto` (also workerd with `nodejs_compat`):
//
//   const { setHostCrypto } = require("jwtgate");
//   setHostCrypto(require("jwtgate/host/node-crypto").nodeCryptoHost(require("node:crypto")));
//
// The Node entry of the package does this itself. jwtgate hands over only the raw signature
// check, with the key's public JWK once per key and algorithm (a KeyObject is made then, not per
// call); parsing, key selection, algorithm binding, signature form and claims stay in jwtgate.
// HMAC stays in jwtgate too (it is as fast in wasm, and the secret never leaves it). How each
// algorithm is named to node:crypto comes from jwtgate's one table (`params.node`, from
// src/platform.rs): this adapter holds none of its own.

/** @param {typeof import("node:crypto")} crypto */
function nodeCryptoHost(crypto) {
  const { createPublicKey, verify, constants } = crypto;
  const forms = {
    plain: (key) => key,
    pss: (key, p) => ({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength }),
    p1363: (key) => ({ key, dsaEncoding: "ieee-p1363" }),
  };
  return {
    importKey(jwk, alg, params) {
      const p = params && params.node;
      const form = p && forms[p.padding];
      if (!form) return undefined; // left to jwtgate
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
  };
}

module.exports = { nodeCryptoHost };
