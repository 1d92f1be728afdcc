#!/usr/bin/env bash
# Installs the `bit_ttt` Python package (and its `cortex_rust` alias) for the
# system Python (/usr/bin/python3) on Debian 12, from Debian packages only:
#   bash scripts/install-python.sh
# Installs build dependencies, builds the module in $BUILD_DIR (default build/)
# and copies it into the interpreter's site-packages
# (/usr/local/lib/python3.11/dist-packages on Debian 12). Run as root (or with sudo).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
python="${PYTHON:-/usr/bin/python3}"
bash "$root/scripts/install-deps.sh"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBIT_TTT_BUILD_PYTHON=ON \
  -DPython3_EXECUTABLE="$python"
ninja -C "$build" bit_ttt_python

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO cmake --install "$build" --component python
cd /
"$python" -c "import bit_ttt, cortex_rust; print('installed bit_ttt', bit_ttt.__version__, 'at', bit_ttt.__file__)"
