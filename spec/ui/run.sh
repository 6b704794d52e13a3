#!/usr/bin/env bash
# Runs the dashboard's end-to-end test (dashboard.test.js) in headless
# Chromium: Debian's chromium package (make test installs it), driven by
# playwright-core from package-lock.json, installed first when missing
# with npm's cache under build/node/.
# Usage: spec/ui/run.sh [node --test options]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ ! -x /usr/bin/chromium ]; then
  echo "spec/ui: /usr/bin/chromium is missing (make deps DEB_PKGS=chromium)" >&2
  exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ] ||
   [ ! -d "$here/node_modules/tencentcloud-sdk-nodejs" ]; then
  npm ci --prefix "$here" --cache "$root/build/node/npm-cache" --no-audit --no-fund >&2
fi
cd "$root"
exec node --test "$@" spec/ui/dashboard.test.js
