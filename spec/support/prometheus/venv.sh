#!/usr/bin/env bash
# Prints the python of build/prometheus-venv, made first when it does not
# hold exactly requirements.lock (spec/sdk/python/venv.sh's ensure_venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../sdk/python/venv.sh"
ensure_venv "$root/build/prometheus-venv" "$here/requirements.lock"
echo "$root/build/prometheus-venv/bin/python"
