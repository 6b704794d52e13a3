#!/usr/bin/env bash
# make deb, lintian on the package (no error), apt-get install of it, the
# installed /usr/bin/kmsemu: --version, the default scenario from
# /usr/share/kmsemu, both SDKs over http and https (sdk.test.js); then
# apt-get remove. Needs root (or sudo). Ends with "N passed, M failed".
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

sudo=$([ "$(id -u)" = 0 ] || echo sudo)
arch=$(dpkg --print-architecture)
deb="build/kmsemu_${version}_${arch}.deb"
apt_get() {
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 "$@"
}

check "make deb builds $deb" sh -c "make --no-print-directory deb && test -f '$deb'"

lint() {
  command -v lintian >/dev/null || apt_get install -y -qq lintian >/dev/null || return 1
  lintian -I "$deb"
}
check "lintian finds no error" lint
echo "# lintian -I: $(lintian -I "$deb" 2>/dev/null | tr '\n' ' ')"

control() {
  dpkg-deb -f "$deb" Depends | grep -E 'libcivetweb1' | grep -E 'liblua5\.4-0' | grep -E 'libssl3'
}
check "Depends names the run-time libraries" control
echo "# Installed-Size: $(dpkg-deb -f "$deb" Installed-Size) KiB, package $(stat -c %s "$deb") bytes"

check "apt-get install ./$deb" apt_get install -y -qq "./$deb"
check "kmsemu --version prints $version" prints_version kmsemu
check "/usr/bin/kmsemu serves /usr/share/kmsemu's default scenario" serves_default /usr/bin/kmsemu
sdk_checks /usr/bin/kmsemu

removed() {
  apt_get remove -y -qq kmsemu && [ ! -e /usr/bin/kmsemu ] &&
    [ ! -e /usr/share/kmsemu ] && ! dpkg -s kmsemu 2>/dev/null | grep -q '^Status: install ok'
}
check "apt-get remove kmsemu" removed
finish
