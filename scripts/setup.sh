#!/usr/bin/env bash
# Installs everything jwtgate's build and tests need, from the package registries only
# (crates.io, npm, Debian). Idempotent: each step is skipped when its tool is already there at
# the right version. Run from anywhere; scripts/test.sh and scripts/demo.sh call it first.
#
#   - rustup target wasm32-unknown-unknown
#   - wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock
#   - wasm-pack 0.15.1 (always run with --mode no-install: it never downloads anything)
#   - worker-build 0.8.7 (the edge gate; scripts/build-worker.sh points it at local tools)
#   - cargo-fuzz 0.13.2 (the fuzz target runs with RUSTC_BOOTSTRAP=1 on the stable toolchain)
#   - Debian's chromium + chromium-driver (headless wasm-bindgen tests)
#   - npm ci (jose for interop tests, binaryen for wasm-opt, esbuild for worker-build, wrangler +
#     miniflare for the gate, node@22 for wrangler/miniflare, autocannon for the gate load check)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '[setup] %s\n' "$*"; }

WASM_PACK_VERSION=0.15.1
CARGO_FUZZ_VERSION=0.13.2
WORKER_BUILD_VERSION=0.8.7

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "wasm32-unknown-unknown: present"
else
  rustup target add wasm32-unknown-unknown
fi

# The wasm-bindgen CLI must match the crate exactly (Cargo.toml pins it with "=").
[ -f Cargo.lock ] || cargo generate-lockfile
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$wb_version" ] || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$wb_version" ] &&
   [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" = "$wb_version" ]; then
  say "wasm-bindgen-cli $wb_version: present"
else
  # Not --locked: its lockfile pins a webpki-roots version the registry does not serve.
  cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" = "$WASM_PACK_VERSION" ]; then
  say "wasm-pack $WASM_PACK_VERSION: present"
else
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked --force
fi

if [ "$(worker-build --version 2>/dev/null | head -n 1)" = "$WORKER_BUILD_VERSION" ]; then
  say "worker-build $WORKER_BUILD_VERSION: present"
else
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked --force
fi

if [ "${JWTGATE_SKIP_FUZZ:-0}" != 1 ]; then
  if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" = "$CARGO_FUZZ_VERSION" ]; then
    say "cargo-fuzz $CARGO_FUZZ_VERSION: present"
  else
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force
  fi
fi

if [ "${JWTGATE_SKIP_BROWSER:-0}" != 1 ]; then
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    say "chromium + chromedriver: present"
  else
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
fi

if [ -f node_modules/.package-lock.json ] && cmp -s <(node -e 'const l=require("./package-lock.json");delete l.name;delete l.version;console.log(JSON.stringify(l.packages?Object.keys(l.packages).filter(Boolean).sort():[]))') \
     <(node -e 'const l=require("./node_modules/.package-lock.json");console.log(JSON.stringify(Object.keys(l.packages).filter(Boolean).sort()))'); then
  say "node_modules: up to date"
else
  npm ci --no-audit --no-fund
fi
say "done"
