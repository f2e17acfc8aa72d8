"""Where a model runs: ``run(op, **kwargs)`` performs one of ``lib.model_ops.OPS`` on it.

``InProcessRunner`` runs the app's own models (trained in this server) in the web process.
``lib.worker.SandboxedRunner`` runs a model from outside in its sandboxed worker process; both
return the same plain results, so callers (``lib.predict``, ``lib.explain``, via
``lib.exploration``) never know which one they hold.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from lib.model_ops import OPS, Result


@runtime_checkable
class ModelRunner(Protocol):
    """Runs operations on one model, wherever it lives."""

    def run(self, op: str, **kwargs: Any) -> Result:
        """Perform ``lib.model_ops.OPS[op]`` on the model with ``kwargs``; its result."""
        ...

    def close(self) -> None:
        """Release what holds the model (a worker process); later runs may start it again."""
        ...


class InProcessRunner:
    """A model the app built itself, run in this process."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def run(self, op: str, **kwargs: Any) -> Result:
        return OPS[op](self.model, **kwargs)

    def close(self) -> None:
        pass


def as_runner(model: Any) -> ModelRunner:
    """``model`` itself when it is a runner, else the in-process runner of a fitted model."""
    return model if isinstance(model, ModelRunner) else InProcessRunner(model)
