#!/usr/bin/env bash
# Builds and runs one standalone Go example program (package main) against
# the SDK versions pinned in go.mod/go.sum, and exits with its status.
# Usage: spec/sdk/go/run-snippet.sh FILE
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 FILE" >&2
  exit 2
fi
file="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"

mkdir -p "$root/build/go"
scratch="$(mktemp -d "$root/build/go/snippet.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
sed 's|^module .*|module kmsemu/snippet|' "$here/go.mod" > "$scratch/go.mod"
cp "$here/go.sum" "$scratch/go.sum"
cp "$file" "$scratch/main.go"
(cd "$scratch" && go build -buildvcs=false -o snippet .)
status=0
"$scratch/snippet" || status=$?
exit "$status"
