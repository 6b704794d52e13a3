#!/usr/bin/env bash
# Runs the tests of pytest-kmsemu (tests/) as a user would: the package
# installed editable (pip install -e) into build/clients/python-venv beside
# the SDKs pinned in spec/sdk/python/requirements.lock. Ends with one line,
# "N passed, M failed".
# Usage: clients/python/run.sh [pytest options]
# Honours KMSEMU_BIN (relative to the repository root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../spec/sdk/python/venv.sh"
venv="$root/build/clients/python-venv"
ensure_venv "$venv" "$root/spec/sdk/python/requirements.lock"
if ! cmp -s "$here/pyproject.toml" "$venv/pyproject.toml"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -e "$here" >&2
  cp "$here/pyproject.toml" "$venv/pyproject.toml"
fi
if [ -n "${KMSEMU_BIN:-}" ]; then
  KMSEMU_BIN="$(cd "$root" && realpath -m "$KMSEMU_BIN")"
  export KMSEMU_BIN
fi

cd "$here"
log="$root/build/clients/python.log"
set +e
"$venv/bin/python" -m pytest "$@" | tee "$log"
rc=${PIPESTATUS[0]}
summary="$(tail -1 "$log")"
n() { grep -oE "[0-9]+ $1" <<<"$summary" | cut -d' ' -f1 || true; }
echo "$(( $(n passed) + 0 )) passed, $(( $(n failed) + $(n error) + 0 )) failed"
exit "$rc"
