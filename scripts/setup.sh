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
#     miniflare for the gate, node@22 for wrangler/miniflare, autocannon for the gate load check),
#     then a check that the install scripts package.json's allowScripts approves (node@22,
#     esbuild, workerd) did their work
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

# Up to date when npm's record of what it installed (node_modules/.package-lock.json) holds
# every package of the lockfile at its version, optional ones (other platforms' binaries) aside,
# and nothing else.
if [ -f node_modules/.package-lock.json ] && node -e '
  const lock = require("./package-lock.json").packages, have = require("./node_modules/.package-lock.json").packages;
  const missing = Object.entries(lock).filter(([k, v]) => k && !v.optional && have[k]?.version !== v.version);
  const extra = Object.entries(have).filter(([k, v]) => lock[k]?.version !== v.version);
  process.exit(missing.length + extra.length ? 1 : 0);'; then
  say "node_modules: up to date"
else
  npm ci --no-audit --no-fund
fi

# The dependencies whose install scripts the project needs are approved in package.json's
# `allowScripts` (npm 12 skips any other, silently). Whatever npm did, check what those scripts
# produce, so a skipped one stops here with its name instead of breaking a later step.
script_check() { # package expected-output-prefix command...
  local pkg=$1 want=$2 out
  shift 2
  out=$("$@" 2>/dev/null | head -n 1) || true
  case "$out" in
    "$want"*) say "$pkg: install script ran ($out)" ;;
    *)
      echo "[setup] $pkg: its install script did not run or failed ('$*' gave '${out:-nothing}')." >&2
      echo "[setup] It must be listed in package.json's allowScripts; then run: rm -rf node_modules && npm ci" >&2
      exit 1
      ;;
  esac
}
script_check "node@22 (preinstall)" v22. node_modules/.bin/node --version
script_check "esbuild (postinstall)" "$(node -p 'require("./node_modules/esbuild/package.json").version')" \
  node_modules/.bin/esbuild --version
script_check "wrangler's esbuild (postinstall)" \
  "$(node -p 'require("./node_modules/wrangler/node_modules/esbuild/package.json").version')" \
  node_modules/wrangler/node_modules/esbuild/bin/esbuild --version
script_check "workerd (postinstall)" "workerd " node_modules/.bin/workerd --version
say "done"
