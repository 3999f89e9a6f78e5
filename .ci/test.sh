#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: install, build into build/, run every
# C++ test (unit, integration against Dovecot/Radicale/SMTP sink that the tests start on
# loopback and stop, fuzz replays) with CTest; build the asan preset into build-asan/ and run
# its unit and integration tests; then the plugin's node tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2
ctest --preset default
# The same unit and integration tests again under AddressSanitizer, UBSan and LeakSanitizer
# (build-asan/). The fuzz replays ran above; under the sanitizers they would only repeat.
cmake --preset asan >/dev/null
cmake --build --preset asan -j2
ctest --preset asan -L 'unit|integration'
if [ -f plugins/thunderbird/package.json ]; then
  (cd plugins/thunderbird && node --test)
fi
