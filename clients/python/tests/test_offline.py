"""What the client decides without a daemon: the bytes it sends, the paths it picks, the files it writes."""

from __future__ import annotations

import json
import os
import struct
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import gpumux
import gpumux.safetensors
from gpumux import _wire
from gpumux.resources import signature_from_source
from gpumux.step import Step




class StepEncodingTests(unittest.TestCase):
    def test_the_axpy_step_of_the_protocols_example_is_encoded_field_by_field(self) -> None:
        client = mock.Mock()
        region = gpumux.Region(client, 5, 8192, mapping=mock.Mock())
        bx, by = gpumux.Buffer(client, 6, 4096), gpumux.Buffer(client, 7, 4096)
        axpy = gpumux.Function(9, "axpy_f32", 0, (1, 1, 6, 5))

        step = Step(client).copy_in(bx, region[0:4096]).copy_in(by, region[4096:]).launch(axpy, 4, 256, by, bx, 0.5, 1024).copy_out(by, region[4096:])

        expected = struct.pack("<HH", 0, 4)
        expected += struct.pack("<BIQIQQ", 1, 5, 0, 6, 0, 4096)
        expected += struct.pack("<BIQIQQ", 1, 5, 4096, 7, 0, 4096)
        expected += struct.pack("<BI3I3IIB", 2, 9, 4, 1, 1, 256, 1, 1, 0, 4)
        expected += struct.pack("<BIQ", 1, 7, 0) + struct.pack("<BIQ", 1, 6, 0) + struct.pack("<Bf", 6, 0.5) + struct.pack("<BQ", 5, 1024)
        expected += struct.pack("<BIQIQQ", 3, 7, 0, 5, 4096, 4096)
        self.assertEqual(expected, step.payload())

    def test_use_model_and_schedule_go_before_every_copy_and_launch(self) -> None:
        client = mock.Mock()
        model = gpumux.Model(client, 3, "m", 1, 64, 1, 1)
        tensor = gpumux.Tensor(model, 11, "w", 64, 0)
        spin = gpumux.Function(2, "k", 0, (1,))

        payload = Step(client).launch(spin, 1, 1, tensor[16:]).schedule(123, fail_if_late=True).payload()

        self.assertEqual(struct.pack("<HHBIBqB", 0, 3, 4, 3, 5, 123, 1), payload[: 4 + 5 + 10])
        self.assertEqual(struct.pack("<BIQ", 8, 11, 16), payload[-13:])

    def test_a_plain_number_needs_a_known_parameter_kind(self) -> None:
        unknown = gpumux.Function(2, "k", 1, None)
        with self.assertRaisesRegex(TypeError, "gpumux.i32"):
            Step(mock.Mock()).launch(unknown, 1, 1, 3)
        step = Step(mock.Mock()).launch(unknown, 1, 1, gpumux.u32(3))
        self.assertEqual(struct.pack("<BI", 3, 3), step.payload()[-5:])

    def test_a_number_for_a_pointer_and_a_wrong_count_are_refused_before_sending(self) -> None:
        fill = gpumux.Function(2, "fill_f32", 0, (1, 6, 5))
        with self.assertRaisesRegex(TypeError, "buffer or tensor"):
            Step(mock.Mock()).launch(fill, 1, 1, 0, 1.0, 4)
        with self.assertRaisesRegex(TypeError, "takes 3 arguments"):
            Step(mock.Mock()).launch(fill, 1, 1, 1.0)


class SignatureTests(unittest.TestCase):
    def test_the_argument_kinds_are_read_from_a_plain_declaration(self) -> None:
        source = 'extern "C" __global__ void k(const float* __restrict__ x, unsigned long long n, int a, double b, unsigned int c) {}'
        self.assertEqual((1, 5, 2, 7, 3), signature_from_source(source, "k"))

    def test_a_parameter_of_another_type_leaves_the_kinds_unknown(self) -> None:
        self.assertIsNone(signature_from_source('extern "C" __global__ void k(float2 v) {}', "k"))
        self.assertIsNone(signature_from_source('extern "C" __global__ void other() {}', "k"))
        self.assertEqual((), signature_from_source('extern "C" __global__ void k(void) {}', "k"))


class SocketPathTests(unittest.TestCase):
    def test_gpumux_host_is_a_path_or_a_unix_address(self) -> None:
        with mock.patch.dict(os.environ, {"GPUMUX_HOST": "unix:/run/x.sock"}):
            self.assertEqual("/run/x.sock", gpumux.resolve_socket())
        with mock.patch.dict(os.environ, {"GPUMUX_HOST": "/run/y.sock"}):
            self.assertEqual("/run/y.sock", gpumux.resolve_socket())
        with self.assertRaises(ValueError):
            gpumux.resolve_socket("tcp://host:1")

    @unittest.skipIf(os.geteuid() == 0, "root's default is the system socket")
    def test_without_gpumux_host_a_user_gets_the_runtime_directorys_socket(self) -> None:
        with mock.patch.dict(os.environ, {"GPUMUX_HOST": "", "XDG_RUNTIME_DIR": "/run/user/5"}):
            self.assertIn(gpumux.resolve_socket(), ("/run/user/5/gpumuxd.sock", "/run/gpumuxd/gpumuxd.sock"))

    def test_connecting_where_no_daemon_listens_is_connection_lost(self) -> None:
        with tempfile.TemporaryDirectory() as directory, self.assertRaises(gpumux.ConnectionLost):
            gpumux.connect(os.path.join(directory, "none.sock"))


class ErrorTests(unittest.TestCase):
    def test_each_code_has_its_class_and_an_unknown_code_is_the_base_class(self) -> None:
        from gpumux.errors import error_for

        error = error_for(13, "no kernel")
        self.assertIsInstance(error, gpumux.UnknownFunction)
        self.assertIsInstance(error, gpumux.GpuMuxError)
        self.assertEqual(13, error.code)
        self.assertTrue(gpumux.DeviceReset.retryable)
        self.assertEqual(28, gpumux.StepTimedOut.code)
        unknown = error_for(200, "new")
        self.assertIs(type(unknown), gpumux.GpuMuxError)
        self.assertEqual(200, unknown.code)


class SafetensorsTests(unittest.TestCase):
    def test_the_header_gives_each_tensor_its_dtype_shape_and_offsets_in_file_order(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "m.safetensors"
            gpumux.safetensors.save(path, {"b": ("F16", (2,), bytes(4)), "a": ("F32", (1, 2), bytes(range(8)))})
            data = path.read_bytes()
        (length,) = struct.unpack_from("<Q", data)
        self.assertEqual(0, length % 8)
        header = json.loads(data[8 : 8 + length])
        self.assertEqual({"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}, header["b"])
        self.assertEqual({"dtype": "F32", "shape": [1, 2], "data_offsets": [4, 12]}, header["a"])
        self.assertEqual(bytes(4) + bytes(range(8)), data[8 + length :])

    def test_data_that_does_not_match_its_shape_is_refused(self) -> None:
        with tempfile.TemporaryDirectory() as directory, self.assertRaisesRegex(ValueError, "shape"):
            gpumux.safetensors.save(Path(directory) / "m.safetensors", {"w": ("F32", (3,), bytes(8))})


class WireTests(unittest.TestCase):
    def test_a_payload_that_ends_early_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            _wire.Reader(b"\x01\x00").u32()


if __name__ == "__main__":
    unittest.main()
