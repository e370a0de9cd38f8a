"""Llama-family models run through gpumuxd with its built-in kernels: :class:`LlamaRunner`.

>>> from gpumux.llama import LlamaRunner
>>> with gpumux.connect() as gm, LlamaRunner.open(gm, "models/tiny") as runner:
...     runner.generate([1, 17, 200], max_new_tokens=8)
"""

from .checkpoint import CheckpointTensor, LlamaCheckpoint, read_safetensors_header
from .config import CheckpointError, LlamaConfig, read_config
from .runner import Generation, LlamaRequest, LlamaRunner, RunnerClosed, RunnerOptions

__all__ = [
    "CheckpointError",
    "CheckpointTensor",
    "Generation",
    "LlamaCheckpoint",
    "LlamaConfig",
    "LlamaRequest",
    "LlamaRunner",
    "RunnerClosed",
    "RunnerOptions",
    "read_config",
    "read_safetensors_header",
]
