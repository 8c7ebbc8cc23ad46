// The package's ES module entry (workerd, browsers, edge runtimes): the web build with the
// verified-token cache and `verifyAsync` (signatures through WebCrypto) added to Verifier.
// Re-exports the public names only: the module's `__jwtgate_*` internals stay here.
import * as wasm from "./jwtgate.js";
import { extend } from "./extend.js";

extend(wasm, wasm);
export {
  Verifier,
  Signer,
  Refresher,
  AuthJsCookie,
  setHostCrypto,
  hasHostCrypto,
  verifySignature,
  revocationKeys,
  checkRevocation,
  signingAlgorithms,
  explain,
  initSync,
} from "./jwtgate.js";
export { default } from "./jwtgate.js";
