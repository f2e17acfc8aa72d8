"""Sandboxed model workers: a model from outside lives and runs only in its own process.

``SandboxedRunner(data)`` opens a model file's bytes in a new worker process, forked from a
pre-warmed forkserver and confined before it reads a byte (``_confine``): capped memory and
CPU time, no file writes, no network, no new processes, no signals to others. The web process
keeps only the model's checked description (``runner.info``) and the runner, whose ``run(op,
**kwargs)`` performs ``lib.model_ops.OPS[op]`` in the worker and parses the reply as data
(``_wire``), never as a pickle. A worker that crashes, hits a cap or times out is gone with its
model (``ModelStopped``); the web process and other workers carry on. At most
``Limits.max_workers`` workers live at once (``_pool``); idle ones are stopped and restart on
demand.
"""

from ._forkserver import warm_up
from ._pool import POOL, WorkersBusy
from ._runner import ModelStopped, SandboxedRunner

__all__ = ["POOL", "ModelStopped", "SandboxedRunner", "WorkersBusy", "warm_up"]
