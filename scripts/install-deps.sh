#!/usr/bin/env bash
# Installs the Debian packages Coffer needs to build, run and test.
# Idempotent: silent when everything is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  librocksdb-dev libssl-dev libsodium-dev libboost1.81-dev nlohmann-json3-dev doctest-dev
  openssl curl ccache mold
  python3 python3-hvac python3-requests
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk nginx-light)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
