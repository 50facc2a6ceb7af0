#!/usr/bin/env bash
# What the engine needs to build and test on Debian/Ubuntu: a C toolchain for SQLite and ring,
# pkg-config and libudev for serial port enumeration, socat for pty pairs in manual testing,
# faketime (libfaketime) for the clock-jump test.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/apt.sh" build-essential pkg-config libudev-dev socat ca-certificates curl faketime
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust from https://rustup.rs (or your distribution's rustc/cargo)" >&2
  exit 1
fi
