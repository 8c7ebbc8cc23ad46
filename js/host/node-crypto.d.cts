import type { HostCrypto } from "../node/jwtgate.js";
/** Host crypto for jwtgate from `node:crypto` (pass the module: `require("node:crypto")`). */
export declare function nodeCryptoHost(crypto: typeof import("node:crypto")): HostCrypto;
/**
 * Whether 32 bytes (an Ed25519 JWK's `x`, decoded) are a point of edwards25519, decoded as
 * ed25519-dalek decodes them (node:crypto imports any 32 bytes; `checkKey` refuses the others).
 */
export declare function ed25519Point(bytes: Uint8Array): boolean;
/**
 * workerd's `node:crypto` (`process.getBuiltinModule`, under `nodejs_compat`) as host crypto, or
 * `undefined` where there is none: what the edge gate registers.
 */
export declare function builtinNodeCryptoHost(): HostCrypto | undefined;
