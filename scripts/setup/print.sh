#!/usr/bin/env bash
# What PRINT's tests and HTML/PDF printing need on Debian/Ubuntu: Chromium (HTML → PDF), CUPS
# (the spooler path against a raw queue), and pdfium from PyPI's pypdfium2 (PDF → raster), linked
# to /usr/local/lib/libpdfium.so where the engine looks for it. Idempotent: a warm machine only
# runs a few checks.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/apt.sh" chromium cups cups-client cups-bsd
command -v python3 >/dev/null 2>&1 || "$here/apt.sh" python3
python3 -m pip --version >/dev/null 2>&1 || "$here/apt.sh" python3-pip

lib=/usr/local/lib/libpdfium.so
if [ ! -e "$lib" ]; then
  py=python3
  # Prefer the interpreter first on PATH (pyenv on dev machines), Debian's otherwise.
  if ! "$py" -c 'import pypdfium2_raw' 2>/dev/null; then
    "$py" -m pip install --quiet --disable-pip-version-check pypdfium2 2>/dev/null \
      || "$py" -m pip install --quiet --disable-pip-version-check --break-system-packages pypdfium2
  fi
  src="$("$py" -c 'import os, pypdfium2_raw; print(os.path.join(os.path.dirname(pypdfium2_raw.__file__), "libpdfium.so"))')"
  [ -f "$src" ] || { echo "pypdfium2 installed but $src is missing" >&2; exit 1; }
  # A copy, not a link: the wheel's folder may belong to a Python that is later removed.
  cp "$src" "$lib.tmp" && mv "$lib.tmp" "$lib"
  command -v ldconfig >/dev/null && ldconfig || true
  echo "pdfium: $lib (from pypdfium2)" >&2
fi
