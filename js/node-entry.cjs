"use strict";
// The package's Node entry: the CommonJS build with `node:crypto` registered as host crypto, and
// the verified-token cache and `verifyAsync` added to Verifier (./extend.cjs). This build has no
// RSA, ECDSA or Ed25519 arithmetic of its own (cargo feature `host-keys`): node:crypto checks,
// verifies and signs with those keys (`nativeCrypto: false` is a config error here; after
// setHostCrypto(null) such keys are refused). `jwtgate/web` carries jwtgate's own.
// `module.exports = require(...)` in this exact form lets Node's ES module loader see the named
// exports of the CommonJS build (`import { Verifier } from "jwtgate"`). The module's
// `__jwtgate_*` internals are taken out of the exports before anyone else sees them.
module.exports = require("./jwtgate.js");
const { nodeCryptoHost } = require("../host/node-crypto.cjs");
const { extend, takeInternals } = require("./extend.cjs");
module.exports.setHostCrypto(nodeCryptoHost(require("node:crypto")));
extend(module.exports, takeInternals(module.exports));
