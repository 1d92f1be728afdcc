#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh runs and packs it, with the shared libraries it
# needs, into one archive for a GPU machine that has the NVIDIA driver and the
# CUDA runtime but not this project's Debian -dev packages (a lent GPU machine, a
# cluster node). Baseline x86-64 code (no -march=native), no Python module.
#   PACK_BUILD_DIR  build folder (default: build-gpu-pack)
#   PACK_OUT        the archive (default: <build folder>/gpu-check.tar.xz)
# On the GPU machine:
#   mkdir p && tar -xJf gpu-check.tar.xz -C p && bash p/run.sh [OUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PACK_BUILD_DIR:-$root/build-gpu-pack}"
out="${PACK_OUT:-$build/gpu-check.tar.xz}"
[ -x /usr/local/cuda/bin/nvcc ] || command -v nvcc >/dev/null ||
  { echo "pack-gpu-check: nvcc not found (the CUDA toolkit is needed to build the GPU code)" >&2; exit 1; }

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBIT_TTT_NATIVE=OFF \
  -DBIT_TTT_BUILD_PYTHON=OFF >/dev/null
programs=(test_cuda test_model bit_llama bench_train_step)
cmake --build "$build" --target "${programs[@]}"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/configs"
for program in "${programs[@]}"; do
  cp "$build/bin/$program" "$stage/bin/"
  strip "$stage/bin/$program"
done
# Every library the programs load except glibc's, libstdc++/libgcc and cuBLAS (about
# 500 MB; the GPU machine has it with its CUDA toolkit or a Python CUDA wheel).
ldd "$stage"/bin/* | awk '$3 ~ /^\// {print $3}' | sort -u |
  grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*|libstdc\+\+|libgcc_s|libcublas[^/]*)\.so' |
  while read -r library; do cp -L "$library" "$stage/lib/"; done
cp "$root"/configs/*.json "$stage/configs/"
cp "$root/scripts/gpu-check.sh" "$stage/"
cat >"$stage/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the packed GPU checks; results go to ${1:-./gpu-check-out}.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# cuBLAS: the toolkit's, else any other copy on the machine (e.g. a Python CUDA wheel).
cuda_libs="$( (ls -d /usr/local/cuda/lib64 /usr/local/cuda/lib 2>/dev/null
  find / -xdev -name 'libcublas.so.*' -printf '%h\n' 2>/dev/null | sort -u | head -3) | tr '\n' ':')"
export LD_LIBRARY_PATH="$here/lib:$cuda_libs${LD_LIBRARY_PATH:-}"
BIN_DIR="$here/bin" CONFIG_DIR="$here/configs" OUT_DIR="${1:-$PWD/gpu-check-out}" \
  bash "$here/gpu-check.sh"
RUN
tar -cJf "$out" -C "$stage" .
echo "packed $(du -h "$out" | cut -f1) into $out"
