# Sourced by install.sh and deb.sh: the counts, and the checks both make.
# Each script ends with the line "N passed, M failed".
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version=$(sed -n 's/^VERSION := //p' "$root/Makefile")
passed=0
failed=0

# check NAME COMMAND...: one counted check; its output shows on failure.
check() {
  local name="$1" log
  shift
  if log=$("$@" 2>&1); then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
    printf '%s\n' "$log" | tail -40 | sed 's/^/#   /'
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# The SDK suite (spec/install/sdk.test.js) against BINARY: each test a check.
sdk_checks() {
  local bin="$1" tap
  # shellcheck source=../sdk/node/env.sh
  source "$root/spec/sdk/node/env.sh"
  tap=$(cd "$root" && KMSEMU_BIN="$bin" node --test --test-reporter=tap spec/install/sdk.test.js 2>&1)
  printf '%s\n' "$tap" | grep -E '^ +(not )?ok ' | sed 's/^ */sdk: /'
  passed=$((passed + $(printf '%s\n' "$tap" | sed -n 's/^# pass \([0-9]*\)$/\1/p')))
  local f
  f=$(printf '%s\n' "$tap" | sed -n 's/^# fail \([0-9]*\)$/\1/p')
  failed=$((failed + ${f:-1}))
  [ "${f:-1}" -eq 0 ] || printf '%s\n' "$tap" | tail -60
}

# prints_version BINARY: --version prints the Makefile's VERSION.
prints_version() {
  [ "$("$1" --version)" = "kmsemu $version" ]
}

# serves_default BINARY: started from / with no --scenario, it finds the
# default scenario it was installed with and announces its credentials.
serves_default() {
  local bin="$1" dir pid i
  dir=$(mktemp -d)
  (cd / && exec "$bin" --listen 127.0.0.1:0 >"$dir/out" 2>"$dir/err") &
  pid=$!
  for i in $(seq 1 300); do
    grep -q "kmsemu listening on" "$dir/out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  local rc=$?
  cat "$dir/out" "$dir/err"
  grep -q "kmsemu listening on http://127.0.0.1:" "$dir/out" &&
    grep -q "HWAKEXAMPLE0000000000" "$dir/out" && [ "$rc" -eq 0 ]
  rc=$?
  rm -rf "$dir"
  return "$rc"
}
