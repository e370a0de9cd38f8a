"""A model directory in the Hugging Face layout: ``config.json`` and the weights, in one
``model.safetensors`` or sharded with ``model.safetensors.index.json``."""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass

from ..region import create_memfd
from .config import CheckpointError, LlamaConfig, read_config

INDEX_FILE = "model.safetensors.index.json"
EMBEDDING = "model.embed_tokens.weight"
FINAL_NORM = "model.norm.weight"
LM_HEAD = "lm_head.weight"
# A layer's weights by the part of the name after "model.layers.N.", in the order the checkpoint writes them.
LAYER_PARTS = (
    "input_layernorm.weight",
    "self_attn.q_proj.weight",
    "self_attn.k_proj.weight",
    "self_attn.v_proj.weight",
    "self_attn.o_proj.weight",
    "post_attention_layernorm.weight",
    "mlp.gate_proj.weight",
    "mlp.up_proj.weight",
    "mlp.down_proj.weight",
)
# The biases of a layer's q, k and v projections where the config's qkv_bias is set, named as LAYER_PARTS.
QKV_BIAS_PARTS = (
    "self_attn.q_proj.bias",
    "self_attn.k_proj.bias",
    "self_attn.v_proj.bias",
)
_MAX_HEADER_BYTES = 100 << 20
_COPY_CHUNK = 4 << 20


def layer_tensor(layer: int, part: str) -> str:
    return f"model.layers.{layer}.{part}"


@dataclass(frozen=True, slots=True)
class CheckpointTensor:
    """One tensor as its file's safetensors header describes it: its bytes lie at ``begin:end`` of
    the data section of file ``file`` (an index into the checkpoint's files)."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    file: int
    begin: int
    end: int

    @property
    def layer(self) -> int:
        """The layer of a ``model.layers.N.`` tensor; -1 for the others (embedding, final norm, LM head)."""
        prefix = "model.layers."
        if not self.name.startswith(prefix):
            return -1
        number, dot, _ = self.name[len(prefix) :].partition(".")
        return int(number) if dot and number.isdecimal() else -1


def read_safetensors_header(path: str, file_index: int) -> tuple[list[CheckpointTensor], int]:
    """The tensors of a safetensors file, and where its data section starts. The daemon checks the
    file in full when it is registered; this reads what the runner plans with."""
    with open(path, "rb") as file:
        prefix = file.read(8)
        if len(prefix) != 8:
            raise CheckpointError(f"{path}: shorter than a safetensors header's length")
        (length,) = struct.unpack("<Q", prefix)
        if length == 0 or length > _MAX_HEADER_BYTES:
            raise CheckpointError(f"{path}: a safetensors header of {length} bytes; it must be 1 to {_MAX_HEADER_BYTES}")
        header = file.read(length)
        data_bytes = os.fstat(file.fileno()).st_size - 8 - len(header)
    if len(header) != length:
        raise CheckpointError(f"{path}: the file ends inside its {length}-byte safetensors header")
    try:
        root = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: the safetensors header is not JSON: {error}") from error
    if not isinstance(root, dict):
        raise CheckpointError(f"{path}: the safetensors header is not a JSON object")
    tensors = [_tensor(name, entry, file_index, path) for name, entry in root.items() if name != "__metadata__"]
    for tensor in tensors:
        if tensor.begin < 0 or tensor.begin > tensor.end or tensor.end > data_bytes or any(d < 0 for d in tensor.shape):
            raise CheckpointError(
                f"{path}: tensor '{tensor.name}' lies at [{tensor.begin}, {tensor.end}) of a {data_bytes}-byte data section, or has a negative dimension"
            )
    return tensors, 8 + length


def _tensor(name: str, entry: object, file_index: int, path: str) -> CheckpointTensor:
    fields = (entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")) if isinstance(entry, dict) else (None, None, None)
    match fields:
        case (str(dtype), list(shape), [int(begin), int(end)]) if all(_is_int(value) for value in (*shape, begin, end)):
            return CheckpointTensor(name, dtype, tuple(shape), file_index, begin, end)
    raise CheckpointError(f"{path}: tensor '{name}' lacks a dtype, a shape of integers or two data_offsets")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class LlamaCheckpoint:
    """A model directory, read and checked: every weight the config calls for is there with its
    shape and a type the built-in kernels take (F16 or BF16)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        config_path = os.path.join(directory, "config.json")
        if not os.path.isfile(config_path):
            raise CheckpointError(f"{directory}: no config.json; a model directory holds config.json and its safetensors weights")
        self.config: LlamaConfig = read_config(config_path)
        self.files: list[str] = _weight_files(directory)
        self.tensors: list[CheckpointTensor] = []
        self.data_starts: list[int] = []
        for index, path in enumerate(self.files):
            found, data_start = read_safetensors_header(path, index)
            self.tensors += sorted(found, key=lambda tensor: tensor.begin)
            self.data_starts.append(data_start)
        self.by_name = {tensor.name: tensor for tensor in self.tensors}
        self._check_weights()

    def layer_groups(self) -> list[int]:
        """Tensors per layer group, in registration order: a group per run of one layer's tensors
        (and of the others'), so the first layers compute while later ones still load."""
        groups: list[int] = []
        current: tuple[int, int] | None = None
        for tensor in self.tensors:
            key = (tensor.file, tensor.layer)
            if key == current:
                groups[-1] += 1
            else:
                groups.append(1)
                current = key
        return groups

    def weight_fd(self) -> int:
        """A descriptor of the weights as one safetensors file, for ``RegisterModel``; the caller
        closes it. The daemon takes one file per model, so shards are joined into a memfd, tensors
        in the same order, which costs host memory the size of the weights until it is closed."""
        if len(self.files) == 1:
            return os.open(self.files[0], os.O_RDONLY | os.O_CLOEXEC)
        header = _joined_header(self.tensors)
        fd = create_memfd("gpumux-checkpoint", 8 + len(header) + sum(t.end - t.begin for t in self.tensors))
        try:
            os.pwrite(fd, struct.pack("<Q", len(header)) + header, 0)
            at = 8 + len(header)
            for index, path in enumerate(self.files):
                with open(path, "rb") as shard:
                    for tensor in (t for t in self.tensors if t.file == index):
                        shard.seek(self.data_starts[index] + tensor.begin)
                        for offset in range(tensor.begin, tensor.end, _COPY_CHUNK):
                            chunk = shard.read(min(_COPY_CHUNK, tensor.end - offset))
                            if len(chunk) != min(_COPY_CHUNK, tensor.end - offset):
                                raise CheckpointError(f"{path}: the file ends inside tensor {tensor.name}")
                            at += os.pwrite(fd, chunk, at)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _check_weights(self) -> None:
        config = self.config
        biases = {layer_tensor(layer, part) for layer in range(config.num_hidden_layers) for part in QKV_BIAS_PARTS} if config.qkv_bias else set()
        bias = next((tensor.name for tensor in self.tensors if tensor.name.endswith(".bias") and tensor.name not in biases), None)
        if bias is not None:
            raise CheckpointError(
                f"{self.directory}: the weights hold {bias}; the runner adds biases to the q, k and v projections only, where config.json's model_type is qwen2"
            )
        hidden, intermediate, vocab = config.hidden_size, config.intermediate_size, config.vocab_size
        kv = config.num_key_value_heads * config.head_dim
        self._expect(EMBEDDING, vocab, hidden)
        self._expect(FINAL_NORM, hidden)
        if not config.tie_word_embeddings:
            self._expect(LM_HEAD, vocab, hidden)
        shapes = ((hidden,), (hidden, hidden), (kv, hidden), (kv, hidden), (hidden, hidden), (hidden,), (intermediate, hidden), (intermediate, hidden), (hidden, intermediate))
        for layer in range(config.num_hidden_layers):
            for part, shape in zip(LAYER_PARTS, shapes, strict=True):
                self._expect(layer_tensor(layer, part), *shape)
            if config.qkv_bias:
                for part, shape in zip(QKV_BIAS_PARTS, ((hidden,), (kv,), (kv,)), strict=True):
                    self._expect(layer_tensor(layer, part), *shape)

    def _expect(self, name: str, *shape: int) -> None:
        tensor = self.by_name.get(name)
        if tensor is None:
            raise CheckpointError(f"{self.directory}: the weights lack {name}, which config.json calls for")
        if tensor.shape != shape:
            raise CheckpointError(f"{self.directory}: {name} is {_dims(tensor.shape)}; config.json makes it {_dims(shape)}")
        if tensor.dtype not in ("F16", "BF16"):
            raise CheckpointError(f"{self.directory}: {name} is {tensor.dtype}; the runner's kernels take F16 or BF16 weights")


def _dims(shape: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, shape))}]"


def _weight_files(directory: str) -> list[str]:
    index = os.path.join(directory, INDEX_FILE)
    if os.path.isfile(index):
        with open(index, "rb") as file:
            root = json.load(file)
        weight_map = root.get("weight_map") if isinstance(root, dict) else None
        if not isinstance(weight_map, dict):
            raise CheckpointError(f'{index}: no "weight_map" object')
        shards = sorted({shard if isinstance(shard, str) else "" for shard in weight_map.values()})
        for shard in shards:
            if not shard or os.path.basename(shard) != shard:
                raise CheckpointError(f"{index}: '{shard}' is not a file name in the model's directory")
        return [os.path.join(directory, shard) for shard in shards]
    single = os.path.join(directory, "model.safetensors")
    if not os.path.isfile(single):
        raise CheckpointError(f"{directory}: neither model.safetensors nor {INDEX_FILE}")
    return [single]


def _joined_header(tensors: list[CheckpointTensor]) -> bytes:
    """One header for every shard's tensors, in checkpoint order, padded with spaces to 8 bytes as the format asks."""
    header = {}
    offset = 0
    for tensor in tensors:
        size = tensor.end - tensor.begin
        header[tensor.name] = {"dtype": tensor.dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return encoded + b" " * (-len(encoded) % 8)
