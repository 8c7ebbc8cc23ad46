// jwtgate/authjs for Node.js (the CommonJS build loads its wasm synchronously, so `authjs()`
// checks the whole policy at once).
import jwtgate from "../node/index.cjs";
import { createAuthjs } from "./core.mjs";

export const authjs = createAuthjs(async () => jwtgate, () => jwtgate);
export default authjs;
