#!/bin/sh
# Install the Debian packages listed in the given lists (default
# mk/debian-packages) that are missing. Idempotent and silent when everything
# is present. Needs root (or sudo) only when something is missing.
# usage: mk/deps.sh [LIST...]
set -eu
[ $# -gt 0 ] || set -- "$(dirname "$0")/debian-packages"
pkgs=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$@" | tr '\n' ' ')

missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case "$st" in
        ii*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "deps: missing packages:$missing; run 'make deps' as root or install them with apt-get" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine are empty or stale: refresh them once.
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done" >&2
