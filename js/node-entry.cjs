"use strict";
// The package's Node entry: the CommonJS build with `node:crypto` registered as host crypto, and
// the verified-token cache and the async methods added (./extend.cjs). This build has no RSA,
// ECDSA, Ed25519 or AES code of its own (cargo features `host-keys`, `jwe-reader`): node:crypto
// checks, verifies, signs and decrypts (`nativeCrypto: false` is a config error here; keys
// loaded after setHostCrypto(null) are deferred to WebCrypto, as in the web build: only the
// async methods use them). `jwtgate/pure` carries jwtgate's own.
// `module.exports = require(...)` in this exact form lets Node's ES module loader see the named
// exports of the CommonJS build (`import { Verifier } from "jwtgate"`). The module's
// `__jwtgate_*` internals are taken out of the exports before anyone else sees them.
module.exports = require("./jwtgate.js");
const { nodeCryptoHost } = require("../host/node-crypto.cjs");
const { extend, takeInternals } = require("./extend.cjs");
module.exports.setHostCrypto(nodeCryptoHost(require("node:crypto")));
extend(module.exports, takeInternals(module.exports));
