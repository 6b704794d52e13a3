#!/usr/bin/env bash
# Runs one standalone Node example program (CommonJS) with the SDKs that
# run.sh installs, and exits with its status.
# Usage: spec/sdk/node/run-snippet.sh FILE
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 FILE" >&2
  exit 2
fi
file="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
NODE_PATH="$root/spec/sdk/node_modules" exec node "$file"
