#!/bin/sh
# Runs every spec runner and ends with one line: "N passed, M failed".
#   busted (Lua 5.4):  the crypto binding, signatures, scenarios, both
#                      dialects through the router, the binary over HTTP;
#   node --test:       the Node SDKs against the binary (spec/sdk/*.test.js),
#                      the shared cases (spec/sdk/cases.json) among them;
#   logs:              no secret in that run's access log (spec/logs/);
#   ui:                the dashboard (/_kmsemu/ui) in headless Chromium,
#                      beside the Tencent Node SDK (spec/ui/run.sh);
#   python, go, java:  the shared cases through each language's official
#                      typed SDKs (spec/sdk/<lang>/run.sh);
#   clients:           each test-framework helper's own tests (pytest,
#                      go test, JUnit, node --test; clients/<lang>/run.sh);
#   snippets:          every SDK snippet of README and docs/sdk.md run
#                      against the binary, the tccli demo, and the
#                      operation x language matrix checked;
#   install, deb:      make install and the Debian package, each installed
#                      copy serving both SDKs (spec/install/*.sh).
# SDK_LANGS picks the typed-SDK languages (default: python go java), and
# the helpers with them (Node's always). A runner that dies before
# reporting counts as one failure.
set -u
cd "$(dirname "$0")/.."
# BUILD names the build directory; KMSEMU_BIN, when set, the binary the
# HTTP specs and the SDK tests drive (make asan gives a sanitized one).
build=${BUILD:-build}
case $build in /*) ;; *) build=./$build ;; esac
out=$build/spec
langs=${SDK_LANGS-python go java}
export KMSEMU_SDK_RESULTS="$PWD/$out/sdk-results"
rm -rf "$KMSEMU_SDK_RESULTS"
mkdir -p "$out" "$KMSEMU_SDK_RESULTS"

passed=0
failed=0
# A node --test TAP file's tests, prefixed, and its summary as a count.
count_tap() { # runner tap-file exit-status
    grep -E '^ *(not )?ok' "$2" | sed "s/^/$1: /"
    local p f c
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$2")
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$2")
    c=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$2")
    [ "$3" -eq 0 ] || tail -40 "$2"
    count "$1" "${p:-0}" "$(( ${f:-0} + ${c:-0} ))" "$3"
}

count() { # runner passed failed exit-status
    p=$2 f=$3
    if [ "$4" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    echo "runner $1: passed $p, failed $f"
    passed=$((passed + p))
    failed=$((failed + f))
}

LUA_PATH='./lua/?.lua;./lua/?/init.lua;./spec/?.lua;;' \
LUA_CPATH="$build/lib/?.so;;" \
    busted --lua=lua5.4 -o TAP spec >"$out/busted.tap" 2>&1
rc=$?
cat "$out/busted.tap"
count busted "$(grep -c '^ok ' "$out/busted.tap")" "$(grep -c '^not ok ' "$out/busted.tap")" $rc

# The Huawei SDK writes an application id under $HOME on first use. Every
# kmsemu of the run appends its access log (KMSEMU_LOG) to one file, and
# spec/logs/wire.js records what the SDKs' sockets carried, for the logs
# runner below.
rm -f "$out/sdk-access.log" "$out/sdk-wire.bin"
KMSEMU_LOG="$PWD/$out/sdk-access.log" KMSEMU_LOG_FORMAT=json KMSEMU_WIRE="$PWD/$out/sdk-wire.bin" \
NODE_OPTIONS="--require $PWD/spec/logs/wire.js" \
HOME="$PWD/$out" bash spec/sdk/run.sh --test-reporter=tap >"$out/sdk.tap" 2>&1
rc=$?
count_tap node "$out/sdk.tap" $rc

# No secret of the scenarios, and no plaintext or data key the Node run
# sent or received, is in its access log.
python3 spec/logs/secrets.py "$out/sdk-access.log" "$out/sdk-wire.bin" >"$out/logs.log" 2>&1
rc=$?
sed '$d' "$out/logs.log" | sed 's/^/logs: /'
# shellcheck disable=SC2046
count logs $(tail -1 "$out/logs.log" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' | grep . || echo 0 0) $rc

HOME="$PWD/$out" bash spec/ui/run.sh --test-reporter=tap >"$out/ui.tap" 2>&1
rc=$?
count_tap ui "$out/ui.tap" $rc

for lang in $langs; do
    HOME="$PWD/$out" bash "spec/sdk/$lang/run.sh" >"$out/sdk-$lang.log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || tail -60 "$out/sdk-$lang.log"
    # shellcheck disable=SC2046
    count "$lang" $(python3 spec/sdk/readme.py tally "$lang") $rc
done

# Each helper's run.sh ends with "N passed, M failed".
for lang in $langs node; do
    HOME="$PWD/$out" bash "clients/$lang/run.sh" >"$out/client-$lang.log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || tail -60 "$out/client-$lang.log"
    # shellcheck disable=SC2046
    count "client-$lang" $(tail -1 "$out/client-$lang.log" |
        sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' | grep . || echo 0 0) $rc
done

SDK_LANGS="$langs node" python3 spec/sdk/readme.py snippets >"$out/snippets.log" 2>&1
rc=$?
sed '$d' "$out/snippets.log"
# shellcheck disable=SC2046
count snippets $(tail -1 "$out/snippets.log" | grep -E '^[0-9]+ [0-9]+$' || echo 0 0) $rc

HOME="$PWD/$out" bash scenarios/demo/tccli.sh >"$out/tccli.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || cat "$out/tccli.log"
count tccli "$((rc == 0))" "$((rc != 0))" 0

# make install into a temporary prefix from a copy of the checkout, and the
# Debian package (lintian, apt-get install and remove; needs root or sudo).
for r in install deb; do
    HOME="$PWD/$out" bash "spec/install/$r.sh" >"$out/$r.log" 2>&1
    rc=$?
    grep -E '^(not )?ok |^sdk: |^# ' "$out/$r.log" | sed "s/^/$r: /"
    [ "$rc" -eq 0 ] || tail -60 "$out/$r.log"
    # shellcheck disable=SC2046
    count "$r" $(tail -1 "$out/$r.log" |
        sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' | grep . || echo 0 0) $rc
done

if [ "$langs" = "python go java" ]; then
    python3 spec/sdk/readme.py matrix check >"$out/matrix.log" 2>&1
    rc=$?
    sed '$d' "$out/matrix.log"
    # shellcheck disable=SC2046
    count matrix $(tail -1 "$out/matrix.log" | grep -E '^[0-9]+ [0-9]+$' || echo 0 0) $rc
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
