#!/usr/bin/env bash
# The main job on an embedded default: the edge gate under `wrangler dev` (workerd, local, no
# network) in front of the demo origin (examples/gate/origin.mjs on 127.0.0.1:8788), with the
# demo environment of wrangler.toml ([env.demo]: the default environment has no policy). Prints curl lines to try, then runs until Ctrl-C.
# GATE_DEMO_SECONDS=N stops it after N seconds (used by CI-style smoke runs).
set -euo pipefail
cd "$(dirname "$0")/.."
JWTGATE_SKIP_FUZZ=1 JWTGATE_SKIP_BROWSER=1 bash scripts/setup.sh
bash scripts/build-pkg.sh >/dev/null   # for examples/gate/mint.mjs
# wrangler 4 needs Node >= 22: the npm package node@22 provides it in node_modules/.bin.
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
GATE_PORT=${GATE_PORT:-8787}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

node examples/gate/origin.mjs 8788 &
pids+=($!)
wrangler dev --env demo --local --ip 127.0.0.1 --port "$GATE_PORT" --show-interactive-dev-session=false >/tmp/jwtgate-wrangler.log 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:$GATE_PORT/health" && break
  sleep 1
done
curl -s -o /dev/null "http://127.0.0.1:$GATE_PORT/health" || { cat /tmp/jwtgate-wrangler.log; exit 1; }

token=$(node examples/gate/mint.mjs demo-user read)
admin=$(node examples/gate/mint.mjs demo-admin "read admin")
cat <<MSG

jwtgate is running on http://127.0.0.1:$GATE_PORT in front of the demo origin (127.0.0.1:8788).
Try:

  curl -i http://127.0.0.1:$GATE_PORT/api/orders                         # 401 missing_token
  curl -i -H 'Authorization: Bearer not.a.token' http://127.0.0.1:$GATE_PORT/api/orders   # 401 invalid_token
  curl -i -H "Authorization: Bearer $token" http://127.0.0.1:$GATE_PORT/api/orders        # 200, identity headers
  curl -i -H "Authorization: Bearer $token" http://127.0.0.1:$GATE_PORT/admin            # 403 insufficient_scope
  curl -i -H "Authorization: Bearer $admin" http://127.0.0.1:$GATE_PORT/admin            # 200
  curl -i http://127.0.0.1:$GATE_PORT/health                              # public path

New tokens: node examples/gate/mint.mjs [sub] [scope]. wrangler's log: /tmp/jwtgate-wrangler.log
MSG
echo "--- sample:"
curl -s -o /dev/null -w 'no token        -> %{http_code}\n' "http://127.0.0.1:$GATE_PORT/api/orders"
curl -s -o /dev/null -w 'valid token     -> %{http_code}\n' -H "Authorization: Bearer $token" "http://127.0.0.1:$GATE_PORT/api/orders"
curl -s -o /dev/null -w 'missing scope   -> %{http_code}\n' -H "Authorization: Bearer $token" "http://127.0.0.1:$GATE_PORT/admin"
if [ -n "${GATE_DEMO_SECONDS:-}" ]; then sleep "$GATE_DEMO_SECONDS"; else wait "${pids[1]}"; fi
