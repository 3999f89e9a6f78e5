#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: install, build into build/, run every
# C++ test (unit, integration against Dovecot/Radicale/SMTP sink that the tests start on
# loopback and stop, fuzz replays) with CTest, then the plugin's node tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2
ctest --preset default
if [ -f plugins/thunderbird/package.json ]; then
  (cd plugins/thunderbird && node --test)
fi
