"""The client against a real gpumuxd (a Sim daemon whose socket is in GPUMUX_HOST)."""

from __future__ import annotations

import array
import asyncio
import os
import tempfile
import threading
import unittest
from pathlib import Path

import gpumux
import gpumux.safetensors
from tests.daemon import DaemonTestCase

AXPY_SOURCE = """
// y = a * x + y, as the built-in axpy_f32 (the Sim runs kernels of the built-ins' names).
extern "C" __global__ void axpy_f32(float* y, const float* x, float a, unsigned long long n)
{
    unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
"""


class SessionTests(DaemonTestCase):
    def test_welcome_describes_the_session_and_its_device(self) -> None:
        self.assertEqual("sim", self.client.backend)
        self.assertEqual(6, self.client.minor)
        self.assertGreater(self.client.session_id, 0)
        self.assertEqual(1, len(self.client.devices))
        self.assertGreater(self.client.devices[0].total_memory_bytes, 0)

    def test_axpy_over_array_data_gives_the_hosts_result(self) -> None:
        n = 1000
        region = self.client.region(8 * n)
        x = region.write(0, array.array("f", (i / 4 for i in range(n))))
        y = region.write(4 * n, array.array("f", (1.0 for _ in range(n))))
        bx, by = self.client.buffer(4 * n), self.client.buffer(4 * n)

        result = (
            self.client.step().copy_in(bx, x).copy_in(by, y).launch(self.client.builtin("axpy_f32"), 4, 256, by, bx, 2.0, n).copy_out(by, y).run()
        )

        self.assertEqual([2 * i / 4 + 1 for i in range(n)], y.view("f").tolist())
        self.assertLessEqual(result.queued_at_ns, result.started_at_ns)
        self.assertLessEqual(result.started_at_ns, result.ended_at_ns)

    def test_a_spillable_buffer_holds_what_is_copied_in(self) -> None:
        region = self.client.region(64)
        region.view(format="I")[:4] = array.array("I", [5, 6, 7, 8])
        buffer = self.client.buffer(16, spillable=True)
        self.client.step().copy_in(buffer, region[0:16]).copy_out(buffer, region[16:32]).run()
        self.assertEqual(array.array("I", [5, 6, 7, 8]).tobytes(), region.read(16, 16))

    def test_what_is_written_through_a_view_is_what_the_daemon_copies(self) -> None:
        region = self.client.region(64)
        region.view(format="I")[:4] = array.array("I", [1, 2, 3, 4])
        buffer = self.client.buffer(16)
        self.client.step().copy_in(buffer, region[0:16]).copy_out(buffer, region[16:32]).run()
        self.assertEqual(bytes(region.view(0, 16)), region.read(16, 16))
        target = bytearray(16)
        region[16:32].read_into(target)
        self.assertEqual(array.array("I", [1, 2, 3, 4]).tobytes(), bytes(target))

    def test_a_kernel_compiled_from_cuda_c_source_runs_with_its_declared_argument_kinds(self) -> None:
        axpy = self.client.kernel(AXPY_SOURCE, "axpy_f32")
        self.assertNotEqual(0, axpy.module)
        region = self.client.region(32)
        region.write(0, array.array("f", [1, 2, 3, 4, 10, 20, 30, 40]))
        bx, by = self.client.buffer(16), self.client.buffer(16)
        self.client.step().copy_in(bx, region[0:16]).copy_in(by, region[16:32]).launch(axpy, 1, 32, by, bx, 0.5, 4).copy_out(by, region[16:32]).run()
        self.assertEqual([10.5, 21, 31.5, 42], region[16:32].view("f").tolist())
        self.assertIs(axpy, self.client.kernel(AXPY_SOURCE, "axpy_f32"))

    def test_source_that_does_not_compile_raises_compile_failed_with_the_log(self) -> None:
        with self.assertRaises(gpumux.CompileFailed) as raised:
            self.client.kernel("__global__ void axpy_f32(float* y) {}", "axpy_f32")
        self.assertIn("extern", raised.exception.message)

    def test_a_failed_step_raises_its_codes_class_with_its_times_and_the_session_goes_on(self) -> None:
        region, buffer = self.client.region(64), self.client.buffer(64)
        with self.assertRaises(gpumux.InvalidArgument) as raised:
            self.client.step().copy_in(buffer, region[0:64], nbytes=128).run()
        self.assertEqual(8, raised.exception.code)
        self.assertIsNotNone(raised.exception.step)
        with self.assertRaises(gpumux.UnknownFunction):
            self.client.builtin("no_such_kernel")
        self.client.step().launch(self.client.builtin("fill_f32"), 1, 16, buffer, 1.0, 16).run()

    def test_a_closed_client_raises_connection_lost(self) -> None:
        self.client.close()
        with self.assertRaises(gpumux.ConnectionLost):
            self.client.buffer(16)


class ConcurrencyTests(DaemonTestCase):
    def test_steps_awaited_together_on_one_connection_each_get_their_own_completion(self) -> None:
        # Four at once: the test daemon lets a session have four steps in flight.
        region = self.client.region(4 * 64)
        buffers = [self.client.buffer(64) for _ in range(4)]
        fill = self.client.builtin("fill_f32")

        async def run_all() -> list[gpumux.StepResult]:
            steps = [
                self.client.step().launch(fill, 1, 16, buffer, float(index), 16).copy_out(buffer, region[64 * index : 64 * (index + 1)])
                for index, buffer in enumerate(buffers)
            ]
            return await asyncio.gather(*(step.run_async() for step in steps))

        results = asyncio.run(run_all())

        self.assertEqual(4, len(results))
        for index in range(4):
            self.assertEqual([float(index)] * 16, region[64 * index : 64 * (index + 1)].view("f").tolist())

    def test_threads_share_one_client(self) -> None:
        failures: list[BaseException] = []

        def work(value: float) -> None:
            try:
                region, buffer = self.client.region(16), self.client.buffer(16)
                self.client.step().launch(self.client.builtin("fill_f32"), 1, 4, buffer, value, 4).copy_out(buffer, region).run()
                self.assertEqual([value] * 4, region.view(format="f").tolist())
                region.release()
            except BaseException as error:  # noqa: BLE001  (reported on the test's thread)
                failures.append(error)

        threads = [threading.Thread(target=work, args=(float(i),)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], failures)


class ModelTests(DaemonTestCase):
    def test_a_models_tensor_is_a_launch_argument(self) -> None:
        rows, cols = 8, 32
        weights = array.array("f", ((r + c) % 5 - 2 for r in range(rows) for c in range(cols)))
        progress: list[tuple[int, int]] = []
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "tiny.safetensors"
            gpumux.safetensors.save(path, {"w": ("F32", (rows, cols), weights)})
            model = self.client.register_model(path, on_progress=lambda staged, total: progress.append((staged, total)))
        self.assertEqual(("tiny", 1, 4 * rows * cols), (model.name, model.tensor_count, model.nbytes))
        w = model["w"]
        self.assertEqual(4 * rows * cols, w.nbytes)

        region = self.client.region(4 * cols + 4 * rows)
        x = region.write(0, array.array("f", [1.0] * cols))
        bx, by = self.client.buffer(4 * cols), self.client.buffer(4 * rows)
        self.client.step().copy_in(bx, x).launch(self.client.builtin("gemv_f32"), 1, 256, w, bx, by, rows, cols).copy_out(by, region[4 * cols :]).run()

        expected = [sum(weights[r * cols : (r + 1) * cols]) for r in range(rows)]
        self.assertEqual(expected, region[4 * cols :].view("f").tolist())
        with self.assertRaises(gpumux.UnknownTensor):
            model.tensor("missing")

    def test_a_file_that_is_not_safetensors_is_invalid_model(self) -> None:
        with tempfile.NamedTemporaryFile(suffix=".safetensors") as file:
            file.write(b"not a model")
            file.flush()
            with self.assertRaises(gpumux.InvalidModel):
                self.client.register_model(file.name)


class LeaseTests(DaemonTestCase):
    def test_a_lease_holds_inside_its_block_and_is_released_after(self) -> None:
        with self.client.lease(seconds=60, cls="interactive") as lease:
            info = self.client.get_lease()
            assert info is not None
            self.assertEqual(("interactive", lease.granted.id), (info.cls, info.id))
            self.assertGreater(info.seconds_left or 0, 0)
            with self.assertRaises(gpumux.InvalidArgument):
                self.client.lease(seconds=1)
        self.assertIsNone(self.client.get_lease())

    def test_a_class_that_does_not_exist_is_invalid_argument(self) -> None:
        with self.assertRaises(gpumux.InvalidArgument):
            self.client.lease(seconds=60, cls="no-such-class")

    def test_quota_is_this_uids_entry_and_the_sessions_lease(self) -> None:
        self.client.step().run()
        quota = self.client.quota()
        self.assertEqual(os.geteuid(), quota.tenant.uid)
        self.assertGreaterEqual(quota.tenant.sessions, 1)
        self.assertIsNone(quota.lease)
        with self.client.lease(seconds=30, cls="standard", gpu_seconds=5):
            quota = self.client.quota()
            assert quota.lease is not None
            self.assertEqual("standard", quota.lease.cls)
            self.assertAlmostEqual(5.0, quota.lease.gpu_seconds_left or 0, delta=1)
            self.assertIn("lease", str(quota))

    def test_the_gpu_decorator_holds_a_lease_for_the_call(self) -> None:
        @gpumux.gpu(duration=60, cls="interactive", client=self.client)
        def infer() -> str | None:
            lease = gpumux.current().get_lease()
            return lease.cls if lease is not None else None

        @gpumux.gpu(duration=60, client=self.client)
        async def infer_async() -> bool:
            return gpumux.current().get_lease() is not None

        self.assertEqual("interactive", infer())
        self.assertIsNone(self.client.get_lease())
        self.assertTrue(asyncio.run(infer_async()))
        self.assertIsNone(self.client.get_lease())


class InteropTests(DaemonTestCase):
    def test_a_numpy_array_over_the_region_is_what_the_daemon_reads_and_writes(self) -> None:
        try:
            import numpy
        except ImportError:
            self.skipTest("NumPy is not installed")
        region = self.client.region(4096)
        x = region[0:2048].numpy("float32")
        x[:] = numpy.arange(512, dtype=numpy.float32)
        buffer = self.client.buffer(2048)
        self.client.step().copy_in(buffer, region[0:2048]).launch(self.client.builtin("axpy_f32"), 2, 256, buffer, buffer, numpy.float32(1), numpy.uint64(512)).copy_out(buffer, region[2048:]).run()
        numpy.testing.assert_array_equal(2 * numpy.arange(512, dtype=numpy.float32), region[2048:].numpy("float32"))

    def test_a_torch_tensor_over_the_region_is_what_the_daemon_writes(self) -> None:
        try:
            import torch
        except ImportError:
            self.skipTest("PyTorch is not installed")
        region, buffer = self.client.region(64), self.client.buffer(64)
        self.client.step().launch(self.client.builtin("fill_f32"), 1, 16, buffer, 3.0, 16).copy_out(buffer, region).run()
        self.assertTrue(bool((region.torch(torch.float32) == 3.0).all()))


class ScenarioTests(unittest.TestCase):
    def test_the_common_scenario_prints_its_lines_and_ok(self) -> None:
        if not os.environ.get("GPUMUX_HOST"):
            self.skipTest("needs a gpumuxd: set GPUMUX_HOST")
        import subprocess
        import sys

        script = Path(__file__).resolve().parent.parent / "examples" / "scenario.py"
        package_root = str(script.parent.parent)
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False, env=environment)
        self.assertEqual(0, run.returncode, run.stdout + run.stderr)
        names = [line.split(" ", 1)[0] for line in run.stdout.splitlines()]
        self.assertEqual(["axpy", "gemv_f32", "gemv_f16", "gemv_bf16", "fill", "checksum", "spin", "model_gemv", "error", "scenario"], names)
        self.assertIn("error UnknownFunction", run.stdout)


if __name__ == "__main__":
    unittest.main()
