#!/usr/bin/env bash
# Desktop app numbers for docs/performance.md (release build): launch → WebSocket answering, and
# PSS of the app plus its WebKit processes with the status window open, after closing it, and
# tray-only. Runs under Xvfb and a private D-Bus session, with a throwaway HOME.
#   scripts/perf-desktop.sh            (RUNS=5 launches by default)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup/desktop.sh
cargo build --release --locked -q -p pispas --features custom-protocol
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" XDG_CACHE_HOME="$home/.cache" \
  dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" node tests/perf/desktop.mjs
