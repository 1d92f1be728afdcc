#!/usr/bin/env bash
# Installs every build and test dependency of Bit-TTT Engine from Debian 12 packages.
# Idempotent and non-interactive; run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang clang-format
  nlohmann-json3-dev libcli11-dev libpcre2-dev libedit-dev libxxhash-dev
  libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev libopenblas-dev
  python3 python3-numpy python3-pytest python3-matplotlib python3-dev pybind11-dev
  bible-kjv
  chromium chromium-driver python3-selenium  # tests/server/test_browser.py (headless page test)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
