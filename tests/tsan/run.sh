#!/usr/bin/env bash
# ThreadSanitizer over the unit and integration tests (issue #13: handlers
# on several threads, outbox lanes, the SMPP thread). Not part of .ci/run
# yet: its build adds about ten minutes. Any data race fails the run.
#
#   bash tests/tsan/run.sh
#
# Left out: the crash loop and the descriptor-exhaustion test (kill -9 and
# rlimits, timing that TSan's slowdown makes meaningless).
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -O1" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build build-tsan --target unit_tests integration_tests hotline-gateway
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
build-tsan/tests/unit_tests
build-tsan/tests/integration_tests --gtest_filter='-CrashLoop*:BinaryFdLimits*'
echo "tsan: no data race found"
