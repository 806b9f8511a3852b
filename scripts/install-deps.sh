#!/usr/bin/env bash
# Installs the Debian packages Coffer needs to build, run and test, then the npm packages of the
# node-vault end-to-end test (tests/e2e/node, from its committed package-lock.json).
# Idempotent: silent when everything is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  librocksdb-dev libssl-dev libsodium-dev libboost1.81-dev nlohmann-json3-dev doctest-dev
  openssl curl ccache mold
  python3 python3-hvac python3-requests
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk nginx-light)
fi
# Node.js may come from elsewhere (e.g. a newer packaged build that bundles npm): only ask
# Debian for what is not on PATH, since Debian's npm conflicts with such builds.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages for tests/e2e/node. npm writes node_modules/.package-lock.json at the end of a
# successful install, so it marks a complete install; reinstall when it is missing or older
# than the committed manifest or lock.
node_dir=tests/e2e/node
marker=$node_dir/node_modules/.package-lock.json
if [[ ! -f "$marker" || "$node_dir/package-lock.json" -nt "$marker" ||
      "$node_dir/package.json" -nt "$marker" ]]; then
  echo "installing npm packages in $node_dir"
  npm ci --no-audit --no-fund --prefix "$node_dir"
fi
