#!/usr/bin/env bash
# Runs one standalone Python example program with the SDKs pinned in
# requirements.lock, and exits with its status.
# Usage: spec/sdk/python/run-snippet.sh FILE
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 FILE" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/venv.sh"
ensure_venv "$root/build/sdk/python-venv" "$here/requirements.lock"
exec "$root/build/sdk/python-venv/bin/python" "$1"
