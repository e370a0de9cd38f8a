#!/usr/bin/env bash
# The robustness suite at full size: gpumuxd, built in Release and run as a process of its own on
# the Sim backend, under fuzzed frames and descriptors (each of the nine families for 40 s, four
# fuzzing connections beside an honest client that verifies every step), 1,000 clients killed at
# random moments, 256 clients x 2,000 steps with every completion matched, 100,000 mutated
# safetensors files (and 300 through the daemon), 1,000 SIGHUPs under load and SIGTERM under load.
# About 12 minutes on 2 cores. Writes bench/results/robustness-<utc>-sim.md; exits 3 when a count
# that must be 0 is not. Arguments go to the command after the defaults, so they override them:
#   scripts/robustness.sh --scenarios fuzz --families fields,shrink --fuzz-seconds 120
#   scripts/robustness.sh --fuzz-frames 1000000 --order-steps 10000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dotnet build bench/GpuMux.Bench -c Release -nologo -v quiet
exec dotnet bench/GpuMux.Bench/bin/Release/net10.0/GpuMux.Bench.dll robustness --size full --out bench/results "$@"
