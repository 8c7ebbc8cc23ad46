// The package's ES module entry (workerd, browsers, edge runtimes): the web build with the
// verified-token cache installed on Verifier. Signatures are checked by jwtgate's own Rust code.
import { Verifier } from "./jwtgate.js";
import { installTokenCache } from "./cache.js";

installTokenCache(Verifier);
export * from "./jwtgate.js";
export { default } from "./jwtgate.js";
