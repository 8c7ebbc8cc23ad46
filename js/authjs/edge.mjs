// jwtgate/authjs under the `edge-light` condition (Next.js's edge runtime): the web adapter, with
// the wasm loaded by the edge entry on import (see js/edge-entry.js), so `authjs()` needs no
// `wasm` option there.
import "../web/edge.js";

export * from "./web.mjs";
export { default } from "./web.mjs";
