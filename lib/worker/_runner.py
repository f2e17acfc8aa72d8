"""A model from outside, reached only through its sandboxed worker (a ``ModelRunner``)."""

from __future__ import annotations

import logging
import weakref
from typing import Any

import numpy as np

from lib.errors import PredictionError, UserError
from lib.model_info import MalformedFacts, ModelInfo, info_from_facts
from lib.model_ops import Result
from lib.safe_load import Limits
from lib.safe_load._messages import TRUST_HINT

from ._pool import POOL
from ._process import Stopped, Worker
from ._wire import MalformedReply

log = logging.getLogger(__name__)
MIB = 1024 * 1024
DOING = {
    "predict": "predicting these rows",
    "permutation": "measuring how much each column matters",
    "own_importance": "reading its own importances",
    "partial_dependence": "computing partial dependence",
}
# Exceptions a model raises on bad input; the same types are raised here so callers treat a
# sandboxed model's refusal as they treat an in-process one's.
REBUILT = {"ValueError": ValueError, "TypeError": TypeError, "KeyError": KeyError,
           "IndexError": IndexError}  # fmt: skip


class ModelStopped(UserError):
    """The model's worker crashed, hit a cap, timed out or misbehaved; the model is unloaded."""


class SandboxedRunner:
    """Runs ``lib.model_ops`` operations on a model held by a sandboxed worker process.

    The constructor opens ``data`` (the model file's bytes) in a new worker: it raises
    ``UnsafeModelError`` / ``ModelFileError`` when the file is refused, ``WorkersBusy`` when the
    server has no room. ``info`` is what the model said about itself, checked. A worker stopped
    for being idle, or for room, is restarted from ``data`` on the next request; one that
    crashed, hit a cap or timed out leaves the runner failed (``failure``), for good.
    """

    def __init__(self, data: bytes, limits: Limits | None = None, *, checks: bool = True,
                 _test_fault: str | None = None) -> None:  # fmt: skip
        self.data = data
        self.limits = limits if limits is not None else Limits.from_env_or_default()
        self._checks = checks
        self._test_fault = _test_fault
        self.failure: str | None = None
        self._worker = self._start()
        try:
            self.info: ModelInfo = info_from_facts(self._worker.facts)
        except MalformedFacts as error:
            self._worker.stop()
            log.warning("model worker sent malformed facts: %s", error)
            raise ModelStopped(_message("garbage", "", "opening the file", self.limits)) from None
        self.warnings = self._worker.warnings

    def _start(self) -> Worker:
        POOL.make_room(self.limits.max_workers)
        worker = Worker(self.data, self.limits, checks=self._checks, _test_fault=self._test_fault)
        POOL.add(worker)
        weakref.finalize(self, worker.stop)
        return worker

    @property
    def pid(self) -> int | None:
        """The worker process's id (for tests and logs)."""
        return self._worker.pid

    def run(self, op: str, **kwargs: Any) -> Result:
        if self.failure is not None:
            raise ModelStopped(self.failure)
        worker = self._worker
        if not POOL.begin(worker):  # stopped while idle: open the file again
            if self.failure is not None:  # ...unless another call failed meanwhile
                raise ModelStopped(self.failure)
            worker = self._worker = self._start()
            POOL.begin(worker)
        try:
            status, payload = worker.call(op, kwargs, max_reply_bytes=self._reply_bound(kwargs))
            if status == "ok":
                return _checked(op, payload, kwargs)
            if status == "failed":
                raise _rebuilt(payload)
            raise Stopped("memory" if status == "memory" else "garbage")
        except Stopped as stop:
            raise self._fail(op, stop.reason, stop.detail) from None
        except MalformedReply as error:
            log.warning("model worker sent a malformed reply: %s", error)
            raise self._fail(op, "garbage", "") from None
        finally:
            POOL.end(worker)

    def _fail(self, op: str, reason: str, detail: str) -> ModelStopped:
        # The first failure is the cause: calls queued behind it find the worker this stops.
        if self.failure is None:
            self.failure = _message(reason, detail, DOING.get(op, "running"), self.limits)
        log.warning("model worker stopped (%s) while running %s", f"{reason} {detail}".strip(), op)
        self._worker.stop()
        return ModelStopped(self.failure)

    def _reply_bound(self, kwargs: dict[str, Any]) -> int:
        rows = len(kwargs["X"]) if "X" in kwargs else 0
        classes = len(self.info.classes or [])
        return 64 * MIB + rows * (8 * (classes + 4) + 256)

    def close(self) -> None:
        self._worker.stop()


def _message(reason: str, detail: str, doing: str, limits: Limits) -> str:
    what = {
        "crash": f"crashed ({detail})" if detail else "crashed",
        "memory": f"needed more than {limits.child_memory_bytes:,} bytes of memory",
        "cpu": f"used more than {detail or 'its CPU-time limit'}",
        "time": f"did not finish within {detail or 'its time limit'}",
        "garbage": "sent back something that is not a valid answer",
    }.get(reason, "stopped")
    return (
        f"This model {what} while {doing}. Nothing else was affected: the app, your table and "
        f"other people's sessions carry on. The model was unloaded. {TRUST_HINT}"
    )


def _rebuilt(payload: dict[str, Any]) -> Exception:
    name = str(payload.get("error", ""))[:100]
    text = str(payload.get("message", ""))[:2000]
    if name in REBUILT:
        return REBUILT[name](text)
    return PredictionError(f"The model could not run on these rows ({name}: {text[:300]}).")


def _checked(op: str, payload: dict[str, Any], kwargs: dict[str, Any]) -> Result:
    """``payload`` if it has the shapes ``op`` gives for ``kwargs``; else MalformedReply."""
    n = len(kwargs["X"]) if "X" in kwargs else None
    width = kwargs["X"].shape[1] if "X" in kwargs and np.ndim(kwargs["X"]) == 2 else None

    def array(key: str, ndim: int, rows: int | None = None, numeric: bool = False) -> None:
        value = payload.get(key)
        if (
            not isinstance(value, np.ndarray)
            or value.ndim != ndim
            or (rows is not None and len(value) != rows)
            or (numeric and value.dtype.kind not in "biuf")
        ):
            raise MalformedReply(f"'{key}' is not what {op} gives")

    if op == "predict":
        y = payload.get("y")
        if not isinstance(y, np.ndarray) or y.ndim not in (1, 2) or len(y) != n:
            raise MalformedReply("'y' is not one prediction per row")
        if payload.get("proba") is not None:
            array("proba", 2, n, numeric=True)
    elif op == "permutation":
        array("mean", 1, width, numeric=True)
        array("std", 1, width, numeric=True)
    elif op == "own_importance" and payload:
        array("values", 1, numeric=True)
        names = payload.get("names")
        if not isinstance(names, list) or len(names) != len(payload["values"]):
            raise MalformedReply("'names' do not match the importances")
        if payload.get("method") not in ("impurity", "weights"):
            raise MalformedReply("unknown importance method")
    elif op == "partial_dependence":
        array("grid", 1)
        grid = payload["grid"]
        array("average", 1, len(grid), numeric=True)
        array("individual", 2, n, numeric=True)
        if payload["individual"].shape[1] != len(grid):
            raise MalformedReply("'individual' does not match the grid")
    return payload
