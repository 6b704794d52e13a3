#!/usr/bin/env bash
# Runs spec/sdk/cases.json through the official Java SDKs (JUnit 5 under
# Maven Surefire). Maven's repository is build/m2, its output build/spec/java.
# Honours KMSEMU_BIN and KMSEMU_SDK_RESULTS (relative to the repo root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

# -q hides Surefire's INFO summary; its logger alone is let through.
exec mvn -B -q -f "$here/pom.xml" -Dmaven.repo.local="$root/build/m2" \
  -Dorg.slf4j.simpleLogger.log.org.apache.maven.plugin.surefire=info \
  -Dmdep.outputFile="$root/build/spec/java/classpath.txt" dependency:build-classpath test "$@"
