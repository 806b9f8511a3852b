#!/usr/bin/env bash
# One command: install what is missing, build, and start a dev server
# (HTTPS on 127.0.0.1:8200, RocksDB in a temporary directory, unsealed).
# Extra arguments go to `coffer server -dev`, e.g. -dev-root-token-id=root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
exec build/coffer server -dev "$@"
