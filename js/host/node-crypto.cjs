"use strict";
// Host crypto for jwtgate from Node's `node:crypto` (also workerd with `nodejs_compat`):
//
//   const { setHostCrypto } = require("jwtgate");
//   setHostCrypto(require("jwtgate/host/node-crypto").nodeCryptoHost(require("node:crypto")));
//
// The Node entry of the package does this itself. jwtgate hands over only the raw signature
// check, with the key's public JWK once per key and algorithm (a KeyObject is made then, not per
// call); parsing, key selection, algorithm binding, signature form and claims stay in jwtgate.
// HMAC stays in jwtgate too (it is as fast in wasm, and the secret never leaves it).

/** @param {typeof import("node:crypto")} crypto */
function nodeCryptoHost(crypto) {
  const { createPublicKey, verify, constants } = crypto;
  const pss = (saltLength) => (key) => ({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
  const plain = (key) => key;
  const table = {
    RS256: ["sha256", plain],
    RS384: ["sha384", plain],
    RS512: ["sha512", plain],
    PS256: ["sha256", pss(32)],
    PS384: ["sha384", pss(48)],
    PS512: ["sha512", pss(64)],
    ES256: ["sha256", (key) => ({ key, dsaEncoding: "ieee-p1363" })],
    EdDSA: [null, plain],
    Ed25519: [null, plain],
  };
  return {
    importKey(jwk, alg) {
      const entry = table[alg];
      if (!entry) return undefined;
      const [digest, wrap] = entry;
      const key = wrap(createPublicKey({ key: jwk, format: "jwk" }));
      return { verify: (data, signature) => verify(digest, data, key, signature) };
    },
  };
}

module.exports = { nodeCryptoHost };
