#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and the demo need. Safe to run again:
# it asks apt only when something is missing.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates openssl
  libboost-dev libssl-dev libical-dev libvmime-dev libicu-dev nlohmann-json3-dev catch2
  libsqlite3-dev sqlite3 libcurl4-openssl-dev
  dovecot-imapd radicale python3 python3-aiosmtpd python3-websockets python3-jsonschema iproute2 procps
  thunderbird
  dpkg-dev lintian man-db systemd
  clang-14 libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  # The Debian packages of dovecot and radicale would start system services; policy-rc.d
  # (absent on a container, present on most CI images) decides. Our tests start their own.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
