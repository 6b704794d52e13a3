#!/usr/bin/env bash
# Runs spec/sdk/cases.json through the official Python SDKs of Huawei Cloud
# and Tencent Cloud KMS (pytest, one test per case), and the tccli demo
# scenarios/demo/tccli.sh.
# Usage: spec/sdk/python/run.sh [pytest options]
# Installs requirements.lock into build/sdk/python-venv first when needed.
# Honours KMSEMU_BIN and KMSEMU_SDK_RESULTS (relative to the repository
# root); writes $KMSEMU_SDK_RESULTS/python.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/venv.sh"
ensure_venv "$root/build/sdk/python-venv" "$here/requirements.lock"
cd "$here"
exec "$root/build/sdk/python-venv/bin/python" -m pytest "$@"
