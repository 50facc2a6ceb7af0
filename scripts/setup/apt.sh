#!/usr/bin/env bash
# Installs Debian/Ubuntu packages only when missing, so a warm machine spends well under a second.
# Usage: scripts/setup/apt.sh pkg [pkg...]   (run as root, or with sudo available)
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists at most once an hour (a stale list can 404 on a fresh machine).
stamp=/var/lib/apt/periodic/update-success-stamp
if [ ! -d /var/lib/apt/lists/partial ] || [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -60 2>/dev/null | head -n1)" ]; then
  $SUDO apt-get update -qq || true
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
: "${stamp}"
