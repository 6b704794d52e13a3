#!/usr/bin/env bash
# Runs spec/sdk/cases.json through the Node SDKs (tencentcloud-sdk-nodejs,
# @huaweicloud/huaweicloud-sdk-core), one node:test test per case.
# Usage: spec/sdk/node/run.sh [node --test options]
# Honours KMSEMU_BIN and KMSEMU_SDK_RESULTS (relative to the repository
# root); writes $KMSEMU_SDK_RESULTS/node.json.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"
exec node --test "$@" spec/sdk/cases.test.js
