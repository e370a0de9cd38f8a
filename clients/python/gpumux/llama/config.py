"""A Hugging Face ``config.json`` for ``LlamaForCausalLM``: the fields that fix a checkpoint's shapes and arithmetic."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

TORCH_DTYPES = {"float16": "F16", "bfloat16": "BF16", "float32": "F32"}
QWEN2_MODEL_TYPE = "qwen2"


class CheckpointError(ValueError):
    """A model directory the runner cannot run; the message says why."""


@dataclass(frozen=True, slots=True)
class LlamaConfig:
    """Qwen2 (``Qwen2ForCausalLM``: biases on the q, k and v projections) and Mistral (a sliding
    window) checkpoints read the same way. ``dtype`` is the safetensors name of ``torch_dtype``'s
    type: ``"F16"``, ``"BF16"`` or ``"F32"``. ``qkv_bias``: the q, k and v projections carry biases
    (``self_attn.{q,k,v}_proj.bias``), added after their matmuls, as ``model_type`` ``qwen2`` states."""

    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    max_position_embeddings: int = 2048
    dtype: str = "F16"
    tie_word_embeddings: bool = False
    qkv_bias: bool = False

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def problems(self) -> list[str]:
        """One line per problem; empty when the shapes are consistent."""
        counts = (
            ("hidden_size", self.hidden_size), ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers), ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.num_key_value_heads), ("vocab_size", self.vocab_size),
            ("max_position_embeddings", self.max_position_embeddings),
        )  # fmt: skip
        problems = [f"{name} is {value}; it must be at least 1" for name, value in counts if value < 1]
        if problems:
            return problems
        if self.hidden_size % self.num_attention_heads != 0:
            problems.append(f"hidden_size {self.hidden_size} is not a multiple of num_attention_heads {self.num_attention_heads}")
        elif self.head_dim % 2 != 0:
            problems.append(f"the head dimension {self.head_dim} is odd; rotary embedding rotates pairs")
        if self.num_attention_heads % self.num_key_value_heads != 0:
            problems.append(
                f"num_attention_heads {self.num_attention_heads} is not a multiple of num_key_value_heads {self.num_key_value_heads}"
            )
        if not (self.rms_norm_eps > 0) or not (self.rope_theta > 0):
            problems.append("rms_norm_eps and rope_theta must be positive")
        return problems


def read_config(path: str | os.PathLike[str]) -> LlamaConfig:
    """Reads a config.json; the fields Hugging Face may leave out take its LlamaConfig's defaults
    (a missing ``torch_dtype`` is float32, as Hugging Face reads it). A sliding window in use
    (Mistral's; Qwen2 states one with ``use_sliding_window`` false) shorter than the positions caps
    them, since within it attention is the same. ``model_type`` ``qwen2`` sets ``qkv_bias``; what
    the kernels do not compute (scaled rotary embedding, other biases) is refused."""
    with open(path, "rb") as file:
        try:
            root = json.load(file)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CheckpointError(f"{path}: not a model config: {error}") from error
    if not isinstance(root, dict):
        raise CheckpointError(f"{path}: not a JSON object")
    if root.get("rope_scaling") is not None:
        raise CheckpointError(f"{path}: rope_scaling is set; the built-in rotary embedding is unscaled, so the model would compute wrongly")
    for bias in ("attention_bias", "mlp_bias"):
        if root.get(bias) is True:
            # LlamaForCausalLM's attention_bias puts one on o_proj as well as on q, k and v.
            raise CheckpointError(f"{path}: {bias} is true; the runner adds biases to the q, k and v projections only (model_type {QWEN2_MODEL_TYPE})")

    def integer(name: str, default: int | None = None) -> int:
        value = root.get(name, default)
        if not _is_int(value):
            raise CheckpointError(f'{path}: "{name}" is missing or not a number')
        return value  # type: ignore[no-any-return]

    def number(name: str, default: float) -> float:
        value = root.get(name, default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise CheckpointError(f'{path}: "{name}" is missing or not a number')
        return float(value)

    heads = integer("num_attention_heads")
    positions = integer("max_position_embeddings", 2048)
    window = root.get("sliding_window")
    if root.get("use_sliding_window") is not False and _is_int(window):
        positions = min(positions, window)
    kv_heads = root.get("num_key_value_heads")
    torch_dtype = root.get("torch_dtype", "float32")
    if torch_dtype not in TORCH_DTYPES:
        raise CheckpointError(f"{path}: torch_dtype '{torch_dtype}' is not one of float16, bfloat16, float32")
    config = LlamaConfig(
        hidden_size=integer("hidden_size"),
        intermediate_size=integer("intermediate_size"),
        num_hidden_layers=integer("num_hidden_layers"),
        num_attention_heads=heads,
        num_key_value_heads=kv_heads if _is_int(kv_heads) else heads,
        vocab_size=integer("vocab_size"),
        rms_norm_eps=number("rms_norm_eps", 1e-6),
        rope_theta=number("rope_theta", 10000.0),
        max_position_embeddings=positions,
        dtype=TORCH_DTYPES[torch_dtype],
        tie_word_embeddings=root.get("tie_word_embeddings") is True,
        qkv_bias=root.get("model_type") == QWEN2_MODEL_TYPE,
    )
    head_dim = root.get("head_dim")
    if _is_int(head_dim) and config.num_attention_heads > 0 and head_dim != config.head_dim:
        raise CheckpointError(
            f"{path}: head_dim {head_dim} differs from hidden_size / num_attention_heads = {config.head_dim}; such models are not supported"
        )
    problems = config.problems()
    if problems:
        raise CheckpointError(f"{path}: {'; '.join(problems)}")
    return config


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
