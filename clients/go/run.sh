#!/usr/bin/env bash
# Runs the tests of kmsemutest (go test -v), which start kmsemu and drive it
# with the official Go SDKs at the versions spec/sdk/go pins; Go's caches
# are build/go/, as for spec/sdk/go. Ends with one line, "N passed, M failed".
# Usage: clients/go/run.sh [go test flags]
# Honours KMSEMU_BIN (relative to the repository root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../spec/sdk/go/env.sh"
if [ -n "${KMSEMU_BIN:-}" ]; then
  KMSEMU_BIN="$(cd "$root" && realpath -m "$KMSEMU_BIN")"
  export KMSEMU_BIN
fi

cd "$here"
log="$root/build/clients/go.log"
mkdir -p "$root/build/clients"
set +e
go test -v -count=1 -timeout 5m "$@" ./... | tee "$log"
rc=${PIPESTATUS[0]}
echo "$(grep -c '^--- PASS' "$log") passed, $(grep -c '^--- FAIL' "$log") failed"
exit "$rc"
