#!/usr/bin/env bash
# The JavaScript SDK (@pispas/local, packages/client) and the protocol description it is
# generated from: stale checks first (the build rewrites those files), then its build, its unit
# tests (fake socket and clock) and its browser tests in headless Chromium against the real
# headless engine and the virtual printer. The engine side of the description is checked by
# crates/pispas-modules/tests/protocol_description.rs in `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent check -w @pispas/local        # generated types and ui/js/pispas.js are what the sources give
node scripts/protocol-docs.mjs --check         # docs/protocol.md's tables are what the description gives
npm run --silent build -w @pispas/local
if git rev-parse --git-dir >/dev/null 2>&1; then
  git diff --exit-code --stat -- ui/js/pispas.js packages/client/src/generated \
    || { echo "the SDK build changed committed files: run npm run build -w @pispas/local and commit" >&2; exit 1; }
fi
cargo build --locked -q -p pispas-modules --bin pispas-modules
cargo build --locked -q -p pispas-sim --bin pispas-sim
node --test packages/client/test/ tests/sdk/browser.test.mjs
