#!/usr/bin/env bash
# The main job on an embedded default: sets up what is missing, builds the npm package (pkg/),
# then runs examples/node/demo.mjs, which signs a token with an embedded demo policy and shows
# what jwtgate accepts and refuses (and why).
set -euo pipefail
cd "$(dirname "$0")/.."
JWTGATE_SKIP_FUZZ=1 JWTGATE_SKIP_BROWSER=1 bash scripts/setup.sh
bash scripts/build-pkg.sh
node examples/node/demo.mjs
