#!/usr/bin/env bash
# The README's run command: installs what is needed, then builds and starts the Pispas desktop app
# (tray icon + status window; the service runs inside it). Extra arguments go to the app
# (e.g. --hidden, --open log, --config PATH, --data-dir DIR).
#
#   PISPAS_HEADLESS=1 scripts/run.sh   starts the headless engine instead (servers, CI, no display);
#                                      its pages are then at http://127.0.0.1:8081/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup/engine.sh
if [ "${PISPAS_HEADLESS:-0}" = 1 ]; then
  exec cargo run --release --locked -p pispas-modules --bin pispas-modules -- "$@"
fi
bash scripts/setup/desktop.sh
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "$(uname)" = Linux ]; then
  echo "No display: the desktop app needs a graphical session. For a server, run PISPAS_HEADLESS=1 $0" >&2
  exit 1
fi
exec cargo run --release --locked -p pispas --features custom-protocol -- "$@"
