"use strict";
// The package's Node entry: the CommonJS build with `node:crypto` registered as host crypto, so
// RSA, ECDSA and Ed25519 signatures are checked natively (pass `nativeCrypto: false` to a
// Verifier, or call setHostCrypto(null), to use jwtgate's own Rust implementations instead), and
// the verified-token cache and `verifyAsync` added to Verifier (./extend.cjs).
// `module.exports = require(...)` in this exact form lets Node's ES module loader see the named
// exports of the CommonJS build (`import { Verifier } from "jwtgate"`). The module's
// `__jwtgate_*` internals are taken out of the exports before anyone else sees them.
module.exports = require("./jwtgate.js");
const { nodeCryptoHost } = require("../host/node-crypto.cjs");
const { extendVerifier, takeInternals } = require("./extend.cjs");
module.exports.setHostCrypto(nodeCryptoHost(require("node:crypto")));
extendVerifier(module.exports.Verifier, takeInternals(module.exports));
