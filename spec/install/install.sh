#!/usr/bin/env bash
# make install from a copy of the checkout into a temporary DESTDIR and
# PREFIX, the copy deleted before anything runs; then the installed files,
# --version, the default scenario found from any directory, both SDKs over
# http and https (spec/install/sdk.test.js), and make uninstall.
# Ends with "N passed, M failed".
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$tmp/src"
dest="$tmp/dest"
prefix=/opt/kmsemu
bin="$dest$prefix/bin/kmsemu"

# The tracked files and the new ones not ignored, as they are now.
copy_checkout() {
  mkdir -p "$src" &&
    git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh |
    tar -cf - --null -T - | tar -xf - -C "$src"
}

check "copy the checkout" copy_checkout
check "make install PREFIX=$prefix DESTDIR=..." \
  make -C "$src" -j2 --no-print-directory install PREFIX="$prefix" DESTDIR="$dest"
check "delete the build tree it installed from" rm -rf "$src"

installed() {
  [ -x "$bin" ] &&
    [ -f "$dest$prefix/share/kmsemu/scenarios/default.lua" ] &&
    [ -f "$dest$prefix/share/kmsemu/scenarios/faults/flaky.lua" ] &&
    [ -f "$dest$prefix/share/man/man1/kmsemu.1" ]
}
check "binary, scenarios and man page installed" installed

# Everything the binary loads is a system library by its versioned name:
# nothing from the build tree, and no libssl-dev symlink.
self_contained() {
  ldd "$bin" && ! ldd "$bin" | grep -E "not found|$src|lib(ssl|crypto)\.so( |$)" &&
    ! grep -c "$src" "$bin"
}
check "the binary needs nothing of the build tree" self_contained

man_page() {
  local text
  text=$(MANWIDTH=80 man --warnings -l "$dest$prefix/share/man/man1/kmsemu.1" 2>&1) &&
    printf '%s\n' "$text" | grep -q "kmsemu $version" &&
    ! printf '%s\n' "$text" | grep -E "warning|@VERSION@"
}
check "man page renders without warnings, with the version" man_page
check "--version prints $version" prints_version "$bin"
check "started from /, serves the installed default scenario" serves_default "$bin"

# Every file the binary opens, stats or looks for while it starts and
# answers both dialects and the admin API, from /: the installation's and
# the system's, none of a checkout, none relative ("" is fstat's). Not
# /.htpasswd either: civetweb's password file, which kmsemu switches off.
reads_nothing_else() {
  local url i pid
  (cd / && exec strace -f -qq -e trace=open,openat,stat,newfstatat,access,execve \
    -o "$tmp/strace" "$bin" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err") &
  pid=$!
  for i in $(seq 1 300); do
    url=$(grep -o 'http://[0-9.:]*' "$tmp/out" | head -1)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  curl -sf -o /dev/null "$url/" && curl -sf -o /dev/null "$url/_kmsemu/health" &&
    curl -s -o /dev/null -X POST -H 'X-TC-Action: GenerateRandom' -d '{}' "$url/" &&
    curl -s -o /dev/null -X POST -d '{}' "$url/v1.0/0a1b2c3d4e5f60718293a4b5c6d7e8f9/kms/gen-random"
  local rc=$?
  # strace outlives a signal sent to it: the traced kmsemu is stopped.
  kill -TERM "$(ps -o pid= --ppid "$pid")"
  wait "$pid"
  grep -oE '^[0-9]+ +[a-z0-9]+\([^"]*"[^"]*"' "$tmp/strace" | sed 's/.*"\(.*\)"$/\1/' | sort -u |
    grep -vE "^$|^($dest/|/etc/|/lib/|/lib64/|/usr/lib/|/usr/share/zoneinfo/|/proc/|/sys/|/dev/)"
  [ $? -eq 1 ] && [ "$rc" -eq 0 ]
}
check "opens nothing outside the installation and the system" reads_nothing_else
sdk_checks "$bin"

uninstalled() {
  make --no-print-directory uninstall PREFIX="$prefix" DESTDIR="$dest" &&
    [ -z "$(find "$dest" -type f)" ]
}
check "make uninstall leaves no file" uninstalled
finish
