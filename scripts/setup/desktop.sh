#!/usr/bin/env bash
# What the desktop app (Tauri v2 on WebKitGTK) and the UI tests need on Debian/Ubuntu, installed
# only when missing: WebKitGTK and tray headers (clippy on the workspace compiles the app, so this
# runs before it), Xvfb + D-Bus + ImageMagick for the desktop smoke test, Debian's chromium for the
# browser tests (playwright-core drives it; no browser is downloaded), Node.js and the npm
# packages from package-lock.json (Tauri CLI, playwright-core, ws).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$here/apt.sh" libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev \
  build-essential file pkg-config \
  xvfb xauth dbus dbus-x11 imagemagick chromium
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  "$here/apt.sh" nodejs npm
fi
cd "$root"
# npm ci only when node_modules is missing or older than the lock file (a warm run costs nothing).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
