#!/usr/bin/env bash
# Installs the servers make bench measures kmsemu against, at pinned
# versions, under BUILD/bench: local-kms (go install through the Go module
# proxy; caches under build/go as for the Go SDK tests) and moto's server
# (a virtual environment holding exactly moto-requirements.lock). Each is
# installed again only when its pin changes.
set -euo pipefail

# local-kms publishes no Go module versions, only commits: this one is its
# last, 2026-02-28.
LOCAL_KMS=github.com/nsmithuk/local-kms@v0.0.0-20260228092603-2a5e92d09ab6

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../sdk/go/env.sh"
source "$here/../sdk/python/venv.sh"
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
mkdir -p "$build/bench"

if [ ! -x "$build/bench/local-kms" ] || [ "$(cat "$build/bench/local-kms.pin" 2>/dev/null)" != "$LOCAL_KMS" ]; then
  echo "installing $LOCAL_KMS into $build/bench" >&2
  GOBIN="$build/bench" go install "$LOCAL_KMS"
  echo "$LOCAL_KMS" >"$build/bench/local-kms.pin"
fi
ensure_venv "$build/bench/moto-venv" "$here/moto-requirements.lock"
