#!/usr/bin/env python3
"""Fetches pdfium for one platform from PyPI's pypdfium2 wheel, for the installers to bundle.

    python3 scripts/pdfium.py linux-x64|windows-x64|macos-arm64|macos-x64 [--out DIR]

Writes DIR (default build/pdfium/<platform>/) with the library under the name the engine looks
for (libpdfium.so, pdfium.dll, libpdfium.dylib) and pdfium-licenses/ (pdfium's and its bundled
components' licences, as the wheel ships them). The wheel comes from the Python package index
with `pip download`, so it works wherever pip does (no other download site). The version is
pinned so every installer of a release carries the same pdfium; a warm run that already has the
files does nothing.
"""

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

VERSION = "5.15.2"

# platform -> (pip --platform tag, file inside the wheel, name the engine looks for)
PLATFORMS = {
    "linux-x64": ("manylinux_2_17_x86_64", "pypdfium2_raw/libpdfium.so", "libpdfium.so"),
    "windows-x64": ("win_amd64", "pypdfium2_raw/pdfium.dll", "pdfium.dll"),
    "macos-arm64": ("macosx_11_0_arm64", "pypdfium2_raw/libpdfium.dylib", "libpdfium.dylib"),
    "macos-x64": ("macosx_10_13_x86_64", "pypdfium2_raw/libpdfium.dylib", "libpdfium.dylib"),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("platform", choices=sorted(PLATFORMS))
    ap.add_argument("--out", type=pathlib.Path)
    args = ap.parse_args()
    tag, member, name = PLATFORMS[args.platform]
    root = pathlib.Path(__file__).resolve().parent.parent
    out = args.out or root / "build" / "pdfium" / args.platform
    stamp = out / f".pypdfium2-{VERSION}"
    if stamp.exists() and (out / name).exists():
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--only-binary=:all:", "--no-deps", "--platform", tag, "--python-version", "3.11",
             f"pypdfium2=={VERSION}", "-d", tmp],
            check=True,
        )
        wheels = list(pathlib.Path(tmp).glob("pypdfium2-*.whl"))
        if len(wheels) != 1:
            print(f"pdfium: expected one pypdfium2 wheel for {tag}, got {wheels}", file=sys.stderr)
            return 1
        if out.exists():
            shutil.rmtree(out)
        (out / "pdfium-licenses").mkdir(parents=True)
        with zipfile.ZipFile(wheels[0]) as z:
            with z.open(member) as src, open(out / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
            prefix = f"pypdfium2-{VERSION}.dist-info/licenses/"
            for info in z.infolist():
                if info.filename.startswith(prefix) and not info.is_dir():
                    rel = info.filename[len(prefix):]
                    target = out / "pdfium-licenses" / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with z.open(info) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
    (out / "pdfium-licenses" / "README.txt").write_text(
        f"{name} is PDFium as built by pdfium-binaries and shipped in PyPI's pypdfium2 {VERSION}\n"
        "wheel. BUILD_LICENSES/ are the licences of PDFium and the components compiled into it;\n"
        "LICENSES/ are pypdfium2's own.\n"
    )
    stamp.write_text("")
    print(f"pdfium: {out / name} (pypdfium2 {VERSION}, {tag})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
