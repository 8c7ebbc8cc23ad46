// jwtgate/authjs for web and edge runtimes (Next.js middleware, workerd, browsers): the ES module
// build, initialised on first use. Pass `wasm` (bytes, a WebAssembly.Module, or a URL) to
// `authjs({ ..., wasm })` where the default fetch of jwtgate_bg.wasm next to the module is not
// available. On Next.js's edge runtime the `edge-light` condition picks ./edge.mjs instead, which
// loads the wasm on import: no `wasm` option there.
// Until the wasm is ready, `authjs()` checks only what it reads itself (issuer, audience, keys
// present); the core checks the rest of the policy on first use (`encode` and `decode` then
// throw its `config` error); once the wasm is ready, `authjs()` checks it all at once.
import init, * as jwtgate from "../web/index.js";
import { createAuthjs } from "./core.mjs";

let ready;
let done = false;
function loader(wasm) {
  return async () => {
    ready ??= init(wasm === undefined ? undefined : { module_or_path: wasm }).then(() => {
      done = true;
    });
    await ready;
    return jwtgate;
  };
}
const loaded = () => (done ? jwtgate : undefined);

export function authjs(options = {}) {
  const { wasm, ...rest } = options;
  return createAuthjs(loader(wasm), loaded)(rest);
}
export default authjs;
