#!/usr/bin/env bash
# Runs the SDK contract tests (official Tencent and Huawei SDKs against
# build/kmsemu, or $KMSEMU_BIN) with Node's built-in test runner.
# Usage: spec/sdk/run.sh [extra node --test options]
# Installs spec/sdk/node_modules from the lock file first if it is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

if [ ! -d spec/sdk/node_modules/tencentcloud-sdk-nodejs ] ||
   [ ! -d spec/sdk/node_modules/@huaweicloud/huaweicloud-sdk-core ]; then
  npm ci --prefix spec/sdk --no-audit --no-fund
fi

exec node --test "$@" spec/sdk/
