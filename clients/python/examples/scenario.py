"""The clients' common scenario (clients/scenario.md) in Python: one line per check, ``scenario ok`` at the end."""

from __future__ import annotations

import array
import hashlib
import math
import struct
import sys
import tempfile
from pathlib import Path

import gpumux
import gpumux.safetensors

N, ROWS, COLS = 4096, 64, 128
MASK64 = (1 << 64) - 1


class Failed(Exception):
    pass


def check(name: str, ok: bool, found: str) -> None:
    if not ok:
        raise Failed(f"FAIL {name}: {found}")


def first_difference(name: str, got: memoryview, expected: list[float]) -> None:
    for index, (value, wanted) in enumerate(zip(got, expected)):
        check(name, value == wanted, f"[{index}] = {value!r}, expected {wanted!r}")


def f32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def mix64(x: int) -> int:
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    words = struct.unpack(f"<{len(padded) // 4}I", padded)
    return sum(mix64((index << 32) | word) for index, word in enumerate(words)) & MASK64


def sha256(view: memoryview) -> str:
    return hashlib.sha256(view.cast("B")).hexdigest()


def main() -> None:
    x = [((7 * i) % 101 - 50) / 8 for i in range(N)]
    y = [((3 * i) % 53 - 26) / 4 for i in range(N)]
    w = [((5 * r + 3 * c) % 17 - 8) / 4 for r in range(ROWS) for c in range(COLS)]
    v = x[:COLS]
    gemv = [f32(math.fsum(w[r * COLS + c] * v[c] for c in range(COLS))) for r in range(ROWS)]
    w16 = struct.pack(f"<{ROWS * COLS}e", *w)
    wb16 = array.array("H", (word >> 16 for word in struct.unpack(f"<{ROWS * COLS}I", struct.pack(f"<{ROWS * COLS}f", *w))))

    with gpumux.connect(name="scenario") as gm:
        # 1. The quota: the entry of our own uid (quota() raises without one).
        gm.quota()

        # 2. A lease, read back.
        with gm.lease(seconds=60, cls="standard"):
            held = gm.get_lease()
            check("lease", held is not None and held.cls == "standard", f"GetLease says {held}")

            # 3. A region and the buffers.
            region = gm.region(1 << 20)
            at = 0

            def put(data: object) -> gpumux.RegionSlice:
                nonlocal at
                part = region.write(at, data)
                at += -(-part.nbytes // 256) * 256
                return part

            def space(nbytes: int) -> gpumux.RegionSlice:
                return put(bytes(nbytes))

            x_in, y_in, v_in = put(array.array("f", x)), put(array.array("f", y)), put(array.array("f", v))
            w32_in, w16_in, wb16_in, zero8 = put(array.array("f", w)), put(w16), put(wb16), space(8)
            y_out, out_out, x_out, sum_out = space(4 * N), space(4 * ROWS), space(4 * N), space(8)
            X, Y = gm.buffer(4 * N), gm.buffer(4 * N)
            W32, W16, WB16 = gm.buffer(4 * ROWS * COLS), gm.buffer(2 * ROWS * COLS), gm.buffer(2 * ROWS * COLS)
            V, OUT, SUM = gm.buffer(4 * COLS), gm.buffer(4 * ROWS), gm.buffer(8)
            fill, blocks = gm.builtin("fill_f32"), -(-N // 256)

            # 4. axpy.
            (gm.step()
                .copy_in(X, x_in).copy_in(Y, y_in).copy_in(V, v_in)
                .copy_in(W32, w32_in).copy_in(W16, w16_in).copy_in(WB16, wb16_in).copy_in(SUM, zero8)
                .launch(gm.builtin("axpy_f32"), blocks, 256, Y, X, 0.75, N)
                .copy_out(Y, y_out)
                .run())  # fmt: skip
            first_difference("axpy", y_out.view("f"), [0.75 * a + b for a, b in zip(x, y)])
            print("axpy", sha256(y_out.view()))

            # 5. The three gemvs, one warp per row; OUT is zeroed first so that a launch that did nothing shows.
            for name, weights in (("gemv_f32", W32), ("gemv_f16", W16), ("gemv_bf16", WB16)):
                (gm.step()
                    .launch(fill, 1, 256, OUT, 0.0, ROWS)
                    .launch(gm.builtin(name), ROWS // 8, 256, weights, V, OUT, ROWS, COLS)
                    .copy_out(OUT, out_out)
                    .run())  # fmt: skip
                first_difference(name, out_out.view("f"), gemv)
                print(name, sha256(out_out.view()))

            # 6. fill and checksum.
            (gm.step()
                .launch(fill, blocks, 256, X, 1.5, N)
                .launch(gm.builtin("checksum"), blocks, 256, X, 4 * N, SUM)
                .copy_out(X, x_out).copy_out(SUM, sum_out)
                .run())  # fmt: skip
            first_difference("fill", x_out.view("f"), [1.5] * N)
            print("fill", sha256(x_out.view()))
            got, expected = sum_out.view("Q")[0], checksum(x_out.tobytes())
            check("checksum", got == expected, f"{got:016x}, expected {expected:016x}")
            print("checksum", f"{got:016x}")

            # 7. spin: its times are ordered.
            times = gm.step().launch(gm.builtin("spin"), 1, 1, 100).run()
            check("spin", times.queued_at_ns <= times.started_at_ns <= times.ended_at_ns, str(times))
            print("spin ordered")

            # 8. A model from a safetensors file of our own, its tensor a gemv's weights.
            with tempfile.TemporaryDirectory() as directory:
                path = Path(directory) / "scenario.safetensors"
                gpumux.safetensors.save(path, {"w": ("F32", (ROWS, COLS), array.array("f", w))})
                model = gm.register_model(path)
            (gm.step()
                .launch(fill, 1, 256, OUT, 0.0, ROWS)
                .launch(gm.builtin("gemv_f32"), ROWS // 8, 256, model.tensor("w"), V, OUT, ROWS, COLS)
                .copy_out(OUT, out_out)
                .run())  # fmt: skip
            first_difference("model_gemv", out_out.view("f"), gemv)
            print("model_gemv", sha256(out_out.view()))

            # 9. An expected error, and the session goes on.
            try:
                gm.function(0, "no_such_kernel")
                check("error", False, "GetFunction(0, no_such_kernel) succeeded")
            except gpumux.UnknownFunction as error:
                gm.step().launch(fill, blocks, 256, X, 2.0, N).run()
                print("error", type(error).__name__)

        # 10. The lease is released on leaving its block; the session closes on leaving the client's.
    print("scenario ok")


if __name__ == "__main__":
    try:
        main()
    except Failed as failure:
        print(failure)
        sys.exit(1)
