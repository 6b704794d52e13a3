# Sourced by run.sh and run-snippet.sh: sets root to the repository and
# puts the Go caches under its build/go/,
# writable so that make clean can delete them.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
export GOPATH="$root/build/go/path"
export GOMODCACHE="$root/build/go/mod"
export GOCACHE="$root/build/go/cache"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw"
