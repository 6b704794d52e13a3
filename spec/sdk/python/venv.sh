# Sourced by run.sh, run-snippet.sh and scenarios/demo/tccli.sh: sets root
# to the repository and defines ensure_venv. Caches stay under build/.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
export PIP_CACHE_DIR="$root/build/sdk/pip-cache"
export PYTHONPYCACHEPREFIX="$root/build/sdk/pycache"

# ensure_venv DIR LOCKFILE: a virtual environment at DIR holding exactly
# the hashed pins of LOCKFILE, made anew whenever the lockfile changes.
ensure_venv() {
  local dir="$1" lock="$2"
  if cmp -s "$lock" "$dir/requirements.lock"; then
    return
  fi
  echo "installing $lock into $dir" >&2
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --no-compile \
    --require-hashes -r "$lock" >&2
  cp "$lock" "$dir/requirements.lock"
}
