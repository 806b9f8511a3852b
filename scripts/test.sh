#!/usr/bin/env bash
# One command: install what is missing, build, and run every test:
#   1. the release build: unit tests and end-to-end tests (real binary, hvac, openssl);
#   2. an AddressSanitizer + UBSan build: unit tests and end-to-end tests again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)
status=0

echo "== release build"
scripts/build.sh build
echo "== release: unit and end-to-end tests"
(cd build && ctest --output-on-failure --timeout 900 -j "$jobs") || status=1

echo "== sanitizer build (ASan + UBSan)"
# -O1: the sanitizers find the same bugs, and the tree builds much faster on 2 cores.
scripts/build.sh build-asan -DCOFFER_SANITIZE=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g"
echo "== sanitizer: unit and end-to-end tests"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure --timeout 900 -j "$jobs") || status=1

exit $status
