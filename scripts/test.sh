#!/usr/bin/env bash
# Builds tandem and runs the whole test suite (ctest).
#   scripts/test.sh                         release build in build/
#   scripts/test.sh --sanitize address,undefined   ASan+UBSan build in build-asan/
#   scripts/test.sh --sanitize thread [-R REGEX]   TSan build in build-tsan/ (threaded tests)
#   scripts/test.sh -L LABEL                 only one layer's test binary, built and run
#     (core, serve, privacy, ledger, netsim, mesh, edge, process; a ctest label regex, e.g.
#     'core|serve'); combines with --sanitize and -R
set -euo pipefail
cd "$(dirname "$0")/.."
san="" regex="" label="" dir=build type=Release
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) san="$2"; shift 2 ;;
    -R) regex="$2"; shift 2 ;;
    -L) label="$2"; shift 2 ;;
    *) echo "usage: $0 [--sanitize address,undefined|thread] [-R REGEX] [-L LABEL]" >&2; exit 2 ;;
  esac
done
case "$san" in
  "") ;;
  thread) dir=build-tsan; type=RelWithDebInfo ;;
  *) dir=build-asan; type=RelWithDebInfo ;;
esac
# The official OpenAI Node SDK (and zod, for its structured-output helper) for
# tests/serve_process_test.cpp and the gateway's end-to-end test, pinned by its package-lock.json.
if [ ! -f tests/openai-node/node_modules/openai/package.json ] || [ ! -f tests/openai-node/node_modules/zod/package.json ]; then
  (cd tests/openai-node && npm ci --no-audit --no-fund)
fi
# playwright-core (no browser download: it drives Debian's chromium) for tests/edge_webui_test.cpp.
if [ ! -f tests/webui/node_modules/playwright-core/package.json ]; then
  (cd tests/webui && npm ci --no-audit --no-fund)
fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DTANDEM_SANITIZE="$san" > /dev/null
build_targets=()
if [[ "$label" =~ ^[a-z]+(\|[a-z]+)*$ ]]; then
  # A label (or labels joined by '|') names its binaries, tandem_tests_LABEL: build just those.
  for l in ${label//|/ }; do build_targets+=(--target "tandem_tests_$l"); done
fi
cmake --build "$dir" -j2 "${build_targets[@]}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"
ctest --test-dir "$dir" --output-on-failure -j2 ${regex:+-R "$regex"} ${label:+-L "$label"}
