#!/bin/sh
# Runs every spec runner and ends with one line: "N passed, M failed".
#   busted (Lua 5.4): the crypto binding, signatures, scenarios, both
#                     dialects through the router, the binary over HTTP;
#   node --test:      the official SDKs against the binary (spec/sdk).
# A runner that dies before reporting counts as one failure.
set -u
cd "$(dirname "$0")/.."
# BUILD names the build directory; KMSEMU_BIN, when set, the binary the
# HTTP specs and the SDK tests drive (make asan gives a sanitized one).
build=${BUILD:-build}
case $build in /*) ;; *) build=./$build ;; esac
out=$build/spec
mkdir -p "$out"

LUA_PATH='./lua/?.lua;./lua/?/init.lua;./spec/?.lua;;' \
LUA_CPATH="$build/lib/?.so;;" \
    busted --lua=lua5.4 -o TAP spec >"$out/busted.tap" 2>&1
busted_rc=$?
cat "$out/busted.tap"
b_pass=$(grep -c '^ok ' "$out/busted.tap")
b_fail=$(grep -c '^not ok ' "$out/busted.tap")
if [ "$busted_rc" -ne 0 ] && [ "$b_fail" -eq 0 ]; then b_fail=1; fi

# The Huawei SDK writes an application id under $HOME on first use.
HOME="$PWD/$out" bash spec/sdk/run.sh --test-reporter=tap >"$out/sdk.tap" 2>&1
sdk_rc=$?
grep -v '^#\|^ *$' "$out/sdk.tap" | grep -E '^(not )?ok|^ +(not )?ok' | sed 's/^/sdk: /'
grep '^# \(pass\|fail\|cancelled\)' "$out/sdk.tap"
n_pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out/sdk.tap")
n_fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out/sdk.tap")
n_cancel=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$out/sdk.tap")
n_pass=${n_pass:-0}
n_fail=$(( ${n_fail:-0} + ${n_cancel:-0} ))
if [ "$sdk_rc" -ne 0 ] && [ "$n_fail" -eq 0 ]; then
    tail -20 "$out/sdk.tap"
    n_fail=1
fi

passed=$((b_pass + n_pass))
failed=$((b_fail + n_fail))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
