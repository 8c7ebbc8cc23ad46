// jwtgate/authjs for Node.js (the CommonJS build loads its wasm synchronously).
import * as jwtgate from "../node/jwtgate.js";
import { createAuthjs } from "./core.mjs";

export const authjs = createAuthjs(async () => jwtgate);
export default authjs;
