// The package's entry for edge runtimes that take wasm only as a precompiled WebAssembly.Module
// from a static import (the `edge-light` export condition: Next.js's edge runtime, with
// Turbopack or webpack, and Vercel Edge Functions), which refuse to compile wasm from bytes at
// run time and cannot fetch a file next to the module. The bundler turns the `?module` import
// into that Module; this entry initialises the web build with it on import, so
// `import { Verifier } from "jwtgate"` works there with no `init()`.
import wasmModule from "./jwtgate_bg.wasm?module";
import { initSync } from "./index.js";

initSync({ module: wasmModule });

export * from "./index.js";
