#!/usr/bin/env bash
# Runs the benchmarks of this checkout and of another build in the same session, interleaved
# (other, this, other, this), so a change is compared with the commit before it on the same
# machine under the same load. Writes each report to DIR.
#   scripts/bench-versus.sh OTHER_RELEASE_DIR [DIR] [REPORTS...]
#   OTHER_RELEASE_DIR: a target/release of another commit holding pispas-bench and pispas-modules
#   REPORTS: engine devices print (default: all three; each with --quick except engine)
set -euo pipefail
cd "$(dirname "$0")/.."
other="${1:?usage: bench-versus.sh OTHER_RELEASE_DIR [DIR] [REPORTS...]}"
out="${2:-target/bench-versus}"
shift $(( $# >= 2 ? 2 : 1 ))
reports=("$@")
[ ${#reports[@]} -eq 0 ] && reports=(engine devices print)
cargo build --release --locked -p pispas-modules -p pispas-bench
mkdir -p "$out"
for report in "${reports[@]}"; do
  flag="--quick"; [ "$report" = engine ] && flag=""
  for round in 1 2; do
    for side in other this; do
      dir="target/release"; [ "$side" = other ] && dir="$other"
      echo "== $report round $round: $side ($dir)" >&2
      "$dir/pispas-bench" "$report" $flag > "$out/$report-$side-$round.md"
    done
  done
done
echo "reports in $out" >&2
