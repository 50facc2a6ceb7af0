#!/usr/bin/env bash
# What PRINT's tests and HTML/PDF printing need on Debian/Ubuntu: Chromium (HTML → PDF), CUPS
# (the spooler path against a raw queue), and pdfium from PyPI's pypdfium2 wheel (PDF → raster),
# copied to /usr/local/lib/libpdfium.so where the engine looks for it. Idempotent: a warm machine only
# runs a few checks.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/apt.sh" chromium cups cups-client cups-bsd
command -v python3 >/dev/null 2>&1 || "$here/apt.sh" python3
python3 -m pip --version >/dev/null 2>&1 || "$here/apt.sh" python3-pip

# The same library the installers bundle (PyPI's pypdfium2 wheel, pinned in scripts/pdfium.py):
# build/pdfium/linux-x64/ for the .deb and tests/print_pdf_bundled.rs, and a copy (not a link:
# build/ may be cleaned) in /usr/local/lib where the engine looks on a developer's machine.
python3 "$here/../pdfium.py" linux-x64
src="$here/../../build/pdfium/linux-x64/libpdfium.so"
lib=/usr/local/lib/libpdfium.so
if ! cmp -s "$src" "$lib"; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO cp "$src" "$lib.tmp" && $SUDO mv "$lib.tmp" "$lib"
  command -v ldconfig >/dev/null && $SUDO ldconfig || true
  echo "pdfium: $lib (from pypdfium2)" >&2
fi
