#!/usr/bin/env bash
# A short soak (issue 14: "CI runs a short one"): the real engine binary under a steady mixed
# load (PING, ECHO, CACHE, PRINT to a virtual printer, ORDER_KITCHEN SEND and BUMPs) for
# SOAK_MINUTES (2 by default), every reply checked against its UUIDV4 and content. It fails when a
# reply is lost, wrong or goes to another UUIDV4. RSS and open handles are written to
# target/soak/ (soak.csv, soak.svg); the hour-long run in docs/reliability.md is the same command
# with --minutes 60.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --locked -q -p pispas-modules --bin pispas-modules -p pispas-bench --bin pispas-bench
"$target/debug/pispas-bench" soak --minutes "${SOAK_MINUTES:-2}" --rate 40 --out "$target/soak"
