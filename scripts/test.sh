#!/usr/bin/env bash
# Runs every jwtgate test on a fresh machine (installing what is missing first):
#   1. cargo fmt --check, cargo clippy -D warnings (native and wasm32), cargo doc (no warnings)
#   2. native cargo test: rules, config, signer, Wycheproof + RFC 7520 vectors, doc tests, and
#      builds without some algorithm features (HS-only, ES256-only)
#   3. wasm-bindgen-test in Node and in headless Chromium (JS API + every rule test, as wasm)
#   4. the npm package: build pkg/, then node --test (jose interop, CJS + ESM builds)
#   5. the Next.js example (examples/nextjs): next build (Turbopack, then webpack), next start, a
#      real sign-in over HTTP, and the web entry on the edge runtime
#   6. the edge gate: build the Worker, HTTP-level tests in Miniflare (workerd), and
#      `wrangler deploy --dry-run` to prove the bundle builds
#   7. cargo fuzz on (policy, token) for FUZZ_SECONDS (default 60) seconds
# Exits non-zero on the first failure. Set JWTGATE_SKIP_SETUP=1 to skip scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# The machine's Node first (the npm package is tested on it); npm tools after it.
export PATH="$HOME/.cargo/bin:$PATH:$root/node_modules/.bin"
node22="$root/node_modules/.bin/node"
export CARGO_TERM_COLOR=never
[ "${JWTGATE_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh

step() { printf '\n=== %s\n' "$*"; }
# Runs a command with its output in a file, prints the lines matching a filter (the runner's
# summary), and on failure prints everything and stops with the command's exit code.
run_logged() { # file filter command...
  local file=$1 filter=$2 rc=0
  shift 2
  "$@" >"$file" 2>&1 || rc=$?
  grep -E "$filter" "$file" || true
  if [ "$rc" != 0 ]; then cat "$file"; echo "FAILED ($rc): $*" >&2; exit "$rc"; fi
}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

step "format, lints, docs"
cargo fmt --all -- --check
cargo clippy --all-targets --features js -- -D warnings
cargo clippy --target wasm32-unknown-unknown --all-targets --features js -- -D warnings
cargo clippy --target wasm32-unknown-unknown --features worker -- -D warnings
# The gate as built (WebCrypto and workerd's node:crypto do the RSA/EC/Ed25519 arithmetic).
cargo clippy --target wasm32-unknown-unknown --no-default-features --features worker,host-keys -- -D warnings
cargo clippy --target wasm32-unknown-unknown --no-default-features --features js -- -D warnings
# The npm package's Node build (node:crypto does the RSA/EC/Ed25519 arithmetic).
cargo clippy --target wasm32-unknown-unknown --no-default-features --features js,host-keys,jwe-reader -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --features js --quiet

step "native tests"
run_logged "$log/native.txt" '^(test result|running)' cargo test --features js
# Builds with fewer algorithm families: HMAC only, and ES256 only.
run_logged "$log/hs-only.txt" '^test result' cargo test --no-default-features --test features
run_logged "$log/es-only.txt" '^test result' cargo test --no-default-features --features ecdsa --test features

# wasm-bindgen-test: a suite silently run as "0 tests" would look green, so count them.
check_wasm_run() { # name log-file
  local out=$1 file=$2
  grep -E '^test result' "$file" | sed "s/^/[$out] /"
  if grep -qE 'test result: FAILED|^error' "$file"; then cat "$file"; exit 1; fi
  for suite in js_api verify_rules policy_and_signer native_hook key_sets; do
    awk -v s="tests/$suite.rs" '$0 ~ s {f=1} f && /test result: ok\. [1-9][0-9]* passed/ {ok=1; exit} END {exit !ok}' "$file" ||
      { echo "[$out] suite $suite ran no tests" >&2; cat "$file"; exit 1; }
  done
}

step "wasm tests in Node"
wasm-pack test --node --mode no-install -- --features js >"$log/node.txt" 2>&1 || { cat "$log/node.txt"; exit 1; }
check_wasm_run node "$log/node.txt"

step "wasm tests in headless Chromium"
CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_USE_BROWSER=1 \
  wasm-pack test --headless --chrome --mode no-install -- --features js >"$log/chrome.txt" 2>&1 ||
  { cat "$log/chrome.txt"; exit 1; }
grep -q 'Running headless tests in Chrome' "$log/chrome.txt" || { echo "not run in Chrome" >&2; exit 1; }
check_wasm_run chromium "$log/chrome.txt"

step "npm package: build and node --test"
bash scripts/build-pkg.sh
# The package's TypeScript declarations, as a user's code type-checks against them.
node_modules/.bin/tsc -p tests/types && echo "[tsc] tests/types/usage.ts: declarations check"
echo "[node $(node --version)]"
run_logged "$log/js.txt" '^# (tests|pass|fail|skipped)|^not ok' node --test tests/js/*.test.mjs
echo "[node $("$node22" --version)]"
run_logged "$log/js22.txt" '^# (tests|pass|fail|skipped)|^not ok' "$node22" --test tests/js/*.test.mjs

step "Next.js example: next build, then sign-in over HTTP against next start"
# `npm install --no-save`, not `npm ci`: the lockfile lacks @next/swc's darwin/win32 builds
# because the registry here does not serve them, and `npm ci` refuses a lockfile without them.
rm -rf examples/nextjs/node_modules/jwtgate # a copy of pkg/: take the one just built
(cd examples/nextjs && npm install --no-save --no-audit --no-fund >"$log/next-install.txt" 2>&1) ||
  { cat "$log/next-install.txt"; exit 1; }
(cd examples/nextjs &&
  export NEXT_TELEMETRY_DISABLED=1 AUTH_URL=http://127.0.0.1:3000 \
    AUTH_SECRET=example-authjs-secret-for-tests-only \
    AUTH_SESSION_SECRET=example-session-secret-for-tests-only-32b &&
  node_modules/.bin/next build >"$log/next-build.txt" 2>&1) || { cat "$log/next-build.txt"; exit 1; }
run_logged "$log/next.txt" '^# (tests|pass|fail|skipped)|^not ok' \
  bash -c 'cd examples/nextjs && node --test smoke.test.mjs'
# The same app built by webpack (`next build --webpack`): the edge routes load the wasm through
# the other bundler's `?module` handling.
(cd examples/nextjs &&
  export NEXT_TELEMETRY_DISABLED=1 AUTH_URL=http://127.0.0.1:3000 \
    AUTH_SECRET=example-authjs-secret-for-tests-only \
    AUTH_SESSION_SECRET=example-session-secret-for-tests-only-32b &&
  node_modules/.bin/next build --webpack >"$log/next-build-webpack.txt" 2>&1) ||
  { cat "$log/next-build-webpack.txt"; exit 1; }
echo "[next build --webpack]"
run_logged "$log/next-webpack.txt" '^# (tests|pass|fail|skipped)|^not ok' \
  bash -c 'cd examples/nextjs && node --test smoke.test.mjs'

step "edge gate: build, HTTP tests in Miniflare, wrangler dry-run"
bash scripts/build-worker.sh
# wrangler and miniflare need Node >= 22: the npm package node@22 provides it.
run_logged "$log/gate.txt" '^# (tests|pass|fail|skipped|adversarial:)|^not ok' \
  "$node22" --test --test-timeout=120000 tests/gate/*.test.mjs
(export WRANGLER_SEND_METRICS=false; PATH="$root/node_modules/.bin:$PATH" \
  wrangler deploy --dry-run --outdir "$log/dist" >"$log/wrangler.txt" 2>&1) || { cat "$log/wrangler.txt"; exit 1; }
grep -E 'Total Upload' "$log/wrangler.txt" | sed 's/^/[wrangler dry-run] /'
# The default environment ships no policy (the gate refuses every request until the operator
# sets one); the demo policy with its published key lives only in [env.demo].
if grep -q 'JWTGATE_POLICY' "$log/wrangler.txt"; then
  echo "wrangler.toml: the default environment must not carry a policy" >&2; exit 1
fi
(export WRANGLER_SEND_METRICS=false; PATH="$root/node_modules/.bin:$PATH" \
  wrangler deploy --dry-run --env demo --outdir "$log/dist-demo" >"$log/wrangler-demo.txt" 2>&1) ||
  { cat "$log/wrangler-demo.txt"; exit 1; }
grep -q 'env.JWTGATE_POLICY' "$log/wrangler-demo.txt" || { cat "$log/wrangler-demo.txt"; exit 1; }
echo "[wrangler dry-run] default environment: no policy; demo environment: demo policy"

if [ "${JWTGATE_SKIP_FUZZ:-0}" != 1 ]; then
  step "fuzz: ${FUZZ_SECONDS:-60} s on (policy, token)"
  mkdir -p fuzz/corpus/verify
  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run verify corpus/verify seeds/verify -- \
      -dict=verify.dict -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 \
      >"$log/fuzz.txt" 2>&1) || { tail -n 60 "$log/fuzz.txt"; exit 1; }
  grep -E '^Done [0-9]+ runs' "$log/fuzz.txt" | sed 's/^/[fuzz] /'
fi

step "all tests passed"
