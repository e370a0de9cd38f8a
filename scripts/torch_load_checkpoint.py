#!/usr/bin/env python3
"""How long PyTorch takes to put a safetensors checkpoint's weights on the GPU, beside gpumuxd's wake.

Loads every *.safetensors file of a model directory onto cuda:0 the way PyTorch users do (with
the safetensors package's load_file where it is installed, otherwise tensor by tensor from the
file), synchronises, and prints the wall time of each repeat and the median, in seconds and
GB/s (1e9 bytes per second). The first repeat reads the files through the page cache as the
checkpoint's writer left it; the time includes reading, not only the copy.
"""
import argparse
import json
import pathlib
import statistics
import struct
import sys
import time

import torch

DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}


def load_by_hand(path):
    # The format: a little-endian u64 header length, the JSON header, then the data section.
    with open(path, "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(length))
        start = 8 + length
        tensors = {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            begin, end = entry["data_offsets"]
            file.seek(start + begin)
            data = bytearray(file.read(end - begin))
            host = torch.frombuffer(data, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
            tensors[name] = host.to("cuda")
        return tensors


def loader():
    try:
        from safetensors.torch import load_file
    except ImportError:
        return "by hand (no safetensors package)", load_by_hand
    return "safetensors.torch.load_file", lambda path: load_file(str(path), device="cuda:0")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=pathlib.Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    files = sorted(args.directory.glob("*.safetensors"))
    if not files:
        sys.exit(f"{args.directory}: no *.safetensors files")
    name, load = loader()
    total = 0
    seconds = []
    for _ in range(args.repeats):
        torch.cuda.synchronize()
        began = time.perf_counter()
        loaded = [load(path) for path in files]
        torch.cuda.synchronize()
        seconds.append(time.perf_counter() - began)
        total = sum(t.numel() * t.element_size() for tensors in loaded for t in tensors.values())
        del loaded
        torch.cuda.empty_cache()
    print(f"checkpoint: {args.directory} ({len(files)} file(s), {total / 1e9:.2f} GB)")
    print(f"loader: {name}; torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    for i, s in enumerate(seconds):
        print(f"repeat {i + 1}: {s:.3f} s, {total / s / 1e9:.2f} GB/s")
    median = statistics.median(seconds)
    print(f"median: {median:.3f} s, {total / median / 1e9:.2f} GB/s")


if __name__ == "__main__":
    main()
