import type { HostCrypto } from "../node/jwtgate.js";
/** Host crypto for jwtgate from `node:crypto` (pass the module: `require("node:crypto")`). */
export declare function nodeCryptoHost(crypto: typeof import("node:crypto")): HostCrypto;
