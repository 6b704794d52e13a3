#!/bin/sh
# The CPU loads of make bench's busy mode, run beside the servers:
#   load.sh WATCH burn N   N processes that spin in a shell loop
#   load.sh WATCH mixed    the busted suite in a loop
# Each load runs in a process group of its own, and all of them stop when
# load.sh is stopped or process WATCH (the bench) is gone, however it ended.
watch=$1 kind=$2 n=${3:-1}
cd "$(dirname "$0")/../.." || exit 1
case $kind in
burn) cmd='while :; do :; done' ;;
mixed)
    n=1
    cmd="while :; do LUA_PATH='./lua/?.lua;./lua/?/init.lua;./spec/?.lua;;' \
        LUA_CPATH='${BUILD:-build}/lib/?.so;;' KMSEMU_BIN='${BUILD:-build}/kmsemu' \
        busted --lua=lua5.4 spec >/dev/null 2>&1; done"
    ;;
*) echo "usage: load.sh WATCH burn N | load.sh WATCH mixed" >&2; exit 2 ;;
esac
groups=
trap 'kill -TERM $groups 2>/dev/null' EXIT
trap 'exit 0' INT TERM HUP
i=0
while [ $i -lt "$n" ]; do
    setsid sh -c "$cmd" </dev/null >/dev/null 2>&1 &
    groups="$groups -$!"
    i=$((i + 1))
done
while kill -0 "$watch" 2>/dev/null; do
    sleep 0.2
done
