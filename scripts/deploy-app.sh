#!/bin/sh
# Writes one app, built, with only its production dependencies, into OUT_DIR: what its image runs.
# The Dockerfile runs this, and so does the test that starts the built output, so the two cannot drift.
#   scripts/deploy-app.sh <receiver|worker|dashboard> <OUT_DIR>
set -eu
app="$1"
out="$2"
# A flat node_modules (the bundles import third-party packages by name) without optional
# packages (native speed-ups with JS fallbacks, TypeScript as valibot's optional peer).
pnpm --config.node-linker=hoisted --filter "@imsync/$app" --prod --no-optional deploy "$out"
test -d "$out/dist" || { echo "deploy-app: $out/dist missing; run pnpm build first" >&2; exit 1; }
