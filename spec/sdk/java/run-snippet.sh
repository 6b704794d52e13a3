#!/usr/bin/env bash
# Runs one example program, a single .java file, with the SDKs of pom.xml
# on its class path (Java's single-file source launcher).
# Usage: spec/sdk/java/run-snippet.sh FILE
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
classpath="$root/build/spec/java/classpath.txt"

if [ ! -f "$classpath" ] || [ "$here/pom.xml" -nt "$classpath" ]; then
  mvn -B -q -f "$here/pom.xml" -Dmaven.repo.local="$root/build/m2" \
    -Dmdep.outputFile="$classpath" dependency:build-classpath >&2
  touch "$classpath" # the plugin leaves an unchanged file as it was
fi
exec java -cp "$(cat "$classpath")" "$1"
