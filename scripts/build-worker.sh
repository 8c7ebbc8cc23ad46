#!/usr/bin/env bash
# Builds the edge gate Worker into build/ (index.js + index_bg.wasm) with worker-build and the
# `worker` feature. worker-build is told where its tools are, so it downloads nothing:
# wasm-bindgen (installed by scripts/setup.sh at the Cargo.lock version), esbuild and wasm-opt
# (npm packages `esbuild` and `binaryen`). wrangler.toml runs this as its build command.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
command -v worker-build >/dev/null || { echo "worker-build missing: run scripts/setup.sh" >&2; exit 1; }

# No RSA, ECDSA or Ed25519 arithmetic of its own (`host-keys`): WebCrypto checks signatures and
# workerd's node:crypto (`nodejs_compat`, registered by src/worker.rs) checks keys and signs.
worker-build --release --no-default-features --features worker,host-keys >/dev/null
# worker-build honours the crate's wasm-pack metadata (wasm-opt off): optimise here.
wasm-opt -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-multivalue --enable-reference-types --enable-exception-handling \
  build/index_bg.wasm -o build/index_bg.wasm
printf 'build/ (worker): index_bg.wasm %d bytes raw, %d bytes gzip -9; index.js %d bytes\n' \
  "$(wc -c <build/index_bg.wasm)" "$(gzip -9 -c build/index_bg.wasm | wc -c)" "$(wc -c <build/index.js)"
