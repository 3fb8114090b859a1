#!/bin/sh
# install-deps.sh - installs what scrape needs to build, test and run its demo on Debian,
# Ubuntu or Raspberry Pi OS.  Idempotent and quick when everything is already there.
set -eu

PKGS="build-essential cmake pkg-config git clang libclang-rt-14-dev mpich libmpich-dev libcurl4-openssl-dev
libxml2-dev libpcre2-dev libjansson-dev libpq-dev libidn2-dev libyaml-dev zlib1g-dev libssl-dev postgresql
postgresql-client python3 procps iproute2 dpkg-dev lintian groff-base"
# dpkg-dev (dpkg-shlibdeps), lintian and groff-base: scripts/package.sh and test_package.py.
# chromium: tests/integration/test_report.py opens the HTML report in it (that part is skipped
# without it).  Debian and Raspberry Pi OS package it; Ubuntu has it only as a snap.
if [ -r /etc/os-release ] && grep -Eq '^ID=("?)(debian|raspbian)' /etc/os-release; then
    PKGS="$PKGS chromium"
fi

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
