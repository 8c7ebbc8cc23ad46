#!/usr/bin/env bash
# Builds the npm package `jwtgate` into pkg/ (build output: never edit it by hand).
#
#   pkg/node/  CommonJS for Node.js      (wasm-pack --target nodejs; loads the .wasm synchronously)
#   pkg/web/   ES module for the web     (wasm-pack --target web: browsers, workerd, Next.js edge;
#              call the default export `init()` or `initSync({ module })` once before use)
#   pkg/node/index.cjs  the Node entry: the CommonJS build with node:crypto as host crypto and
#                       the Verifier extensions (js/extend.js: token cache, verifyAsync)
#   pkg/web/index.js    the ES module entry: the web build with the same extensions
#   pkg/web/edge.js     the same, initialised on import from a `?module` wasm import (the
#                       `edge-light` condition: Next.js's edge runtime, Vercel Edge Functions)
#   pkg/pure/  `jwtgate/pure`: the web entry over a build with jwtgate's own RSA, ECDSA,
#              Ed25519 and AES (RustCrypto), for synchronous use with no host crypto
#   pkg/host/  host crypto adapters (node:crypto; also for workerd with nodejs_compat)
#   pkg/bin/   the CLI, `jwtgate explain` (js/cli.cjs over the Node entry)
#   pkg/package.json  conditional exports choosing between the two
#
# wasm-pack runs with --mode no-install (it uses the wasm-bindgen on PATH, pinned to Cargo.lock by
# scripts/setup.sh) and wasm-opt off; wasm-opt then comes from the npm package `binaryen`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

command -v wasm-pack >/dev/null || { echo "wasm-pack missing: run scripts/setup.sh" >&2; exit 1; }
command -v wasm-opt >/dev/null || { echo "wasm-opt missing: run npm ci (binaryen)" >&2; exit 1; }
command -v esbuild >/dev/null || { echo "esbuild missing: run npm ci" >&2; exit 1; }

rm -rf pkg
build() { # target out-dir cargo-features...
  local target=$1 out=$2
  shift 2
  wasm-pack --quiet build --release --mode no-install --no-opt --target "$target" --out-dir "$out" \
    --out-name jwtgate -- "$@"
  # wasm-pack writes a catch-all .gitignore that would also hide the files from `npm pack`.
  rm -f "$out/.gitignore" "$out/README.md"
  # The Rust toolchain's default wasm32 features, named explicitly for wasm-opt.
  wasm-opt -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-multivalue --enable-reference-types \
    "$out/jwtgate_bg.wasm" -o "$out/jwtgate_bg.wasm"
}
# The Node and web builds have no RSA, ECDSA, Ed25519 or AES code (cargo features `host-keys`
# and `jwe-reader` without `jwe`): node:crypto, registered by the Node entry, does that
# arithmetic, and on the web WebCrypto does, through the async methods (or a host registered
# with setHostCrypto, synchronously). The pure build carries jwtgate's own (RustCrypto).
build nodejs pkg/node --no-default-features --features js,host-keys,jwe-reader
build web pkg/web --no-default-features --features js,host-keys,jwe-reader
build web pkg/pure --features js
# The package's own TypeScript types (js/types.d.ts) beside wasm-bindgen's class declarations,
# in one file per build (the `Verifier` interface there merges with the class).
for d in pkg/node pkg/web pkg/pure; do
  cat js/types.d.ts >>"$d/jwtgate.d.ts"
done

# The Node entry registers node:crypto as host crypto (RSA/ECDSA/Ed25519 signature checks);
# pkg/node/package.json (wasm-pack's) would point `main` past it.
cp js/node-entry.cjs pkg/node/index.cjs
rm -f pkg/node/package.json
# The extensions (js/extend.js, an ES module: the token cache and the async methods; it imports
# js/webcrypto.js, the WebCrypto check the gate shares, and js/host/node-crypto.js for its
# Ed25519 point check): as they are for the web and pure builds, and bundled into one CommonJS
# file by esbuild (a dev dependency) for the Node build.
for d in pkg/web pkg/pure; do
  cp js/extend.js js/webcrypto.js "$d/"
  mkdir -p "$d/host"
  cp js/host/node-crypto.js "$d/host/"
  cp js/web-entry.js "$d/index.js"
done
esbuild js/extend.js --bundle --format=cjs --platform=neutral --log-level=warning --outfile=pkg/node/extend.cjs
cp js/edge-entry.js pkg/web/edge.js
# wasm-bindgen's initSync tests `module instanceof WebAssembly.Module`, which is false for a
# Module made in another realm (Next.js's edge sandbox compiles `?module` imports outside the
# sandbox), and then calls `new WebAssembly.Module(module)` on it: "Argument 0 must be a buffer
# source". Recognise a Module of any realm by its brand instead.
for file in pkg/web/jwtgate.js pkg/pure/jwtgate.js; do node -e '
  const fs = require("node:fs");
  const file = process.argv[1];
  const old = "if (!(module instanceof WebAssembly.Module)) {";
  const src = fs.readFileSync(file, "utf8");
  if (src.split(old).length !== 2) throw new Error(`${file}: initSync check not found once: update this patch`);
  fs.writeFileSync(file, src.replace(old,
    "if (!(module instanceof WebAssembly.Module) && Object.prototype.toString.call(module) !== \"[object WebAssembly.Module]\") {"));
' "$file"; done

# wasm-pack marks the web build side-effect free except ./snippets/*: bundlers (esbuild, wrangler,
# webpack) would then resolve `Verifier` straight to jwtgate.js and drop the entry's
# `extend` call. The entry and the extensions do have side effects.
for file in pkg/web/package.json pkg/pure/package.json; do node -e '
  const fs = require("node:fs");
  const file = process.argv[1];
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  pkg.sideEffects = ["./index.js", "./edge.js", "./extend.js", "./snippets/*"];
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
' "$file"; done
# The node:crypto adapter (an ES module the edge gate binds too), as CommonJS for the package.
mkdir -p pkg/host
esbuild js/host/node-crypto.js --format=cjs --platform=neutral --log-level=warning --outfile=pkg/host/node-crypto.cjs
cp js/host/node-crypto.d.cts pkg/host/

# The CLI (`npx jwtgate explain < token`): pkg/bin/, over the Node entry.
mkdir -p pkg/bin
cp js/cli.cjs pkg/bin/jwtgate.cjs
chmod +x pkg/bin/jwtgate.cjs

# The Auth.js adapter (plain JS over the two builds): pkg/authjs/.
mkdir -p pkg/authjs
cp js/authjs/core.mjs js/authjs/node.mjs js/authjs/web.mjs js/authjs/edge.mjs js/authjs/index.d.ts pkg/authjs/

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
cat > pkg/package.json <<JSON
{
  "name": "jwtgate",
  "version": "$version",
  "description": "One fail-closed JWT context policy (iss, aud, exp/nbf/iat, pinned alg, kid) shared by the issuer and every verifier.",
  "license": "MIT OR Apache-2.0",
  "keywords": ["jwt", "jws", "wasm", "authjs", "security"],
  "main": "./node/index.cjs",
  "bin": { "jwtgate": "./bin/jwtgate.cjs" },
  "types": "./node/jwtgate.d.ts",
  "exports": {
    ".": {
      "workerd": { "types": "./web/jwtgate.d.ts", "default": "./web/index.js" },
      "edge-light": { "types": "./web/jwtgate.d.ts", "default": "./web/edge.js" },
      "browser": { "types": "./web/jwtgate.d.ts", "default": "./web/index.js" },
      "node": { "types": "./node/jwtgate.d.ts", "default": "./node/index.cjs" },
      "default": { "types": "./web/jwtgate.d.ts", "default": "./web/index.js" }
    },
    "./node": { "types": "./node/jwtgate.d.ts", "default": "./node/index.cjs" },
    "./host/node-crypto": { "types": "./host/node-crypto.d.cts", "default": "./host/node-crypto.cjs" },
    "./web": { "types": "./web/jwtgate.d.ts", "default": "./web/index.js" },
    "./edge": { "types": "./web/jwtgate.d.ts", "default": "./web/edge.js" },
    "./pure": { "types": "./pure/jwtgate.d.ts", "default": "./pure/index.js" },
    "./authjs": {
      "types": "./authjs/index.d.ts",
      "workerd": "./authjs/web.mjs",
      "edge-light": "./authjs/edge.mjs",
      "browser": "./authjs/web.mjs",
      "node": "./authjs/node.mjs",
      "default": "./authjs/web.mjs"
    },
    "./web/jwtgate_bg.wasm": "./web/jwtgate_bg.wasm",
    "./pure/jwtgate_bg.wasm": "./pure/jwtgate_bg.wasm",
    "./package.json": "./package.json"
  },
  "files": ["node/", "web/", "pure/", "host/", "authjs/", "bin/", "README.md"]
}
JSON
cp README.md pkg/README.md

echo "pkg/ built (jwtgate $version):"
for f in pkg/*/jwtgate_bg.wasm; do
  printf '  %-26s %8d bytes raw, %7d bytes gzip -9\n' "$f" "$(wc -c <"$f")" "$(gzip -9 -c "$f" | wc -c)"
done
