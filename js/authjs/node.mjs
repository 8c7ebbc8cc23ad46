// jwtgate/authjs for Node.js (the CommonJS build loads its wasm synchronously).
import jwtgate from "../node/index.cjs";
import { createAuthjs } from "./core.mjs";

export const authjs = createAuthjs(async () => jwtgate);
export default authjs;
