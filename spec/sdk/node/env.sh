# Sourced by run.sh and run-snippet.sh: sets $root (the repository) and
# installs spec/sdk/node_modules from its lock file if it is missing, with
# npm's cache under build/node/.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
if [ ! -d "$root/spec/sdk/node_modules/tencentcloud-sdk-nodejs" ] ||
   [ ! -d "$root/spec/sdk/node_modules/@huaweicloud/huaweicloud-sdk-core" ]; then
  npm ci --prefix "$root/spec/sdk" --cache "$root/build/node/npm-cache" --no-audit --no-fund >&2
fi
