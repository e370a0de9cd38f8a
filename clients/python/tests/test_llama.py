"""gpumux.llama: what it reads and decides without a daemon (config, safetensors headers, checks,
the batching rule), and, against a daemon, streaming, stop tokens, refusals and closing. That its
tokens are the reference's is checked from .NET (PythonLlamaRunnerTests), which has the reference."""

from __future__ import annotations

import json
import os
import random
import struct
import tempfile
import unittest
from concurrent.futures import CancelledError
from pathlib import Path

import gpumux.safetensors
from gpumux import ConnectionLost, GpuMuxError
from gpumux.llama import CheckpointError, LlamaCheckpoint, LlamaConfig, LlamaRunner, RunnerClosed, RunnerOptions, read_config
from gpumux.llama.forward import plan_batch
from gpumux.llama.runner import Generation, LlamaRequest, check_prompt

from .daemon import DaemonTestCase

TINY = {"hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 32}


def write_checkpoint(
    directory: str, config: dict[str, object] | None = None, shards: int = 1, dtype: str = "F16", reshape: dict[str, tuple[int, ...]] | None = None
) -> dict[str, bytes]:
    """A seeded checkpoint of TINY's shapes (or ``config``'s, with Qwen2's q, k and v biases where its
    model_type is qwen2; ``reshape`` gives tensors other shapes); returns each tensor's bytes."""
    config = {**TINY, "torch_dtype": "float16", "max_position_embeddings": 64, **(config or {})}
    Path(directory, "config.json").write_text(json.dumps(config))
    hidden, intermediate, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    kv = config["num_key_value_heads"] * hidden // config["num_attention_heads"]  # type: ignore[operator]
    shapes = {"model.embed_tokens.weight": (vocab, hidden)}
    for layer in range(config["num_hidden_layers"]):  # type: ignore[call-overload]
        for part, shape in zip(
            ("input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
             "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"),
            ((hidden,), (hidden, hidden), (kv, hidden), (kv, hidden), (hidden, hidden), (hidden,), (intermediate, hidden), (intermediate, hidden), (hidden, intermediate)),
        ):  # fmt: skip
            shapes[f"model.layers.{layer}.{part}.weight"] = shape  # type: ignore[assignment]
            if config.get("model_type") == "qwen2" and part.endswith(("q_proj", "k_proj", "v_proj")):
                shapes[f"model.layers.{layer}.{part}.bias"] = shape[:1]  # type: ignore[assignment]
    shapes["model.norm.weight"] = (hidden,)
    shapes["lm_head.weight"] = (vocab, hidden)
    shapes |= reshape or {}
    values = random.Random(7)
    tensors = {}
    for name, shape in shapes.items():
        count = 1
        for dimension in shape:
            count *= dimension  # type: ignore[operator]
        tensors[name] = struct.pack(f"<{count}e", *(values.gauss(0, 1 if len(shape) == 1 or "embed" in name else 0.3) for _ in range(count)))
        if dtype != "F16":
            tensors[name] = b"\0\0" * count
    names = list(shapes)
    if shards == 1:
        gpumux.safetensors.save(os.path.join(directory, "model.safetensors"), {n: (dtype, shapes[n], tensors[n]) for n in names})
        return tensors
    weight_map = {}
    for shard in range(shards):
        file = f"model-{shard + 1:05}-of-{shards:05}.safetensors"
        part = names[shard::shards]
        gpumux.safetensors.save(os.path.join(directory, file), {n: (dtype, shapes[n], tensors[n]) for n in reversed(part)})
        weight_map |= {n: file for n in part}
    Path(directory, "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return tensors


class TemporaryDirectoryTestCase(unittest.TestCase):
    def setUp(self) -> None:
        temporary = tempfile.TemporaryDirectory()
        self.addCleanup(temporary.cleanup)
        self.directory = temporary.name

    def config_file(self, **fields: object) -> str:
        path = os.path.join(self.directory, "config.json")
        Path(path).write_text(json.dumps({**TINY, **fields}))
        return path


class ConfigTests(TemporaryDirectoryTestCase):
    def test_absent_fields_take_hugging_faces_defaults(self) -> None:
        path = self.config_file(num_key_value_heads=None)
        self.assertEqual(
            LlamaConfig(16, 24, 2, 4, 4, 32, rms_norm_eps=1e-6, rope_theta=10000.0, max_position_embeddings=2048, dtype="F32"), read_config(path)
        )

    def test_the_fields_are_read_with_their_types(self) -> None:
        config = read_config(self.config_file(rms_norm_eps=1e-5, rope_theta=500000, torch_dtype="bfloat16", tie_word_embeddings=True, head_dim=4))
        self.assertEqual((1e-5, 500000.0, "BF16", True, 4, 2), (config.rms_norm_eps, config.rope_theta, config.dtype, config.tie_word_embeddings, config.head_dim, config.num_key_value_heads))

    def test_each_problem_is_named(self) -> None:
        cases = [
            ({"hidden_size": None}, '"hidden_size" is missing or not a number'),
            ({"vocab_size": 0}, "vocab_size is 0; it must be at least 1"),
            ({"hidden_size": 18}, "hidden_size 18 is not a multiple of num_attention_heads 4"),
            ({"hidden_size": 12}, "the head dimension 3 is odd; rotary embedding rotates pairs"),
            ({"num_key_value_heads": 3}, "num_attention_heads 4 is not a multiple of num_key_value_heads 3"),
            ({"rope_theta": 0}, "rms_norm_eps and rope_theta must be positive"),
            ({"head_dim": 8}, "head_dim 8 differs from hidden_size / num_attention_heads = 4; such models are not supported"),
            ({"torch_dtype": "int8"}, "torch_dtype 'int8' is not one of float16, bfloat16, float32"),
            ({"rope_scaling": {"type": "linear", "factor": 2.0}}, "rope_scaling is set; the built-in rotary embedding is unscaled"),
            ({"attention_bias": True}, "attention_bias is true; the runner adds biases to the q, k and v projections only (model_type qwen2)"),
            ({"mlp_bias": True}, "mlp_bias is true; the runner adds biases to the q, k and v projections only (model_type qwen2)"),
            ({"model_type": "qwen2", "attention_bias": True}, "attention_bias is true; the runner adds biases to the q, k and v projections only"),
        ]
        for fields, message in cases:
            with self.subTest(fields=fields), self.assertRaises(CheckpointError) as raised:
                read_config(self.config_file(**fields))
            self.assertIn(message, str(raised.exception))

    def test_model_type_qwen2_and_only_it_sets_qkv_bias(self) -> None:
        self.assertTrue(read_config(self.config_file(model_type="qwen2")).qkv_bias)
        for model_type in ("llama", "mistral", None):
            with self.subTest(model_type=model_type):
                self.assertFalse(read_config(self.config_file(model_type=model_type)).qkv_bias)

    def test_a_sliding_window_in_use_caps_the_positions(self) -> None:
        self.assertEqual(4096, read_config(self.config_file(max_position_embeddings=32768, sliding_window=4096)).max_position_embeddings)
        self.assertEqual(4096, read_config(self.config_file(max_position_embeddings=32768, sliding_window=4096, use_sliding_window=True)).max_position_embeddings)
        self.assertEqual(2048, read_config(self.config_file(sliding_window=None)).max_position_embeddings)

    def test_a_sliding_window_not_in_use_caps_nothing(self) -> None:
        # As Qwen2 states its window.
        config = read_config(self.config_file(model_type="qwen2", max_position_embeddings=32768, sliding_window=4096, use_sliding_window=False))
        self.assertEqual(32768, config.max_position_embeddings)

    def test_a_file_that_is_not_json_is_refused(self) -> None:
        path = self.config_file()
        Path(path).write_text("{")
        with self.assertRaisesRegex(CheckpointError, "not a model config"):
            read_config(path)


class CheckpointTests(TemporaryDirectoryTestCase):
    def test_a_single_file_checkpoint_is_grouped_by_layer(self) -> None:
        write_checkpoint(self.directory)
        checkpoint = LlamaCheckpoint(self.directory)
        self.assertEqual(2 + 9 * 2 + 1, len(checkpoint.tensors))
        self.assertEqual([1, 9, 9, 2], checkpoint.layer_groups())

    def test_shards_are_joined_into_one_file_of_every_tensor_in_checkpoint_order(self) -> None:
        data = write_checkpoint(self.directory, shards=3)
        checkpoint = LlamaCheckpoint(self.directory)
        fd = checkpoint.weight_fd()
        try:
            joined = os.pread(fd, os.fstat(fd).st_size, 0)
        finally:
            os.close(fd)
        (length,) = struct.unpack_from("<Q", joined)
        header = json.loads(joined[8 : 8 + length])
        self.assertEqual(0, (8 + length) % 8)
        self.assertEqual([tensor.name for tensor in checkpoint.tensors], list(header))
        for name, entry in header.items():
            begin, end = entry["data_offsets"]
            self.assertEqual(data[name], joined[8 + length + begin : 8 + length + end], name)
        self.assertEqual(8 + length + sum(map(len, data.values())), len(joined))

    def test_a_directory_it_cannot_run_is_refused_with_the_reason(self) -> None:
        with self.assertRaisesRegex(CheckpointError, "no config.json"):
            LlamaCheckpoint(self.directory)
        self.config_file()
        with self.assertRaisesRegex(CheckpointError, "neither model.safetensors nor model.safetensors.index.json"):
            LlamaCheckpoint(self.directory)
        write_checkpoint(self.directory, {"intermediate_size": 24})
        Path(self.directory, "config.json").write_text(json.dumps({**TINY, "intermediate_size": 20}))
        with self.assertRaisesRegex(CheckpointError, r"model.layers.0.mlp.gate_proj.weight is \[24, 16\]; config.json makes it \[20, 16\]"):
            LlamaCheckpoint(self.directory)
        Path(self.directory, "config.json").write_text(json.dumps({**TINY, "num_hidden_layers": 3}))
        with self.assertRaisesRegex(CheckpointError, "the weights lack model.layers.2.input_layernorm.weight"):
            LlamaCheckpoint(self.directory)

    def test_weights_of_a_type_the_kernels_do_not_take_are_refused(self) -> None:
        write_checkpoint(self.directory, dtype="BF16")
        LlamaCheckpoint(self.directory)
        with open(os.path.join(self.directory, "model.safetensors"), "r+b") as file:
            (length,) = struct.unpack("<Q", file.read(8))
            header = file.read(length)
            file.seek(8)
            file.write(header.replace(b'"BF16"', b'"I16" '))
        with self.assertRaisesRegex(CheckpointError, "model.embed_tokens.weight is I16; the runner's kernels take F16 or BF16 weights"):
            LlamaCheckpoint(self.directory)

    def test_projection_biases_are_refused(self) -> None:
        write_checkpoint(self.directory)
        path = os.path.join(self.directory, "model.safetensors")
        with open(path, "r+b") as file:
            (length,) = struct.unpack("<Q", file.read(8))
            header = file.read(length)
            file.seek(8)
            # Renamed in place, the header keeping its length: JSON allows the spaces after the name.
            file.write(header.replace(b'"model.layers.1.self_attn.q_proj.weight"', b'"model.layers.1.self_attn.q_proj.bias"  '))
        with self.assertRaisesRegex(
            CheckpointError,
            "the weights hold model.layers.1.self_attn.q_proj.bias; the runner adds biases to the q, k and v projections only, where config.json's model_type is qwen2",
        ):
            LlamaCheckpoint(self.directory)

    def test_a_qwen2_checkpoint_holds_its_q_k_v_biases_in_its_layer_groups(self) -> None:
        write_checkpoint(self.directory, {"model_type": "qwen2"})
        checkpoint = LlamaCheckpoint(self.directory)
        self.assertTrue(checkpoint.config.qkv_bias)
        self.assertEqual([1, 12, 12, 2], checkpoint.layer_groups())
        self.assertEqual((8,), checkpoint.by_name["model.layers.1.self_attn.v_proj.bias"].shape)

    def test_weights_under_the_other_model_types_config_are_refused_naming_the_bias(self) -> None:
        # Only model_type tells the two apart: each checkpoint's weights under the other's config.
        qwen2_weights, llama_weights = os.path.join(self.directory, "qwen2"), os.path.join(self.directory, "llama")
        for directory, model_type, other in ((qwen2_weights, "qwen2", "llama"), (llama_weights, "llama", "qwen2")):
            os.mkdir(directory)
            write_checkpoint(directory, {"model_type": model_type})
            Path(directory, "config.json").write_text(json.dumps({**TINY, "torch_dtype": "float16", "model_type": other}))
        with self.assertRaisesRegex(CheckpointError, "the weights hold model.layers.0.self_attn.q_proj.bias; the runner adds biases to the q, k and v projections only"):
            LlamaCheckpoint(qwen2_weights)
        with self.assertRaisesRegex(CheckpointError, "the weights lack model.layers.0.self_attn.q_proj.bias, which config.json calls for"):
            LlamaCheckpoint(llama_weights)

    def test_a_qwen2_checkpoint_s_other_biases_and_misshapen_ones_are_refused(self) -> None:
        write_checkpoint(self.directory, {"model_type": "qwen2"})
        with open(os.path.join(self.directory, "model.safetensors"), "r+b") as file:
            (length,) = struct.unpack("<Q", file.read(8))
            header = file.read(length)
            file.seek(8)
            file.write(header.replace(b'"model.layers.1.self_attn.o_proj.weight"', b'"model.layers.1.self_attn.o_proj.bias"  '))
        with self.assertRaisesRegex(CheckpointError, "the weights hold model.layers.1.self_attn.o_proj.bias; the runner adds biases"):
            LlamaCheckpoint(self.directory)
        write_checkpoint(self.directory, {"model_type": "qwen2"}, reshape={"model.layers.1.self_attn.k_proj.bias": (16,)})
        with self.assertRaisesRegex(CheckpointError, r"model.layers.1.self_attn.k_proj.bias is \[16\]; config.json makes it \[8\]"):
            LlamaCheckpoint(self.directory)

    def test_a_malformed_safetensors_header_is_refused_with_the_reason(self) -> None:
        path = os.path.join(self.directory, "model.safetensors")
        self.config_file()
        entry = b'{"w":{"dtype":"F16","shape":[2.5],"data_offsets":[0,4]}}'
        past = b'{"w":{"dtype":"F16","shape":[2048],"data_offsets":[0,4096]}}'
        negative = b'{"w":{"dtype":"F16","shape":[1],"data_offsets":[-8,2]}}'
        cases = [
            (b"\1\2", "shorter than a safetensors header's length"),
            (struct.pack("<Q", 0), "a safetensors header of 0 bytes"),
            (struct.pack("<Q", 64) + b"{}", "the file ends inside its 64-byte safetensors header"),
            (struct.pack("<Q", 2) + b"[]", "the safetensors header is not a JSON object"),
            (struct.pack("<Q", 3) + b"{x}", "the safetensors header is not JSON"),
            (struct.pack("<Q", len(entry)) + entry, "tensor 'w' lacks a dtype, a shape of integers or two data_offsets"),
            (struct.pack("<Q", len(past)) + past + b"\0\0", "tensor 'w' lies at [0, 4096) of a 2-byte data section"),
            (struct.pack("<Q", len(negative)) + negative + b"\0\0", "tensor 'w' lies at [-8, 2)"),
        ]
        for content, message in cases:
            Path(path).write_bytes(content)
            with self.subTest(message=message), self.assertRaises(CheckpointError) as raised:
                LlamaCheckpoint(self.directory)
            self.assertIn(message, str(raised.exception))


class ChecksTests(unittest.TestCase):
    def test_options_the_runner_cannot_work_with_are_named(self) -> None:
        llama = LlamaConfig(16, 24, 2, 4, 2, 32)
        self.assertEqual([], RunnerOptions().problems(llama))
        self.assertEqual(
            [
                "page_tokens is 0; it must be at least 1",
                "max_batch_tokens is 1; it must be at least 2, max_batch_requests",
                "max_ops_per_step is 17; it must be at least 18, a layer of max_batch_requests requests and its UseModel",
            ],
            RunnerOptions(page_tokens=0, max_batch_tokens=1, max_batch_requests=2, max_ops_per_step=17).problems(llama),
        )

    def test_a_qwen2_layer_takes_three_more_ops_for_its_biases(self) -> None:
        qwen2 = LlamaConfig(16, 24, 2, 4, 2, 32, qkv_bias=True)
        self.assertEqual([], RunnerOptions(max_batch_requests=2, max_ops_per_step=21).problems(qwen2))
        self.assertEqual(
            ["max_ops_per_step is 20; it must be at least 21, a layer of max_batch_requests requests and its UseModel"],
            RunnerOptions(max_batch_requests=2, max_ops_per_step=20).problems(qwen2),
        )

    def test_a_prompt_is_checked_against_the_model(self) -> None:
        config = LlamaConfig(16, 24, 2, 4, 2, 32, max_position_embeddings=64)
        self.assertEqual(13, check_prompt(config, [1, 2, 3], 10))
        for prompt, new, message in (
            ([], 1, "a prompt holds at least one token"),
            ([1], 0, "max_new_tokens is 0; it must be at least 1"),
            ([3, 32], 1, "token id 32 is outside the vocabulary of 32"),
            ([3, -1], 1, "token id -1 is outside the vocabulary of 32"),
            ([3], 64, "1 prompt tokens and up to 64 new ones pass the model's 64 positions"),
        ):
            with self.subTest(message=message), self.assertRaisesRegex(ValueError, message):
                check_prompt(config, prompt, new)


class BatchPlanTests(unittest.TestCase):
    def request(self, prompt: int, fed: int = 0, generated: int = 0) -> LlamaRequest:
        request = LlamaRequest(list(range(prompt)), Generation(100), 1)
        for token in range(generated):
            request.deliver(token)
        request.fed, request.cache = fed, object()  # type: ignore[assignment]
        return request

    def test_decoding_requests_go_first_then_prompt_chunks_in_arrival_order_within_the_budget(self) -> None:
        long, short, decoding = self.request(10, fed=2), self.request(3), self.request(4, fed=4, generated=1)
        batch = plan_batch([long, short, decoding], 6, 8, lambda _: True)
        self.assertEqual([(decoding, 4, 1), (long, 2, 5)], [(entry.request, entry.start, entry.tokens) for entry in batch])
        self.assertEqual([True, False], [entry.takes_token for entry in batch])
        batch = plan_batch([long, short], 12, 8, lambda _: True)
        self.assertEqual([(long, 2, 8), (short, 0, 3)], [(entry.request, entry.start, entry.tokens) for entry in batch])

    def test_a_pass_takes_at_most_its_requests_and_leaves_out_one_refused_a_cache(self) -> None:
        first, refused, third, fourth = (self.request(2) for _ in range(4))
        refused.cache = third.cache = fourth.cache = None
        allocated = []

        def allocate(request: LlamaRequest) -> bool:
            if request is refused:
                return False
            request.cache = allocated.append(request) or object()  # type: ignore[func-returns-value]
            return True

        batch = plan_batch([first, refused, third, fourth], 100, 2, allocate)
        self.assertEqual([first, third], [entry.request for entry in batch])
        self.assertEqual([third], allocated)


class RunnerTests(DaemonTestCase):
    def setUp(self) -> None:
        super().setUp()
        temporary = tempfile.TemporaryDirectory()
        self.addCleanup(temporary.cleanup)
        write_checkpoint(temporary.name)
        self.runner = LlamaRunner.open(self.client, temporary.name, max_batch_tokens=4, max_batch_requests=2, max_ops_per_step=18, page_tokens=3)
        self.addCleanup(self.runner.close)

    def test_tokens_stream_as_they_come_and_a_stop_token_ends_the_request(self) -> None:
        expected = self.runner.generate([1, 2, 3], 10)
        self.assertEqual(10, len(expected))
        request = self.runner.start([1, 2, 3], 10, stop_tokens=[expected[3]])
        streamed = list(request)
        self.assertEqual(expected[: expected.index(expected[3]) + 1], streamed)
        self.assertEqual(streamed, request.result())

    def test_a_cancelled_request_ends_alone_and_the_others_decode_on(self) -> None:
        expected = self.runner.generate([4, 5], 6)
        doomed = self.runner.start([1, 2, 3, 4, 5, 6, 7], 50)
        survivor = self.runner.start([4, 5], 6)
        doomed.cancel()
        with self.assertRaises(CancelledError):
            doomed.result()
        with self.assertRaises(CancelledError):
            list(doomed)
        self.assertEqual(expected, survivor.result())

    def test_kept_logits_are_those_each_token_was_chosen_from(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            write_checkpoint(directory)
            with LlamaRunner.open(self.client, directory, name="kept", keep_logits=True) as runner:
                request = runner.start([1, 2, 3], 4)
                tokens = request.result()
        self.assertEqual(4, len(request.logits))
        for token, logits in zip(tokens, request.logits, strict=True):
            self.assertEqual(32, len(logits))
            self.assertEqual(logits.index(max(logits)), token)

    def test_a_bad_prompt_is_refused_and_the_runner_goes_on(self) -> None:
        with self.assertRaisesRegex(ValueError, "outside the vocabulary"):
            self.runner.start([3, 32], 1)
        self.assertEqual(5, len(self.runner.generate([5], 5)))

    def test_closing_fails_the_requests_under_way(self) -> None:
        request = self.runner.start([1, 2, 3, 4, 5, 6, 7], 50)
        self.runner.close()
        with self.assertRaises(RunnerClosed):
            request.result()
        with self.assertRaises(RunnerClosed):
            list(request)
        with self.assertRaisesRegex(RunnerClosed, "closed"):
            self.runner.start([1], 1)

    def test_a_lost_connection_stops_the_runner_failing_every_request_and_refusing_new_ones(self) -> None:
        # Three requests for a pass of two: one waits, unless the runner has yet to take any up.
        requests = [self.runner.start([1, 2, 3, 4, 5, 6, 7], 50) for _ in range(3)]
        self.client.close()
        for request in requests:
            with self.assertRaises(ConnectionLost):
                request.result()
        with self.assertRaisesRegex(RuntimeError, "the runner stopped: .*connection") as raised:
            self.runner.start([1], 1)
        self.assertIsInstance(raised.exception.__cause__, ConnectionLost)

    def test_options_are_checked_against_the_model(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            write_checkpoint(directory, {"model_type": "qwen2"})
            with self.assertRaisesRegex(ValueError, "max_ops_per_step is 18; it must be at least 21"):
                LlamaRunner.open(self.client, directory, max_batch_requests=2, max_ops_per_step=18)

    def test_a_runner_closes_quietly_after_its_session(self) -> None:
        request = self.runner.start([1, 2, 3], 50)
        self.client.close()
        self.runner.close()
        # Failed by the lost session, or by the close if the runner had not taken it up yet.
        with self.assertRaises((GpuMuxError, RunnerClosed)):
            request.result()


if __name__ == "__main__":
    unittest.main()
