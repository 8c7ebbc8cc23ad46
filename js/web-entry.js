// The package's ES module entry (workerd, browsers, edge runtimes): the web build with the
// verified-token cache and `verifyAsync` (signatures through WebCrypto) added to Verifier.
import { Verifier, signatureError } from "./jwtgate.js";
import { extendVerifier } from "./extend.js";

extendVerifier(Verifier, signatureError);
export * from "./jwtgate.js";
export { default } from "./jwtgate.js";
