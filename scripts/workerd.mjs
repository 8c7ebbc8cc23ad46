// Miniflare (workerd) setup shared by the gate's tests, the Auth.js edge test and the benches:
// one compatibility date (read from wrangler.toml, the deployment's own) and one way to run the
// built gate Worker (build/, by scripts/build-worker.sh). Needs Node >= 22.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const root = new URL("../", import.meta.url);

/** The gate's build output directory. */
export const buildDir = fileURLToPath(new URL("build/", root));

const toml = readFileSync(new URL("wrangler.toml", root), "utf8");

/** `compatibility_date` from wrangler.toml: every Miniflare here runs what `wrangler deploy` would. */
export const compatibilityDate = (() => {
  const date = /^compatibility_date\s*=\s*"(\d{4}-\d{2}-\d{2})"/m.exec(toml)?.[1];
  if (!date) throw new Error("wrangler.toml has no compatibility_date");
  return date;
})();

/**
 * `compatibility_flags` from wrangler.toml (the gate's: `nodejs_compat`, for workerd's
 * node:crypto, its host crypto).
 */
export const gateCompatibilityFlags = (() => {
  const list = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1];
  if (list === undefined) throw new Error("wrangler.toml has no compatibility_flags");
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
})();

/** A Miniflare with the project's compatibility date and no `cf` fetch; `options` as Miniflare's. */
export function workerd(options) {
  return new Miniflare({ compatibilityDate, cf: false, ...options });
}

/** Miniflare's worker options for the built gate with these `bindings` (one worker's part). */
export function gateWorkerOptions(bindings) {
  return {
    modules: [
      { type: "ESModule", path: buildDir + "index.js" },
      { type: "CompiledWasm", path: buildDir + "index_bg.wasm" },
    ],
    modulesRoot: buildDir,
    // Per worker as well: in Miniflare's `workers: [...]` form each worker takes its own.
    compatibilityDate,
    compatibilityFlags: gateCompatibilityFlags,
    bindings,
  };
}

/** The built gate Worker under Miniflare with these `bindings` (and any other Miniflare option). */
export function gateWorker(bindings, options = {}) {
  return workerd({ ...gateWorkerOptions(bindings), ...options });
}
