"""One forward pass of a batch written as steps, launch for launch as the .NET client's runner
writes it (src/GpuMux.Client/Llama/LlamaForward.cs), so both give the same tokens bit for bit."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..resources import f32, u32, u64
from .checkpoint import EMBEDDING, FINAL_NORM, LAYER_PARTS, LM_HEAD, QKV_BIAS_PARTS, LlamaCheckpoint, layer_tensor

if TYPE_CHECKING:
    from ..client import Client
    from ..resources import BufferView, Function, Model, Tensor
    from ..step import Step
    from .config import LlamaConfig
    from .runner import LlamaRequest

_BLOCK = 256
_WARPS_PER_BLOCK = _BLOCK // 32
_MAX_GRID = 4096
_HEAD_OPS = 4
_LAUNCHES_PER_LAYER = 13
_INPUT_NORM, _Q, _K, _V, _O, _POST_NORM, _GATE, _UP, _DOWN, _Q_BIAS, _K_BIAS, _V_BIAS = range(len(LAYER_PARTS) + len(QKV_BIAS_PARTS))


def layer_ops(config: LlamaConfig, requests: int) -> int:
    """The ops of one layer for a batch of ``requests``: 13 launches, 3 more for q, k and v biases, and an append and an attention per request."""
    return _LAUNCHES_PER_LAYER + (3 if config.qkv_bias else 0) + 2 * requests


def pages_for(positions: int, page_tokens: int) -> int:
    return (positions + page_tokens - 1) // page_tokens


@dataclass(frozen=True, slots=True)
class BatchEntry:
    """One request's part of a forward pass: ``tokens`` of its input from position ``start``."""

    request: LlamaRequest
    start: int
    tokens: int

    @property
    def takes_token(self) -> bool:
        """The chunk ends the request's input so far, so its logits choose the next token."""
        return self.start + self.tokens == self.request.input_length


def plan_batch(active: list[LlamaRequest], max_tokens: int, max_requests: int, allocate: Callable[[LlamaRequest], bool]) -> list[BatchEntry]:
    """The next pass: decoding requests first, a token each, then prompt chunks in arrival order
    with what is left. ``allocate(request)`` gives a request its cache when it first runs, and
    returns False for one that could not have it (that request is left out)."""
    batch: list[BatchEntry] = []
    tokens = 0
    for request in sorted(active, key=lambda r: r.fed < r.input_length - 1):
        take = min(request.input_length - request.fed, max_tokens - tokens)
        if take == 0 or len(batch) == max_requests:
            break
        if request.cache is None and not allocate(request):
            continue
        batch.append(BatchEntry(request, request.fed, take))
        tokens += take
    return batch


@dataclass(frozen=True, slots=True)
class _Weight:
    tensor: Tensor
    dtype: str


class LlamaScratch:
    """The runner's working memory, sized for its largest pass and reused by every one: the
    activations (f32, a row per token fed) as slices of one device buffer, since the daemon hands
    buffers out in whole pages; and one region through which token ids and positions go in and
    chosen tokens (and, when kept, their logits) come out. Each request's cache is a buffer of its
    own, so one identity page table serves all of them. The slices are byte offsets into ``device``."""

    # Each slice starts on a boundary wide enough for any kernel's loads.
    _ALIGNMENT = 256

    def __init__(self, client: Client, checkpoint: LlamaCheckpoint, max_tokens: int, max_requests: int, max_pages: int, keep_logits: bool) -> None:
        config = checkpoint.config
        self.max_tokens, self.max_requests, self.max_pages = max_tokens, max_requests, max_pages
        hidden, kv = max_tokens * config.hidden_size, max_tokens * config.num_key_value_heads * config.head_dim
        intermediate, logits = max_tokens * config.intermediate_size, max_requests * config.vocab_size
        self._end = 0
        self.x, self.h, self.q, self.k, self.v, self.attention = map(self._take, (hidden, hidden, hidden, kv, kv, hidden))
        self.gate, self.up, self.logits = map(self._take, (intermediate, intermediate, logits))
        self.ids, self.positions, self.chosen, self.page_table = map(self._take, (max_tokens, max_tokens, max_requests, max_pages))
        self.ids_at, self.positions_at, self.chosen_at = 0, max_tokens * 4, max_tokens * 8
        self.page_table_at = self.chosen_at + max_requests * 4
        self.logits_at = self.page_table_at + max_pages * 4
        self.logits_bytes = logits * 4 if keep_logits else 0
        self.device = client.buffer(self._end)
        try:
            self.region = client.region(self.logits_at + self.logits_bytes)
            try:
                table = self.region[self.page_table_at : self.logits_at]
                table.write(struct.pack(f"<{max_pages}I", *range(max_pages)))
                client.step().copy_in(self.at(self.page_table), table).run()
            except BaseException:
                self.region.release()
                raise
        except BaseException:
            self.device.free()
            raise

    def at(self, offset: int) -> BufferView:
        """The device buffer from ``offset``: a slice, or a row of one."""
        return self.device[offset:]

    def close(self) -> None:
        self.region.release()
        self.device.free()

    def _take(self, floats: int) -> int:
        at = self._end
        self._end = (at + floats * 4 + self._ALIGNMENT - 1) // self._ALIGNMENT * self._ALIGNMENT
        return at


class LlamaForward:
    """Writes a pass: each request's next tokens in a row each of the activations, every layer's
    launches in order, then the logits and a token for each request whose chunk ends its input. A
    pass longer than a step may be is split between layers into steps that run one after another,
    since a session's steps run in submission order."""

    def __init__(self, client: Client, checkpoint: LlamaCheckpoint, model: Model, scratch: LlamaScratch, page_tokens: int, max_ops_per_step: int) -> None:
        self._client, self._model, self._scratch = client, model, scratch
        self._config = checkpoint.config
        self._page_tokens, self._max_ops_per_step = page_tokens, max_ops_per_step

        def weight(name: str) -> _Weight:
            return _Weight(model.tensor(name), checkpoint.by_name[name].dtype)

        self._embedding = weight(EMBEDDING)
        self._final_norm = weight(FINAL_NORM)
        self._lm_head = self._embedding if self._config.tie_word_embeddings else weight(LM_HEAD)
        # Each layer's weights in LAYER_PARTS' order, then its QKV_BIAS_PARTS where the config has them.
        parts = (*LAYER_PARTS, *QKV_BIAS_PARTS) if self._config.qkv_bias else LAYER_PARTS
        self._layers = [[weight(layer_tensor(layer, part)) for part in parts] for layer in range(self._config.num_hidden_layers)]
        names = ("rope_f32", "swiglu_f32", "add_f32", "argmax_f32", "sample_f32", "attention_paged_f32", "kv_append_f32")
        # bias_add is looked up only for a model with biases, so that a daemon without it still runs the others.
        stems = ("rmsnorm", "embedding", "matmul", "bias_add") if self._config.qkv_bias else ("rmsnorm", "embedding", "matmul")
        typed = [f"{stem}_{kind}" for stem in stems for kind in ("f16", "bf16")]
        self._kernels: dict[str, Function] = {name: client.builtin(name) for name in (*typed, *names)}
        self._steps: list[Step] = []
        self._step: Step = client.step()

    def build(self, batch: list[BatchEntry]) -> list[Step]:
        """The steps of a pass over ``batch``."""
        config, scratch = self._config, self._scratch
        self._steps = []
        self._next_step()
        tokens = self._write_inputs(batch)
        region = scratch.region
        self._step.copy_in(scratch.at(scratch.ids), region[scratch.ids_at : scratch.ids_at + tokens * 4])
        self._step.copy_in(scratch.at(scratch.positions), region[scratch.positions_at : scratch.positions_at + tokens * 4])
        self._launch(self._typed("embedding", self._embedding), _elements(tokens, config.hidden_size),
                     self._embedding.tensor, scratch.at(scratch.ids), scratch.at(scratch.x), u32(tokens), u32(config.vocab_size), u32(config.hidden_size))  # fmt: skip

        ops_left = self._max_ops_per_step - _HEAD_OPS - 1
        for layer in range(config.num_hidden_layers):
            if layer_ops(config, len(batch)) > ops_left:
                self._next_step()
                ops_left = self._max_ops_per_step - 1
            self._layer(self._layers[layer], layer, batch, tokens)
            ops_left -= layer_ops(config, len(batch))

        # The final norm, an LM head launch and a draw per choosing entry at most, one argmax, the copies out.
        if 4 + 2 * sum(1 for entry in batch if entry.takes_token) > ops_left:
            self._next_step()
        self._tail(batch, tokens)
        return self._steps

    def chosen_tokens(self, count: int) -> tuple[int, ...]:
        """The tokens chosen for the entries that take one, in batch order, once the pass's last step completes."""
        return struct.unpack_from(f"<{count}I", self._scratch.region.mapping, self._scratch.chosen_at)

    def chosen_logits(self, index: int) -> list[float]:
        """The logits the token at ``index`` was chosen from, when the runner keeps them."""
        vocab = self._config.vocab_size
        return self._scratch.region.view(self._scratch.logits_at + index * vocab * 4, vocab * 4, "f").tolist()

    def _write_inputs(self, batch: list[BatchEntry]) -> int:
        ids: list[int] = []
        positions: list[int] = []
        for entry in batch:
            ids += (entry.request.input_at(entry.start + i) for i in range(entry.tokens))
            positions += range(entry.start, entry.start + entry.tokens)
        scratch = self._scratch
        scratch.region.write(scratch.ids_at, struct.pack(f"<{len(ids)}I", *ids))
        scratch.region.write(scratch.positions_at, struct.pack(f"<{len(positions)}I", *positions))
        return len(ids)

    def _layer(self, w: list[_Weight], layer: int, batch: list[BatchEntry], tokens: int) -> None:
        config, scratch, page_tokens = self._config, self._scratch, self._page_tokens
        hidden, kv = config.hidden_size, config.num_key_value_heads * config.head_dim
        self._rms_norm(scratch.x, w[_INPUT_NORM], scratch.h, tokens)
        self._matmul(w[_Q], scratch.h, scratch.q, hidden, hidden, tokens)
        self._matmul(w[_K], scratch.h, scratch.k, kv, hidden, tokens)
        self._matmul(w[_V], scratch.h, scratch.v, kv, hidden, tokens)
        if config.qkv_bias:
            self._bias_add(w[_Q_BIAS], scratch.q, tokens, hidden)
            self._bias_add(w[_K_BIAS], scratch.k, tokens, kv)
            self._bias_add(w[_V_BIAS], scratch.v, tokens, kv)
        self._rope(scratch.q, tokens, hidden)
        self._rope(scratch.k, tokens, kv)

        scale = _f32(1.0 / _f32(math.sqrt(config.head_dim)))
        row = 0
        for entry in batch:
            cache, pages = entry.request.cache, entry.request.pages
            cache_bytes = pages * page_tokens * kv * 4
            k_at, v_at = layer * 2 * cache_bytes, (layer * 2 + 1) * cache_bytes
            count, start = entry.tokens, entry.start
            self._launch(self._kernels["kv_append_f32"], _elements(count, kv),
                         scratch.at(scratch.k + row * kv * 4), scratch.at(scratch.v + row * kv * 4), cache[k_at:], cache[v_at:], scratch.at(scratch.page_table),
                         u32(count), u32(config.num_key_value_heads), u32(config.head_dim),
                         u32(page_tokens), u32(pages), u32(pages), u32(start))  # fmt: skip
            self._launch(self._kernels["attention_paged_f32"], _warps(count * config.num_attention_heads),
                         scratch.at(scratch.q + row * hidden * 4), cache[k_at:], cache[v_at:], scratch.at(scratch.page_table), scratch.at(scratch.attention + row * hidden * 4),
                         u32(count), u32(config.num_attention_heads), u32(config.num_key_value_heads), u32(config.head_dim),
                         u32(page_tokens), u32(pages), u32(pages), u32(start), f32(scale))  # fmt: skip
            row += count

        self._matmul(w[_O], scratch.attention, scratch.h, hidden, hidden, tokens)
        self._add(scratch.x, scratch.h, tokens * hidden)
        self._rms_norm(scratch.x, w[_POST_NORM], scratch.h, tokens)
        intermediate = config.intermediate_size
        self._matmul(w[_GATE], scratch.h, scratch.gate, intermediate, hidden, tokens)
        self._matmul(w[_UP], scratch.h, scratch.up, intermediate, hidden, tokens)
        gate = scratch.at(scratch.gate)
        self._launch(self._kernels["swiglu_f32"], _elements(tokens, intermediate), gate, scratch.at(scratch.up), gate, u64(tokens * intermediate))
        self._matmul(w[_DOWN], scratch.gate, scratch.h, hidden, intermediate, tokens)
        self._add(scratch.x, scratch.h, tokens * hidden)

    def _tail(self, batch: list[BatchEntry], tokens: int) -> None:
        """The final norm, logits for the last row of each entry that takes a token (a run of such rows in one launch), then the choices."""
        config, scratch = self._config, self._scratch
        hidden, vocab = config.hidden_size, config.vocab_size
        self._rms_norm(scratch.x, self._final_norm, scratch.h, tokens)
        last_rows: list[int] = []
        row = 0
        for entry in batch:
            row += entry.tokens
            if entry.takes_token:
                last_rows.append(row - 1)

        first = 0
        while first < len(last_rows):
            count = 1
            while first + count < len(last_rows) and last_rows[first + count] == last_rows[first] + count:
                count += 1
            self._matmul(self._lm_head, scratch.h + last_rows[first] * hidden * 4, scratch.logits + first * vocab * 4, vocab, hidden, count)
            first += count

        choosing = [entry for entry in batch if entry.takes_token]
        if not choosing:
            return
        if any(entry.request.generation.greedy for entry in choosing):
            self._launch(self._kernels["argmax_f32"], _warps(len(choosing)), scratch.at(scratch.logits), scratch.at(scratch.chosen), u32(len(choosing)), u32(vocab))
        for index, entry in enumerate(choosing):
            generation = entry.request.generation
            if not generation.greedy:
                self._launch(self._kernels["sample_f32"], _warps(1),
                             scratch.at(scratch.logits + index * vocab * 4), scratch.at(scratch.chosen + index * 4), u32(1), u32(vocab),
                             u64(generation.seed), u32(entry.request.next_step), f32(generation.temperature),
                             u32(max(0, generation.top_k)), f32(generation.top_p))  # fmt: skip
        self._step.copy_out(scratch.at(scratch.chosen), scratch.region[scratch.chosen_at : scratch.chosen_at + len(choosing) * 4])
        if scratch.logits_bytes > 0:
            self._step.copy_out(scratch.at(scratch.logits), scratch.region[scratch.logits_at : scratch.logits_at + len(choosing) * vocab * 4])

    def _typed(self, stem: str, weight: _Weight) -> Function:
        return self._kernels[f"{stem}_{'bf16' if weight.dtype == 'BF16' else 'f16'}"]

    def _rms_norm(self, x: int, w: _Weight, y: int, rows: int) -> None:
        config, at = self._config, self._scratch.at
        self._launch(self._typed("rmsnorm", w), _warps(rows), at(x), w.tensor, at(y), u32(rows), u32(config.hidden_size), f32(config.rms_norm_eps))

    def _matmul(self, w: _Weight, x: int, y: int, rows: int, cols: int, tokens: int) -> None:
        at = self._scratch.at
        self._launch(self._typed("matmul", w), _warps(rows * ((tokens + 7) // 8)), w.tensor, at(x), at(y), u32(rows), u32(cols), u32(tokens))

    def _bias_add(self, bias: _Weight, y: int, rows: int, cols: int) -> None:
        self._launch(self._typed("bias_add", bias), _elements(rows, cols), self._scratch.at(y), bias.tensor, u32(rows), u32(cols))

    def _rope(self, x: int, tokens: int, width: int) -> None:
        config, scratch = self._config, self._scratch
        self._launch(self._kernels["rope_f32"], _elements(tokens, width // 2),
                     scratch.at(x), scratch.at(scratch.positions), u32(tokens), u32(width), u32(config.head_dim), f32(config.rope_theta))  # fmt: skip

    def _add(self, y: int, x: int, count: int) -> None:
        self._launch(self._kernels["add_f32"], _elements(count), self._scratch.at(y), self._scratch.at(x), u64(count))

    def _launch(self, function: Function, shape: tuple[int, int], *args: Any) -> None:
        self._step.launch(function, shape[0], shape[1], *args)

    def _next_step(self) -> None:
        self._step = self._client.step().use_model(self._model)
        self._steps.append(self._step)


def _f32(value: float) -> float:
    """``value`` rounded to a float, as C# computes in single precision."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _grid(blocks: int) -> int:
    return min(max(blocks, 1), _MAX_GRID)


def _warps(warps: int) -> tuple[int, int]:
    return _grid((warps + _WARPS_PER_BLOCK - 1) // _WARPS_PER_BLOCK), _BLOCK


def _elements(count: int, width: int = 1) -> tuple[int, int]:
    return _grid((count * width + _BLOCK - 1) // _BLOCK), _BLOCK
