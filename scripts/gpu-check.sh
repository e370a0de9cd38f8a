#!/usr/bin/env bash
# The project's one-call GPU check, for a machine with CUDA but no .NET SDK. Needs the .device/
# folder that scripts/pack-device.sh makes on the dev machine. Runs every step even when one
# fails, then exits non-zero if any did. Results go to $RESULTS, one folder below $OUT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RESULTS=${RESULTS:-${OUT:-bench/results}/gpu-check-$(date -u +%Y%m%d-%H%M%S)}
SIZE_MIB=${SIZE_MIB:-1024}
REPEATS=${REPEATS:-10}
# Model sizes of the swap benchmark (and of the PyTorch copies compared with it), in MiB.
SWAP_SIZES_MIB=${SWAP_SIZES_MIB:-256,1024,4096}
SWAP_REPEATS=${SWAP_REPEATS:-5}
# The probe takes about a minute on an H100; this stops one that hangs in the driver.
PROBE_TIMEOUT_S=${PROBE_TIMEOUT_S:-300}
# The many-model trace: an 8 GiB device pool and 24 models of 1 GiB (three times the pool), which
# the host holds twice (the clients' files and the pinned pool).
TRACE_POOL_MIB=${TRACE_POOL_MIB:-8192}
TRACE_MODEL_MIB=${TRACE_MODEL_MIB:-1024}
# Fewer rates and a shorter window than the trace's defaults, so that the sweep fits one call.
TRACE_RATES=${TRACE_RATES:-2,4,8,16}
TRACE_DURATION_S=${TRACE_DURATION_S:-10}
# The trace on Llama-format models: first at the small default shape, every token checked against
# the CPU reference (the runner's arithmetic on a real device), then at LLAMA_SHAPE, with the wake
# of an 8b model registered but not resident. The checkpoints are written once into
# LLAMA_MODELS_DIR (the 8b one is 16 GB) and reused by later runs on the same machine.
LLAMA_SHAPE=${LLAMA_SHAPE:-0.5b}
LLAMA_MODELS=${LLAMA_MODELS:-8}
LLAMA_MODELS_DIR=${LLAMA_MODELS_DIR:-/tmp/gpumux-llama-models}
TESTS=.device/app/GpuMux.Gpu.Tests/GpuMux.Gpu.Tests.dll
BENCH=.device/app/GpuMux.Bench/GpuMux.Bench.dll

passed=()
failed=()

# Runs one step, recording its outcome instead of stopping the script.
step() {
  local name=$1
  shift
  echo
  echo "=== $name"
  if "$@"; then
    passed+=("$name")
  else
    local rc=$?
    echo "!!! $name FAILED (exit $rc)"
    failed+=("$name")
  fi
}

show_machine() {
  uname -sr
  grep -m1 'model name' /proc/cpuinfo || true
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,pci.bus_id --format=csv || echo "nvidia-smi failed"
  else
    echo "nvidia-smi: not found (no NVIDIA driver on this machine?)"
  fi
  if command -v nvcc >/dev/null; then
    nvcc --version | tail -n 2
  else
    echo "nvcc: not found (no CUDA toolkit on PATH; the driver API and NVRTC are what the code needs)"
  fi
}

# What the Sim takes on trust from cuda.h, asked of the driver itself (native/probe): one RULE line
# per finding, and the timings that choose the unit weights are mapped in. Needs the CUDA toolkit
# and gcc, not .NET. Fails when the probe does not build, or when a finding DIFFERS from the Sim.
gpu_probe() {
  local build=build/gpu-probe
  if ! native/probe/build.sh "$build"; then
    echo "!!! the probe did not build"
    return 1
  fi
  timeout -k 10 "$PROBE_TIMEOUT_S" "$build/gpu-probe" "$build" 2>&1 | tee "$RESULTS/gpu-probe.txt"
}

dotnet_runtime() {
  if [[ ! -f .device/run.sh ]]; then
    echo "no .device/run.sh: run scripts/pack-device.sh on the dev machine and carry .device along"
    return 1
  fi
  # shellcheck source=/dev/null
  source .device/run.sh
  dotnet --info | sed -n '/Host:/,/Commit:/p'
}

# Runs the GPU tests of one trait in a test process of their own: Gpu (the contract), or
# GpuFault (faults the GPU on purpose, then resets it: a reset that does not work would poison
# every test after it in the same process).
gpu_tests() {
  local trait=$1 name=$2
  local log=$RESULTS/$name.log rc=0
  dotnet "$TESTS" -trait "Category=$trait" -noColor -result-junit "$RESULTS/$name.junit.xml" 2>&1 | tee "$log" || rc=$?
  # xunit's summary line: "Total: 25, Errors: 0, Failed: 0, Skipped: 0, Not Run: 0, Time: ..."
  local summary total skipped
  summary=$(grep -E 'Total: [0-9]+' "$log" | tail -n 1 || true)
  total=$(sed -nE 's/.*Total: ([0-9]+).*/\1/p' <<<"$summary")
  skipped=$(sed -nE 's/.*Skipped: ([0-9]+).*/\1/p' <<<"$summary")
  if [[ -z $summary ]]; then
    echo "!!! no test summary: the test app did not run to the end"
    return 1
  fi
  if [[ $total == 0 ]]; then
    echo "!!! no GPU tests ran: nothing matched -trait Category=$trait"
    return 1
  fi
  # On a GPU machine a skip means the CUDA backend did not come up: that is a failure here.
  if [[ $skipped != 0 ]] || grep -q '\[SKIP\]' "$log"; then
    echo "!!! $skipped of $total GPU tests were SKIPPED: the CUDA backend did not come up. Reason given:"
    grep -m1 -A1 '\[SKIP\]' "$log" | tail -n 1
    return 1
  fi
  return "$rc"
}

bandwidth_probe() {
  dotnet "$BENCH" bandwidth --backend cuda --size-mib "$SIZE_MIB" --repeats "$REPEATS" --out "$RESULTS"
}

swap_benchmark() {
  dotnet "$BENCH" swap --backend cuda --sizes-mib "$SWAP_SIZES_MIB" --repeats "$SWAP_REPEATS" --out "$RESULTS"
}

# What a swap-in's mapping costs beyond its copy, per device pool page size: the figure that
# chooses Memory:DevicePageBytes (the goal is at most 1 ms for a 16 GiB model).
pool_mapping() {
  dotnet "$BENCH" pool --backend cuda --out "$RESULTS"
}

interactive_latency() {
  dotnet "$BENCH" interactive --backend cuda --out "$RESULTS"
}

# The trace's models are sized for a simulated pool; on a GPU the pool is the card's, so the
# models are made large enough that their weights are three times it.
model_trace() {
  dotnet "$BENCH" trace --backend cuda --pool-mib "$TRACE_POOL_MIB" --model-mib "$TRACE_MODEL_MIB" \
    --rates "$TRACE_RATES" --duration-s "$TRACE_DURATION_S" --out "$RESULTS"
}

torch_bandwidth() {
  python3 scripts/torch_bandwidth.py --size-mib "$SIZE_MIB" --repeats "$REPEATS" --warmup 2 | tee "$RESULTS/torch-bandwidth.txt"
}

# tensor.to("cuda") from pageable and pinned memory, of the same bytes as each swap benchmark model.
torch_swap_sizes() {
  local size rc=0
  for size in ${SWAP_SIZES_MIB//,/ }; do
    python3 scripts/torch_bandwidth.py --size-mib "$size" --repeats "$SWAP_REPEATS" --warmup 2 | tee "$RESULTS/torch-bandwidth-${size}MiB.txt" || rc=1
  done
  return "$rc"
}

llama_check() {
  dotnet "$BENCH" trace-llama --backend cuda --wake off --rates 2 --duration-s 5 --out "$RESULTS"
}

llama_trace() {
  dotnet "$BENCH" trace-llama --backend cuda --shape "$LLAMA_SHAPE" --models "$LLAMA_MODELS" \
    --models-dir "$LLAMA_MODELS_DIR" --rates "$TRACE_RATES" --duration-s "$TRACE_DURATION_S" --wake on --out "$RESULTS"
}

torch_checkpoint_load() {
  python3 scripts/torch_load_checkpoint.py "$LLAMA_MODELS_DIR/wake-8b" | tee "$RESULTS/torch-load-8b.txt"
}

main() {
  echo "gpu-check $(date -u '+%Y-%m-%d %H:%M:%SZ') on $(hostname), commit $GPUMUX_COMMIT"
  echo "results: $RESULTS"
  step "machine" show_machine
  step "GPU probe" gpu_probe
  step ".NET runtime" dotnet_runtime
  step "GPU tests" gpu_tests Gpu gpu-tests
  step "device reset after a fault" gpu_tests GpuFault gpu-fault-tests
  step "bandwidth probe" bandwidth_probe
  step "swap benchmark" swap_benchmark
  step "pool mapping" pool_mapping
  step "interactive latency" interactive_latency
  step "many-model trace" model_trace
  step "Llama runner, tokens checked" llama_check
  step "many-model trace on Llama models, 8b wake" llama_trace
  if python3 -c 'import torch' 2>/dev/null; then
    step "PyTorch bandwidth" torch_bandwidth
    step "PyTorch bandwidth at the swap sizes" torch_swap_sizes
    step "PyTorch loading the 8b checkpoint" torch_checkpoint_load
  else
    echo
    echo "=== PyTorch bandwidth: not run (python3 cannot import torch)"
  fi

  echo
  echo "=== summary"
  local name
  for name in "${passed[@]}"; do echo "ok      $name"; done
  for name in "${failed[@]}"; do echo "FAILED  $name"; done
  echo "results in $RESULTS"
  if ((${#failed[@]} > 0)); then
    echo "gpu-check FAILED: ${failed[*]}"
    return 1
  fi
  echo "gpu-check passed"
}

# The commit the packed binaries were built from, which pack-device.sh records; the device
# machine's copy of the tree may well have no .git at all.
GPUMUX_COMMIT=${GPUMUX_COMMIT:-$(cat .device/commit 2>/dev/null || git rev-parse --short HEAD 2>/dev/null || echo unknown)}
export GPUMUX_COMMIT

mkdir -p "$RESULTS"
main 2>&1 | tee "$RESULTS/gpu-check.log"
