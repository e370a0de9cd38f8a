"""The model runner: requests from any thread, advanced together by one background thread that
runs forward passes while any are under way (continuous batching)."""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConnectionLost, GpuMuxError, OutOfMemory
from .checkpoint import LlamaCheckpoint
from .config import LlamaConfig
from .forward import BatchEntry, LlamaForward, LlamaScratch, layer_ops, pages_for, plan_batch

if TYPE_CHECKING:
    from ..client import Client
    from ..resources import Buffer, Model
    from ..step import Step, StepResult

# After a pass too big for the device, passes take fewer requests; this many passes at the smaller
# size before trying one more, so that a device that stays full costs one failed pass in this many.
_PASSES_BEFORE_GROWING = 16


class RunnerClosed(RuntimeError):
    """The runner was closed before the request ended."""


@dataclass(frozen=True, slots=True)
class Generation:
    """How a request picks its tokens, and when it stops: see :meth:`LlamaRunner.start`."""

    max_new_tokens: int
    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0
    stop_tokens: frozenset[int] = frozenset()

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    """How a runner lays its work out in steps and device memory (see :meth:`LlamaRunner.open`)."""

    page_tokens: int = 16
    max_batch_tokens: int = 256
    max_batch_requests: int = 32
    max_ops_per_step: int = 256
    max_steps_in_flight: int = 4
    keep_logits: bool = False
    spillable_caches: bool = True

    def problems(self, config: LlamaConfig) -> list[str]:
        """One line per problem with ``config``'s model; empty when the runner can work with them."""
        # The largest layer: every request's append and attention with the layer's other launches, and a step's UseModel.
        largest_layer = layer_ops(config, self.max_batch_requests) + 1
        minimums = (
            ("page_tokens", self.page_tokens, 1, ""),
            ("max_steps_in_flight", self.max_steps_in_flight, 1, ""),
            ("max_batch_requests", self.max_batch_requests, 1, ""),
            ("max_batch_tokens", self.max_batch_tokens, self.max_batch_requests, ", max_batch_requests"),
            ("max_ops_per_step", self.max_ops_per_step, largest_layer, ", a layer of max_batch_requests requests and its UseModel"),
        )  # fmt: skip
        return [f"{name} is {value}; it must be at least {least}{why}" for name, value, least, why in minimums if value < least]


def check_prompt(config: LlamaConfig, prompt: list[int], max_new_tokens: int) -> int:
    """The positions a request takes, its prompt's and its longest output's; raises ``ValueError``
    for an empty prompt, an id outside the vocabulary, or more positions than the model has."""
    if not prompt:
        raise ValueError("a prompt holds at least one token")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens is {max_new_tokens}; it must be at least 1")
    bad = next((token for token in prompt if not 0 <= token < config.vocab_size), None)
    if bad is not None:
        raise ValueError(f"token id {bad} is outside the vocabulary of {config.vocab_size}")
    positions = len(prompt) + max_new_tokens
    if positions > config.max_position_embeddings:
        raise ValueError(
            f"{len(prompt)} prompt tokens and up to {max_new_tokens} new ones pass the model's {config.max_position_embeddings} positions"
        )
    return positions


class LlamaRequest:
    """One prompt's generation under way: iterate over it for its tokens as they come, or wait for
    :meth:`result`. Its KV cache is a device buffer of its own, in pages, freed when it ends."""

    def __init__(self, prompt: Sequence[int], generation: Generation, pages: int) -> None:
        self._prompt = list(prompt)
        self._generated: list[int] = []
        self._arrivals: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._future: Future[list[int]] = Future()
        self._cancelled = False
        self.logits: list[list[float]] = []
        """The logits each token was chosen from, in order, when the runner keeps them (``keep_logits``)."""
        self.generation = generation
        self.pages = pages
        self.cache: Buffer | None = None
        self.fed = 0
        """Positions whose keys and values are in the cache."""

    def __iter__(self) -> Iterator[int]:
        """Each generated token as soon as the step that chose it completes; raises the request's failure, if it fails, after the tokens before it."""
        while (token := self._arrivals.get()) is not None:
            yield token
        self.result()

    def result(self, timeout: float | None = None) -> list[int]:
        """Every generated token, once the request ends; raises its failure if it fails."""
        return self._future.result(timeout)

    def done(self) -> bool:
        return self._future.done()

    def cancel(self) -> None:
        """Ends the request before the runner's next pass, freeing its cache; :meth:`result` then
        raises ``concurrent.futures.CancelledError``. The tokens delivered before stay delivered."""
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled

    @property
    def input_length(self) -> int:
        """Its input so far: the prompt, then each generated token."""
        return len(self._prompt) + len(self._generated)

    def input_at(self, position: int) -> int:
        prompt = len(self._prompt)
        return self._prompt[position] if position < prompt else self._generated[position - prompt]

    @property
    def next_step(self) -> int:
        """The step index the sampler seeds this request's next draw with."""
        return len(self._generated)

    def deliver(self, token: int) -> bool:
        """Records a chosen token and hands it on; True when the request is done."""
        self._generated.append(token)
        self._arrivals.put(token)
        return len(self._generated) >= self.generation.max_new_tokens or token in self.generation.stop_tokens

    def finish(self) -> None:
        self._future.set_result(list(self._generated))
        self._arrivals.put(None)

    def fail(self, reason: BaseException) -> None:
        if isinstance(reason, CancelledError):
            self._future.cancel()
        else:
            self._future.set_exception(reason)
        self._arrivals.put(None)


class LlamaRunner:
    """Runs a Llama-family model (Llama 2/3, Mistral, Qwen2 with its q, k and v biases, TinyLlama) through the
    daemon with the built-in kernels, as the .NET client's ``LlamaRunner`` does, token for token.

    The weights are registered as a model with a layer group per layer, so the first layers compute
    while the rest still load. Every forward pass advances every request under way: a token for each
    that is decoding, then a chunk of the prompt of each still prefilling, as far as
    ``max_batch_tokens`` allows. :meth:`start` may be called from any thread.
    """

    def __init__(self, client: Client, checkpoint: LlamaCheckpoint, model: Model, scratch: LlamaScratch, options: RunnerOptions) -> None:
        self.checkpoint = checkpoint
        self.model = model
        self._client = client
        self._scratch = scratch
        self._options = options
        self._forward = LlamaForward(client, checkpoint, model, scratch, options.page_tokens, options.max_ops_per_step)
        self._active: list[LlamaRequest] = []
        self._batch_limit = options.max_batch_requests
        self._passes_at_limit = 0
        self._arrivals: deque[LlamaRequest] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._failure: Exception | None = None
        self._in_request = False
        # A daemon before protocol 1.6 keeps every buffer on the device.
        self._spillable = options.spillable_caches and client.minor >= 6
        self._loop = threading.Thread(target=self._run, name=f"gpumux-llama-{model.name}", daemon=True)
        self._loop.start()

    @classmethod
    def open(
        cls,
        client: Client,
        directory: str | os.PathLike[str],
        *,
        name: str | None = None,
        page_tokens: int = 16,
        max_batch_tokens: int = 256,
        max_batch_requests: int = 32,
        max_ops_per_step: int = 256,
        max_steps_in_flight: int = 4,
        keep_logits: bool = False,
        spillable_caches: bool = True,
    ) -> LlamaRunner:
        """Opens a model directory (``config.json`` and ``model.safetensors``, or shards with
        ``model.safetensors.index.json``), registers its weights and allocates the runner's memory.

        ``name``: the model's name at the daemon (the directory's name by default).
        ``page_tokens``: positions per page of a request's KV cache. ``max_batch_tokens`` and
        ``max_batch_requests``: the most tokens and requests one forward pass takes; a longer prompt
        is prefilled in chunks. ``max_ops_per_step``: the daemon's ``max_ops_per_step`` (a longer
        pass is split between layers). ``max_steps_in_flight``: the most steps of a pass submitted
        at once. ``keep_logits``: each request keeps the logits each of its tokens was chosen from
        (:attr:`LlamaRequest.logits`), a vocabulary's floats a token. ``spillable_caches``: requests'
        KV caches may be moved to the daemon's host memory while they are not running (protocol
        1.6; an older daemon keeps them on the device). Raises :class:`~gpumux.llama.CheckpointError` for a directory it cannot run, and
        ``ValueError`` for options it cannot work with that model; both say why.
        """
        options = RunnerOptions(page_tokens, max_batch_tokens, max_batch_requests, max_ops_per_step, max_steps_in_flight, keep_logits, spillable_caches)
        checkpoint = LlamaCheckpoint(os.fspath(directory))
        problems = options.problems(checkpoint.config)
        if problems:
            raise ValueError("; ".join(problems))
        fd = checkpoint.weight_fd()
        try:
            model = client.register_model(fd, name or Path(os.path.abspath(directory)).name, checkpoint.layer_groups())
        finally:
            os.close(fd)
        scratch: LlamaScratch | None = None
        try:
            max_pages = pages_for(checkpoint.config.max_position_embeddings, page_tokens)
            scratch = LlamaScratch(client, checkpoint, max_batch_tokens, max_batch_requests, max_pages, keep_logits)
            return cls(client, checkpoint, model, scratch, options)
        except BaseException:
            if scratch is not None:
                scratch.close()
            model.unregister()
            raise

    @property
    def config(self) -> LlamaConfig:
        return self.checkpoint.config

    def start(
        self,
        prompt: Sequence[int],
        max_new_tokens: int,
        *,
        temperature: float = 0.0,
        top_k: int = 0,
        top_p: float = 1.0,
        seed: int = 0,
        stop_tokens: Iterable[int] = (),
    ) -> LlamaRequest:
        """Starts generating from ``prompt`` (token ids): the request joins the next forward pass.

        ``temperature`` 0 decodes greedily (the most likely token, the lowest id among equals);
        above 0 the logits are divided by it and a token drawn among at most ``top_k`` (0, or above
        64: 64) of the likeliest whose probabilities reach ``top_p``, seeded by ``seed``: the same
        seed, prompt and model give the same tokens. A token of ``stop_tokens`` ends the request
        once generated (it is delivered). Raises ``ValueError`` for an empty prompt, an id outside
        the vocabulary, or a prompt that with its longest output passes the model's positions;
        :class:`RunnerClosed` once the runner is closed; and ``RuntimeError``, naming the cause
        (its ``__cause__``), once the runner has stopped because its connection was lost.
        """
        prompt = list(prompt)
        positions = check_prompt(self.config, prompt, max_new_tokens)
        generation = Generation(max_new_tokens, temperature, top_k, top_p, seed, frozenset(stop_tokens))
        request = LlamaRequest(prompt, generation, pages_for(positions, self._options.page_tokens))
        with self._wake:
            if self._closing:
                raise RunnerClosed("the runner is closed")
            if self._failure is not None:
                raise RuntimeError(f"the runner stopped: {self._failure}") from self._failure
            self._arrivals.append(request)
            self._wake.notify()
        return request

    def generate(self, prompt: Sequence[int], max_new_tokens: int, **generation: Any) -> list[int]:
        """Generates from ``prompt`` and returns the tokens; the arguments are :meth:`start`'s."""
        return self.start(prompt, max_new_tokens, **generation).result()

    def close(self) -> None:
        """Fails the requests under way, waits for the pass in flight, and frees the runner's memory and the model."""
        with self._wake:
            if self._closing:
                return
            self._closing = True
            self._wake.notify()
        self._loop.join()
        closed = RunnerClosed("the runner was closed before the request ended")
        for request in self._arrivals:
            request.fail(closed)
        self._arrivals.clear()
        for request in self._active:
            self._end(request, closed)
        self._active.clear()
        try:
            self._scratch.close()
            self.model.unregister()
        except ConnectionLost:
            pass  # The session is gone, and everything it held with it.

    def __enter__(self) -> LlamaRunner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> None:
        try:
            self._serve()
        except Exception as error:  # noqa: BLE001  (whatever broke the loop, the connection lost say, ends every request with it)
            # Recorded before any request fails, so that whoever sees one fail finds start() refusing.
            with self._wake:
                self._failure = error
                waiting = list(self._arrivals)
                self._arrivals.clear()
            for request in self._active:
                self._end(request, error)
            self._active.clear()
            for request in waiting:
                request.fail(error)

    def _serve(self) -> None:
        while True:
            if not self._active:
                self._end_model_request()
            with self._wake:
                while not self._active and not self._arrivals and not self._closing:
                    self._wake.wait()
                if self._closing:
                    return
                self._active += self._arrivals
                self._arrivals.clear()
            self._pass()

    def _pass(self) -> None:
        """One forward pass: decoding requests first, a token each, then prompt chunks in arrival order with what is left."""
        for request in [request for request in self._active if request.cancelled]:
            self._active.remove(request)
            self._end(request, CancelledError())
        batch = plan_batch(self._active, self._options.max_batch_tokens, self._batch_limit, self._allocate_cache)
        if not batch:
            return
        self._in_request = True
        try:
            self._submit(self._forward.build(batch))
        except ConnectionLost:
            raise  # Every later call would fail the same way: the runner stops, and this pass's requests with the others.
        except Exception as error:  # noqa: BLE001  (the pass's requests fail with whatever failed it)
            if isinstance(error, OutOfMemory) and len(batch) > 1:
                # Too big for the device together: fewer requests a pass, and these go again. Feeding
                # positions again rewrites the same keys and values, so nothing is undone.
                self._batch_limit = max(1, len(batch) // 2)
                self._passes_at_limit = 0
                return
            for entry in batch:
                self._active.remove(entry.request)
                self._end(entry.request, error)
            return
        if self._batch_limit < self._options.max_batch_requests:
            self._passes_at_limit += 1
            if self._passes_at_limit >= _PASSES_BEFORE_GROWING:
                self._batch_limit += 1
                self._passes_at_limit = 0
        self._deliver(batch, self._forward.chosen_tokens(sum(1 for entry in batch if entry.takes_token)))

    def _deliver(self, batch: list[BatchEntry], chosen: tuple[int, ...]) -> None:
        index = 0
        for entry in batch:
            request = entry.request
            request.fed += entry.tokens
            if not entry.takes_token:
                continue
            if self._options.keep_logits:
                request.logits.append(self._forward.chosen_logits(index))
            index += 1
            if request.deliver(chosen[index - 1]):
                self._active.remove(request)
                self._end(request, None)

    def _submit(self, steps: list[Step]) -> None:
        """Submits a pass's steps, at most ``max_steps_in_flight`` at a time, and waits for them all."""
        in_flight: deque[Future[StepResult]] = deque()
        try:
            for step in steps:
                if len(in_flight) == self._options.max_steps_in_flight:
                    in_flight.popleft().result()
                in_flight.append(step.submit())
            while in_flight:
                in_flight.popleft().result()
        finally:
            # A failed step leaves the later ones to finish before the pass is failed.
            for future in in_flight:
                future.exception()

    def _allocate_cache(self, request: LlamaRequest) -> bool:
        """Allocates a request's cache; a request the daemon refuses memory fails alone."""
        config = self.config
        kv = config.num_key_value_heads * config.head_dim
        try:
            request.cache = self._client.buffer(2 * config.num_hidden_layers * request.pages * self._options.page_tokens * kv * 4, self._spillable)
            return True
        except ConnectionLost:
            raise  # It stops the runner, this request with the others.
        except GpuMuxError as error:
            self._active.remove(request)
            request.fail(error)
            return False

    def _end(self, request: LlamaRequest, failure: BaseException | None) -> None:
        cache, request.cache = request.cache, None
        if cache is not None:
            try:
                cache.free()
            except GpuMuxError:
                pass  # A session that is gone has freed it already.
        if failure is None:
            request.finish()
        else:
            request.fail(failure)

    def _end_model_request(self) -> None:
        """Tells the daemon the model's requests are over for now (its ``request`` policy holds a
        model resident from a request's first step to its last), with a step that only ends it."""
        if not self._in_request:
            return
        self._in_request = False
        try:
            self._client.step().use_model(self.model).schedule(ends_request=True).run()
        except ConnectionLost:
            raise  # It stops the runner.
        except GpuMuxError:
            pass  # Nothing rides on it: the daemon frees the model's hold when the session ends anyway.
