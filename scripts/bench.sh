#!/usr/bin/env bash
# One command for every jwtgate benchmark (`npm run bench`), from a clean checkout:
#   1. installs what is missing (scripts/setup.sh: Rust targets and tools, `npm ci` brings jose
#      and fast-jwt from npm), builds pkg/ and the gate Worker
#   2. size report of every built wasm (raw and gzip -9)
#   3. Node startup: require() and the first verify, in fresh processes (bench/startup.mjs)
#   4. Node throughput: jwtgate vs jose vs fast-jwt, cold and warm, interleaved in one process,
#      medians and ratios (bench/verify.mjs; ROUNDS, SLICE_MS, ALGS tune it)
#   5. workerd throughput: jwtgate (pure Rust; and with node:crypto under nodejs_compat) vs jose
#      (WebCrypto) inside one Worker in Miniflare (bench/workerd.mjs)
#   6. the edge gate against a pass-through Worker: added latency at 1 and 4 connections, CPU
#      per request, throughput at saturation (bench/gate.mjs)
#   6b. the gate's Durable Object per request: a family read, a DPoP proof with its replay
#      write, a refresh, each against a bearer request in the same run (bench/state.mjs)
#   7. criterion benches of the native core (benches/verify.rs); BENCH_NATIVE=0 skips them
#   8. the summary: every speed and size target with this run's figure, and the tables of
#      docs/performance.md (bench/summary.mjs; WRITE_DOC=docs/performance.md writes them there)
# Benchmarks print figures; they never fail on speed. JWTGATE_SKIP_SETUP=1 skips step 1's setup.
#
# Parts run alone against what is already built (no setup, no build): `npm run bench -- node`
# (or `bash scripts/bench.sh node workerd ...`), each of: sizes startup node workerd gate state
# native summary. Every part stops itself: one that runs past its bound (BENCH_PART_TIMEOUT
# seconds, default 900) ends the run with an error, never a wait.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH:$PWD/node_modules/.bin"
export CARGO_TERM_COLOR=never
PARTS=(sizes startup node workerd gate state native summary)
for p in "$@"; do
  [[ " ${PARTS[*]} " == *" $p "* ]] || { echo "unknown bench part: $p (one of: ${PARTS[*]})" >&2; exit 2; }
done
want() { [ ${#SELECTED[@]} -eq 0 ] || [[ " ${SELECTED[*]} " == *" $1 "* ]]; }
SELECTED=("$@")
# A part that runs past its bound is killed and fails the run (workerd, Miniflare or autocannon
# hanging must never be waited out).
bounded() { # name command...
  local name=$1 limit=${BENCH_PART_TIMEOUT:-900} rc=0
  shift
  timeout --kill-after=10 "$limit" "$@" || rc=$?
  [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || { echo "bench part '$name' ran past ${limit} s: stopped" >&2; exit 1; }
  [ "$rc" -eq 0 ] || exit "$rc"
}

if [ ${#SELECTED[@]} -eq 0 ]; then
  [ "${JWTGATE_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
  printf '\n=== build\n'
  bash scripts/build-pkg.sh >/dev/null
  bash scripts/build-worker.sh >/dev/null
fi
# The HMAC-only build (no rsa/ecdsa/eddsa features), optimised like pkg/, for the size report.
if want sizes && { [ ${#SELECTED[@]} -eq 0 ] || [ ! -f target/pkg-hs-only/jwtgate_bg.wasm ]; }; then
  wasm-pack --quiet build --release --mode no-install --no-opt --target web \
    --out-dir target/pkg-hs-only --out-name jwtgate -- --no-default-features --features js
  wasm-opt -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-multivalue --enable-reference-types \
    target/pkg-hs-only/jwtgate_bg.wasm -o target/pkg-hs-only/jwtgate_bg.wasm
fi
[ -f pkg/node/jwtgate_bg.wasm ] || { echo "pkg/ is not built: run bash scripts/build-pkg.sh" >&2; exit 1; }

# Each bench also writes its figures as JSON into $BENCH_OUT; bench/summary.mjs reads them (a
# run of some parts keeps the other parts' figures of an earlier run).
export BENCH_OUT="${BENCH_OUT:-$PWD/target/bench}"
[ ${#SELECTED[@]} -gt 0 ] || rm -rf "$BENCH_OUT"
mkdir -p "$BENCH_OUT"
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
printf '{"date":"%s","arch":"%s","cpus":%s,"model":"%s","node":"%s","rustc":"%s"}\n' \
  "$(date -u +%F)" "$(uname -m)" "$(nproc)" "${model//\"/}" "$(node --version)" "$(rustc --version)" \
  >"$BENCH_OUT/machine.json"

if want sizes; then
  printf '\n=== wasm sizes (bytes)\n'
  printf '%-40s %9s %9s\n' file raw "gzip -9"
  sizes="{"
  for f in pkg/node/jwtgate_bg.wasm pkg/web/jwtgate_bg.wasm pkg/pure/jwtgate_bg.wasm build/index_bg.wasm \
    target/pkg-hs-only/jwtgate_bg.wasm; do
    raw=$(wc -c <"$f") gz=$(gzip -9 -c "$f" | wc -c)
    printf '%-40s %9d %9d\n' "$f" "$raw" "$gz"
    sizes="$sizes\"$f\":{\"raw\":$raw,\"gzip\":$gz},"
  done
  echo "${sizes%,}}" >"$BENCH_OUT/sizes.json"
  echo "(pkg/: npm package, every algorithm (pure: with its own arithmetic); build/: the gate Worker; target/pkg-hs-only: HS* only)"
fi

if want startup; then
  printf '\n=== Node startup (%s)\n' "$(node --version)"
  JSON_STARTUP="$BENCH_OUT/startup.json" bounded startup node bench/startup.mjs
fi

if want node; then
  printf '\n=== Node verify throughput (%s)\n' "$(node --version)"
  JSON="$BENCH_OUT/verify.json" bounded node node --expose-gc bench/verify.mjs
fi

if want workerd; then
  printf '\n=== workerd verify throughput (Miniflare, node %s)\n' "$(node_modules/.bin/node --version)"
  JSON_WORKERD="$BENCH_OUT/workerd.json" bounded workerd node_modules/.bin/node bench/workerd.mjs
fi

if want gate; then
  printf '\n=== edge gate vs a pass-through Worker (workerd, node %s)\n' "$(node_modules/.bin/node --version)"
  JSON_GATE="$BENCH_OUT/gate.json" bounded gate node_modules/.bin/node bench/gate.mjs
fi

if want state; then
  printf '\n=== the gate'"'"'s Durable Object per request (workerd, node %s)\n' "$(node_modules/.bin/node --version)"
  JSON_STATE="$BENCH_OUT/state.json" bounded state node_modules/.bin/node bench/state.mjs
fi

if want native && [ "${BENCH_NATIVE:-1}" = 1 ]; then
  printf '\n=== native core (criterion, %s)\n' "$(rustc --version)"
  log=$(mktemp)
  bounded native cargo bench --bench verify -- --warm-up-time 1 --measurement-time 3 >"$log" 2>&1 ||
    { cat "$log"; rm -f "$log"; exit 1; }
  grep -E '^[^ ].*time:' "$log" || true # "name  time: [low median high]"
  rm -f "$log"
fi

if want summary; then
  printf '\n=== summary: speed and size targets (%s, %s, %s cores)\n' "$(date -u +%F)" "$(uname -m)" "$(nproc)"
  node bench/summary.mjs
fi
