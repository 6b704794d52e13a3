#!/usr/bin/env bash
# Runs the tests of kmsemu-test (node --test test/), which start kmsemu and
# drive it with the Node SDKs at the versions spec/sdk pins; installs them
# from package-lock.json first when missing, with npm's cache under
# build/node/. Ends with one line, "N passed, M failed".
# Usage: clients/node/run.sh [node --test options]
# Honours KMSEMU_BIN (relative to the repository root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ ! -d "$here/node_modules/tencentcloud-sdk-nodejs" ] ||
   [ ! -d "$here/node_modules/@huaweicloud/huaweicloud-sdk-core" ]; then
  npm ci --prefix "$here" --cache "$root/build/node/npm-cache" --no-audit --no-fund >&2
fi
if [ -n "${KMSEMU_BIN:-}" ]; then
  KMSEMU_BIN="$(cd "$root" && realpath -m "$KMSEMU_BIN")"
  export KMSEMU_BIN
fi

cd "$here"
log="$root/build/clients/node.log"
mkdir -p "$root/build/clients"
set +e
node --test --test-reporter=tap "$@" test/ | tee "$log"
rc=${PIPESTATUS[0]}
n() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$log" | tail -1; }
echo "$(( $(n pass) + 0 )) passed, $(( $(n fail) + $(n cancelled) + 0 )) failed"
exit "$rc"
