#!/usr/bin/env bash
# Runs the tests of kmsemu-junit5 (JUnit 5 under Maven Surefire), which
# start kmsemu and drive it with the official Java SDKs at the versions
# spec/sdk/java pins. Maven's repository is build/m2, as for spec/sdk/java;
# its output build/clients/java. Ends with one line, "N passed, M failed".
# Usage: clients/java/run.sh [mvn options]
# Honours KMSEMU_BIN (relative to the repository root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ -n "${KMSEMU_BIN:-}" ]; then
  KMSEMU_BIN="$(cd "$root" && realpath -m "$KMSEMU_BIN")"
  export KMSEMU_BIN
fi

cd "$here"
log="$root/build/clients/java.log"
mkdir -p "$root/build/clients"
set +e
# -q hides Maven's INFO lines; Surefire's summary is let through.
mvn -B -q -Dmaven.repo.local="$root/build/m2" \
  -Dstyle.color=never -Dorg.slf4j.simpleLogger.log.org.apache.maven.plugin.surefire=info \
  test "$@" | tee "$log"
rc=${PIPESTATUS[0]}
# Surefire's total: "Tests run: N, Failures: F, Errors: E, Skipped: S".
total="$(grep -E 'Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' "$log" | tail -1)"
read -r run failures errors skipped <<<"$(grep -oE '[0-9]+' <<<"${total:-0 0 0 0}" | tr '\n' ' ')"
# Maven ends its output with a colour reset and no newline.
echo
echo "$((run - failures - errors - skipped)) passed, $((failures + errors)) failed"
exit "$rc"
