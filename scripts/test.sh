#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs every check CI runs.
#   scripts/test.sh          everything
#   SKIP_WINDOWS=1 scripts/test.sh   skip the Windows cross-build and wine tests (faster locally)
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
phase() { echo; echo "=== $* ($(( $(date +%s) - t0 ))s)"; }

phase "setup"
for s in scripts/setup/*.sh; do
  case "$s" in */apt.sh) continue ;; esac
  bash "$s"
done

phase "format"
cargo fmt --all -- --check

phase "layers"
python3 scripts/check-layers.py

phase "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

phase "tests"
cargo test --workspace --locked

for extra in scripts/test.d/*.sh; do
  [ -e "$extra" ] || continue
  phase "$(basename "$extra")"
  bash "$extra"
done

if [ "${SKIP_WINDOWS:-0}" != 1 ] && [ -x scripts/windows-check.sh ]; then
  phase "windows"
  # Lint and the msvc check cover the whole workspace (desktop app included); the tests run under
  # wine are the engine's and the simulators' (the app's WebView2 cannot run under wine anyway),
  # which keeps a cold run well inside CI's budget. The CashGuard simulator's tests load its .dll
  # through the C ABI under wine (about 5 s of tests once built).
  scripts/windows-check.sh all -p pispas-modules -p pispas-sim -p pispas-cashguard-sim
fi

phase "done"
