#!/usr/bin/env bash
# Packs .device/ for scripts/gpu-check.sh: run on the dev machine before using the device machine.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
# pack-dotnet.sh appends to .git/info/exclude, and a clone made without templates has no .git/info.
mkdir -p "$(git rev-parse --git-path info)"
../shared/device/pack-dotnet.sh tests/GpuMux.Gpu.Tests/GpuMux.Gpu.Tests.csproj bench/GpuMux.Bench/GpuMux.Bench.csproj
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo -dirty)" > .device/commit
