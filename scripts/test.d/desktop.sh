#!/usr/bin/env bash
# The desktop app as users get it. One build of the app, by the Tauri CLI, that is both the .deb
# and the binary the smoke test runs (debug profile, so it shares the tests' build; `npm run
# build:deb` makes the release one the same way):
# 1. smoke test under Xvfb and a private D-Bus session bus (the single-instance plugin needs one):
#    starts, answers CHECK, the status window renders, a second launch exits, Quit exits cleanly.
#    Screenshots land in target/desktop-smoke/.
# 2. the .deb installed with dpkg (as root or with sudo): the bundled pdfium, the hosts entry,
#    HTML and PDF receipts printed by the installed binary headless; then removed again.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
python3 scripts/pdfium.py linux-x64
cargo build --locked -q -p pispas-sim --bin pispas-sim
npx tauri build --debug --ci --config packaging/linux.json --bundles deb -- -p pispas --locked
deb="$(ls -t "$target"/debug/bundle/deb/*.deb | head -n1)"

# A throwaway HOME so start-at-login files and WebKit caches never touch the real profile.
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export PISPAS_APP_BIN="${PISPAS_APP_BIN:-$target/debug/pispas}"
HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" XDG_CACHE_HOME="$home/.cache" \
  dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
  node --test tests/desktop/smoke.test.mjs

HOME="$home" PISPAS_DEB="$deb" node --test --test-concurrency=1 tests/desktop/deb.test.mjs
