// jwtgate/authjs for web and edge runtimes (Next.js middleware, workerd, browsers): the ES module
// build, initialised on first use. Pass `wasm` (bytes, a WebAssembly.Module, or a URL) to
// `authjs({ ..., wasm })` where the default fetch of jwtgate_bg.wasm next to the module is not
// available; a Next.js edge bundle can `import wasm from "jwtgate/web/jwtgate_bg.wasm?module"`.
import init, * as jwtgate from "../web/index.js";
import { createAuthjs } from "./core.mjs";

let ready;
function loader(wasm) {
  return async () => {
    ready ??= init(wasm === undefined ? undefined : { module_or_path: wasm });
    await ready;
    return jwtgate;
  };
}

export function authjs(options = {}) {
  const { wasm, ...rest } = options;
  return createAuthjs(loader(wasm))(rest);
}
export default authjs;
