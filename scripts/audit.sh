#!/usr/bin/env bash
# Dependency audit (issue 14): the Rust crates in Cargo.lock against the RustSec advisory
# database with cargo-audit (built from crates.io), and the npm packages in package-lock.json
# with `npm audit`.
#
#   scripts/audit.sh                      fetch the advisory database and audit
#   AUDIT_DB=/path/to/advisory-db scripts/audit.sh
#                                         audit against a local checkout of
#                                         github.com/rustsec/advisory-db, fetching nothing
#
# Exit status: 0 nothing found, 1 something found (listed), 3 an advisory source could not be
# reached (a network that only reaches the package registries, as the CI machines here): the
# audit did not run, which is not a pass. The release workflow runs it where GitHub is reachable.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

version=0.22.2
if ! cargo audit --version 2>/dev/null | grep -q "$version"; then
  cargo install --locked --quiet cargo-audit --version "$version" || exit 3
fi
echo "=== cargo audit (Cargo.lock)"
if [ -n "${AUDIT_DB:-}" ]; then
  cargo audit --no-fetch --stale --db "$AUDIT_DB" --file Cargo.lock
else
  cargo audit --file Cargo.lock
fi
rc=$?
case $rc in
  0) ;;
  1) status=1 ;;
  *) echo "cargo audit could not run (status $rc): is the advisory database reachable?" >&2; status=3 ;;
esac

echo "=== npm audit (package-lock.json)"
npm audit --audit-level=low
rc=$?
if [ $rc -ne 0 ]; then
  # npm says 1 both for findings and for an unreachable advisory endpoint: tell them apart.
  if npm audit --json 2>/dev/null | grep -q '"vulnerabilities"'; then
    [ $status -eq 3 ] || status=1
  else
    echo "npm audit could not reach the registry's advisory endpoint" >&2
    status=3
  fi
fi
exit $status
