#!/usr/bin/env bash
# Builds gpu-probe and the cubins it loads (the built-in kernels of native/kernels and the probe's
# own), on a machine with the CUDA toolkit and driver: build.sh [build-dir], by default
# build/gpu-probe. Run it as: <build-dir>/gpu-probe <build-dir>
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/gpu-probe}
mkdir -p "$out"

nvcc=$(command -v nvcc || true)
for candidate in "${CUDA_HOME:-}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
  if [[ -z $nvcc && -x $candidate ]]; then
    nvcc=$candidate
  fi
done
if [[ -z $nvcc ]]; then
  echo "build.sh: no nvcc on PATH, in \$CUDA_HOME/bin or in /usr/local/cuda/bin" >&2
  exit 1
fi
toolkit=$(cd "$(dirname "$nvcc")/.." && pwd)

# cuda.h: the usual place, then $CUDA_HOME, then beside nvcc.
include=
for candidate in /usr/local/cuda/include "${CUDA_HOME:+$CUDA_HOME/include}" "$toolkit/include" "$toolkit"/targets/*/include; do
  if [[ -n $candidate && -f $candidate/cuda.h ]]; then
    include=$candidate
    break
  fi
done
if [[ -z $include ]]; then
  echo "build.sh: no cuda.h in /usr/local/cuda/include, \$CUDA_HOME/include or $toolkit/include" >&2
  exit 1
fi

# The toolkit's stub libcuda.so carries the driver's soname (libcuda.so.1), so the probe runs
# against the installed driver; without a stub, link the driver itself.
link=(-l:libcuda.so.1)
for candidate in "$toolkit/lib64/stubs" "$toolkit"/targets/*/lib/stubs "${CUDA_HOME:+$CUDA_HOME/lib64/stubs}"; do
  if [[ -n $candidate && -f $candidate/libcuda.so ]]; then
    link=(-L"$candidate" -lcuda)
    break
  fi
done

# The device's own architecture: nvcc's -arch=native (CUDA 11.6 and later), else the compute
# capability nvidia-smi reports for the first GPU.
probe_source="$out/arch-probe.cu"
echo 'extern "C" __global__ void arch_probe() {}' >"$probe_source"
if "$nvcc" -arch=native -cubin -o "$out/arch-probe.cubin" "$probe_source" 2>/dev/null; then
  arch=-arch=native
else
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .' || true)
  if [[ ! $cc =~ ^[0-9]+$ ]]; then
    echo "build.sh: nvcc has no -arch=native and nvidia-smi reports no compute capability" >&2
    exit 1
  fi
  arch=-arch=sm_$cc
fi
rm -f "$probe_source" "$out/arch-probe.cubin"

echo "nvcc: $nvcc ($arch), cuda.h: $include, libcuda: ${link[*]}"
for source in "$root"/native/kernels/*.cu "$here"/probe_kernels.cu; do
  name=$(basename "$source" .cu)
  "$nvcc" -std=c++17 -O3 "$arch" -cubin -o "$out/$name.cubin" "$source"
done
gcc -std=c11 -O2 -Wall -Wextra -I"$include" -o "$out/gpu-probe" "$here"/*.c "${link[@]}"
echo "built $out/gpu-probe"
