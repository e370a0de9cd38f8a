"""gpumux: the Python client of gpumuxd, the daemon that lets many processes share one GPU.

>>> import gpumux
>>> with gpumux.connect() as gm:
...     region, buffer = gm.region(4096), gm.buffer(4096)
...     gm.step().launch(gm.builtin("fill_f32"), 4, 256, buffer, 1.5, 1024).copy_out(buffer, region).run()
...     region.view(format="f")[0]
1.5
"""

from .client import Client, Device, connect, resolve_socket
from .decorator import current, gpu
from .errors import *  # noqa: F403  (one exception class per protocol error code)
from .errors import ConnectionLost, GpuMuxError
from .lease import Lease, LeaseInfo, Quota, TenantInfo
from .region import Region, RegionSlice
from .resources import Buffer, BufferView, Function, Model, Module, Scalar, Tensor, f32, f64, i32, i64, u32, u64
from .step import Step, StepResult

__version__ = "1.6.0"
