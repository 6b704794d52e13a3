#!/usr/bin/env bash
# tccli, Tencent Cloud's official command line, against kmsemu over TLS:
# a data key, its decryption, and the error of a disabled key, each answer
# checked. tccli always speaks https and trusts only the bundle of the
# certifi package it imports, so kmsemu serves a self-signed certificate
# and tccli runs with a certifi, first on PYTHONPATH, whose bundle is that
# certificate alone. Credentials and region come from tccli's environment
# variables, the endpoint from --endpoint; HOME is a temporary directory,
# since tccli writes its configuration and log there.
# Usage: scenarios/demo/tccli.sh   (exits 0 only if every check held)
# Installs spec/sdk/python/tccli-requirements.lock into build/sdk/tccli-venv
# first when needed. Honours KMSEMU_BIN (relative to the repository root).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source spec/sdk/python/venv.sh
venv="$root/build/sdk/tccli-venv"
ensure_venv "$venv" spec/sdk/python/tccli-requirements.lock

ENABLED=23e80852-1e38-11e9-b129-5cb9019b4b01
DISABLED=2f8d1a3e-1e38-11e9-b129-5cb9019b4b02
work="$(mktemp -d)"
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
failed=0

start_kmsemu() {
  "${KMSEMU_BIN:-build/kmsemu}" --listen 127.0.0.1:0 --scenario scenarios/default.lua \
    --tls-self-signed "$work/kmsemu.pem" >"$work/kmsemu.out" 2>"$work/kmsemu.err" &
  pid=$!
  for _ in $(seq 300); do
    if url="$(grep -o -m1 'https://[^ ]*' "$work/kmsemu.out")"; then
      host="${url#https://}"
      echo "kmsemu serves $url with a self-signed certificate"
      return
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "kmsemu did not start:" >&2
  cat "$work/kmsemu.err" >&2
  exit 1
}

trust_kmsemu() {
  local certifi
  certifi="$("$venv/bin/python" -c 'import certifi, os; print(os.path.dirname(certifi.__file__))')"
  mkdir -p "$work/trust" "$work/home"
  cp -r "$certifi" "$work/trust/certifi"
  cp "$work/kmsemu.pem" "$work/trust/certifi/cacert.pem"
}

# tccli ARGS...: runs tccli against kmsemu, trusting what $trust holds;
# leaves its exit status in $status, what it printed in $work/out and
# $work/err.
tccli() {
  echo "\$ tccli $*"
  status=0
  HOME="$work/home" PYTHONPATH="$trust" \
    TENCENTCLOUD_SECRET_ID=AKIDkmsemuEXAMPLE0000000000000000000 \
    TENCENTCLOUD_SECRET_KEY=kmsemuEXAMPLEsecretkey0000000000 \
    TENCENTCLOUD_REGION=ap-guangzhou \
    "$venv/bin/tccli" "$@" --endpoint "$host" >"$work/out" 2>"$work/err" || status=$?
  sed 's/^/    /' "$work/out" "$work/err"
}

# verdict WHAT STATUS: a check, which held if STATUS is 0.
verdict() {
  if [ "$2" -eq 0 ]; then
    echo "  ok: $1"
  else
    echo "  FAILED: $1"
    failed=$((failed + 1))
  fi
}

# expect WHAT PYTHON: checks the last tccli call; PYTHON is an expression
# over status, out (the JSON it printed, or None) and err (its stderr).
expect() {
  local held=0
  python3 -c "import base64, json, sys
status, err = int(sys.argv[1]), open(sys.argv[3]).read()
try:
    out = json.load(open(sys.argv[2]))
except ValueError:
    out = None
sys.exit(not ($2))" "$status" "$work/out" "$work/err" || held=$?
  verdict "$1" "$held"
}

# field NAME: a string field of the JSON the last tccli call printed.
field() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$work/out" "$1"
}

stop_kmsemu() {
  echo "stopping kmsemu with SIGTERM"
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  pid=
  [ "$status" -eq 0 ] || cat "$work/kmsemu.err"
  verdict "kmsemu exits with status 0" "$status"
}

start_kmsemu
trust_kmsemu
trust="$work/trust"

tccli kms GenerateDataKey --KeyId "$ENABLED" --KeySpec AES_256
expect "GenerateDataKey exits 0" "status == 0"
expect "it names the key" "out['KeyId'] == '$ENABLED'"
expect "its plaintext is 32 bytes" "len(base64.b64decode(out['Plaintext'])) == 32"
plaintext="$(field Plaintext)"
blob="$(field CiphertextBlob)"

tccli kms Decrypt --CiphertextBlob "$blob"
expect "Decrypt exits 0" "status == 0"
expect "it opens the same data key" "out['Plaintext'] == '$plaintext' and out['KeyId'] == '$ENABLED'"

tccli kms Encrypt --KeyId "$DISABLED" --Plaintext aGVsbG8=
expect "Encrypt with the disabled key fails" "status != 0"
expect "with the code ResourceUnavailable.CmkDisabled" "'code:ResourceUnavailable.CmkDisabled ' in err"

# The TLS is real: with its own certifi bundle tccli refuses kmsemu.
trust=
tccli kms ListKeys
expect "ListKeys without the certificate fails verification" "status != 0 and 'CERTIFICATE_VERIFY_FAILED' in err"

stop_kmsemu
if [ "$failed" -ne 0 ]; then
  echo "tccli demo: $failed check(s) failed"
  exit 1
fi
echo "tccli demo: every check held"
