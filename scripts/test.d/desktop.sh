#!/usr/bin/env bash
# Smoke test of the real desktop app under Xvfb and a private D-Bus session bus (the
# single-instance plugin needs one): starts, answers CHECK, the status window renders, a second
# launch exits, Quit exits cleanly. Screenshots land in target/desktop-smoke/.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --locked -q -p pispas
# A throwaway HOME so start-at-login files and WebKit caches never touch the real profile.
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export PISPAS_APP_BIN="${PISPAS_APP_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/pispas}"
HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" XDG_CACHE_HOME="$home/.cache" \
  dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
  node --test tests/desktop/smoke.test.mjs
