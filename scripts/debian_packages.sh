#!/usr/bin/env bash
# The Debian packages `make run` and `make test` need besides Python and Node.js:
#   run:  libharfbuzz-subset0 (WeasyPrint subsets fonts; without it a CJK PDF takes seconds)
#         fonts-wqy-microhei (the font the PDFs name)
#   test: the same, plus chromium (tests/browser drives it) and poppler-utils (pdftotext).
# Usage: scripts/debian_packages.sh run|test
# Missing packages are installed when running as root (apt-get update, then a non-interactive
# install); otherwise the script prints the apt-get line to run and exits 1.
set -euo pipefail

case "${1:-}" in
  run)  wanted=(libharfbuzz-subset0 fonts-wqy-microhei) ;;
  test) wanted=(libharfbuzz-subset0 fonts-wqy-microhei chromium poppler-utils) ;;
  *)    echo "usage: $0 run|test" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "Not a Debian system (no dpkg-query): make sure these are installed: ${wanted[*]}" >&2
  exit 0
fi

missing=()
for package in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}. Install them as root, then run make again:" >&2
  echo "  apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
