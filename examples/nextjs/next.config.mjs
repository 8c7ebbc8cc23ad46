import { fileURLToPath } from "node:url";

/** @type {import("next").NextConfig} */
export default {
  // The Node build of jwtgate loads its .wasm from disk: keep it out of the server bundle.
  serverExternalPackages: ["jwtgate"],
  // This example is its own root (jwtgate is installed from ../../pkg as a copy: .npmrc).
  turbopack: { root: fileURLToPath(new URL(".", import.meta.url)) },
};
