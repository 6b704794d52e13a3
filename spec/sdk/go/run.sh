#!/usr/bin/env bash
# Runs spec/sdk/cases.json through the official Go SDKs of Huawei Cloud
# and Tencent Cloud KMS, one go test subtest per case.
# Usage: spec/sdk/go/run.sh [go test flags]
# go test downloads the modules pinned in go.mod/go.sum into build/go/ on
# first use. Honours KMSEMU_BIN and KMSEMU_SDK_RESULTS (relative to the
# repository root); writes $KMSEMU_SDK_RESULTS/go.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
cd "$here"
exec go test -v -count=1 -timeout 5m "$@" .
