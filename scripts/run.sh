#!/usr/bin/env bash
# The README's run command: installs what is needed and starts the service (headless engine).
# Extra arguments go to pispas-modules (e.g. --config PATH, --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup/engine.sh
exec cargo run --release --locked -p pispas-modules --bin pispas-modules -- "$@"
