#!/usr/bin/env bash
# The JavaScript client's tests (node's test runner) and the pages in headless Chromium
# (playwright-core + Debian's chromium), both against the real headless engine binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --locked -q -p pispas-modules --bin pispas-modules
node --test tests/ui/client.test.mjs tests/ui/pages.test.mjs
