#!/usr/bin/env bash
# The SDK in Node (tests/ui/client.test.mjs) and the pages in headless Chromium (playwright-core +
# Debian's chromium), both against the real headless engine binary. The pages use the SDK's
# browser build (ui/js/pispas.js); the Node test imports the package, so it is built first.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent build -w @pispas/local
cargo build --locked -q -p pispas-modules --bin pispas-modules
cargo build --locked -q -p pispas-sim --bin pispas-sim
node --test tests/ui/client.test.mjs tests/ui/pages.test.mjs tests/ui/kitchen.test.mjs
