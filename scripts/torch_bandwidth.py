#!/usr/bin/env python3
"""PyTorch's host-to-device copy bandwidth, for comparison with `GpuMux.Bench bandwidth`.

Times `tensor.to("cuda")` from pageable and from pinned host memory with CUDA events, the
median of the repeats after warm-up, in the probe's units (GB/s = 1e9 bytes per second).
"""
import argparse
import statistics
import sys

import torch


def time_copies(host, repeats, warmup):
    # Pinned memory is what makes a copy asynchronous; non_blocking is how loaders ask for it.
    non_blocking = host.is_pinned()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    for _ in range(warmup):
        host.to("cuda", non_blocking=non_blocking)
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeats):
        start.record()
        device = host.to("cuda", non_blocking=non_blocking)
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
        if not torch.equal(device[:4096].cpu(), host[:4096]) or not torch.equal(device[-4096:].cpu(), host[-4096:]):
            sys.exit(f"torch: the {'pinned' if non_blocking else 'pageable'} copy did not arrive intact")
        # Freed before the next copy, so that the caching allocator hands the same block back.
        del device
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit(f"torch {torch.__version__} sees no CUDA device (built for CPU only, or the driver is missing)")

    size = args.size_mib << 20
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, device {torch.cuda.get_device_name(0)}")
    pageable = torch.randint(1, 256, (size,), dtype=torch.uint8)
    rows = [("pageable", pageable), ("pinned", pageable.pin_memory())]
    header = ("direction", "host memory", "MiB", "median GB/s", "min GB/s", "max GB/s", "median ms", "basis")
    table = [header]
    for kind, host in rows:
        ms = time_copies(host, args.repeats, args.warmup)
        rates = [size / (m / 1e3) / 1e9 for m in ms]
        table.append(("host-to-device", f"{kind} (torch)", str(args.size_mib), f"{statistics.median(rates):.2f}",
                      f"{min(rates):.2f}", f"{max(rates):.2f}", f"{statistics.median(ms):.3f}", "measured (CUDA events)"))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    right = {2, 3, 4, 5, 6}
    for row in table:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        print("  ".join(cells).rstrip())


if __name__ == "__main__":
    main()
