"""Load untrusted bytes once in a throw-away child process first.

``check_in_child(data, limits)`` forks a child from a pre-warmed ``forkserver`` (started lazily,
once, with scikit-learn preloaded), caps its address space (RLIMIT_AS), file writes
(RLIMIT_FSIZE = 0) and core dumps, points its stdio at /dev/null, then runs the same safe parse
plus one smoke prediction there. A crash, out-of-memory or hang in the child becomes a refusal in
the parent; the child only ever sends back a small JSON status. No signals are used in the
parent, so it works from a Streamlit script thread.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import multiprocessing.spawn
import os
import resource
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from lib.errors import ModelFileError, UnsafeModelError
from lib.worker._confine import address_space_cap, mapped_bytes

from ._limits import Limits
from ._messages import TRUST_HINT, too_big

if TYPE_CHECKING:
    from lib.schema import ModelMetadata

log = logging.getLogger(__name__)

PRELOAD = [
    "lib.safe_load",
    "lib.metadata",
    "lib.model_ops",
    "lib.worker._child",
    "sklearn.inspection",
    "numpy",
    "pandas",
    "scipy.sparse",
    "sklearn.base",
    "sklearn.pipeline",
    "sklearn.compose",
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.tree",
    "sklearn.neighbors",
    "sklearn.svm",
]
MAX_STATUS_BYTES = 64 * 1024
# Test-only crash modes; reachable only by calling check_in_child(..., _test_crash=...).
_CRASHES = ("segfault", "abort", "hang", "memory")

_CTX_LOCK = threading.Lock()
_CTX: multiprocessing.context.ForkServerContext | None = None


SANDBOX_PROCESS_NAME = "model-studio-sandbox"


class _WithoutMainModule:
    """Wraps multiprocessing's preparation so sandbox children skip the parent's ``__main__``.

    Under Streamlit, ``__main__`` is the running app script: a child that re-imported it (as
    multiprocessing does by default) would run the whole app in bare mode before the check.
    The child only needs this package, which it imports by name.
    """

    wraps_for_sandbox = True

    def __init__(self, get_preparation_data: Callable[[str], dict[str, Any]]) -> None:
        self._get_preparation_data = get_preparation_data

    def __call__(self, name: str) -> dict[str, Any]:
        data = self._get_preparation_data(name)
        if name == SANDBOX_PROCESS_NAME:
            data.pop("init_main_from_name", None)
            data.pop("init_main_from_path", None)
        return data


def _context() -> multiprocessing.context.ForkServerContext:
    global _CTX
    with _CTX_LOCK:
        if not getattr(multiprocessing.spawn.get_preparation_data, "wraps_for_sandbox", False):
            multiprocessing.spawn.get_preparation_data = _WithoutMainModule(
                multiprocessing.spawn.get_preparation_data
            )
        if _CTX is None:
            # Workers' OpenMP threads sleep rather than spin while they wait: spinning threads
            # of several workers on a busy shared machine stall each other (read when the
            # forkserver starts, which inherits this environment).
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _CTX = ctx
        return _CTX


def warm_up() -> None:
    """Start the forkserver now (optional; the first check does it otherwise)."""
    from multiprocessing import forkserver

    _context()
    forkserver.ensure_running()


def check_in_child(data: bytes, limits: Limits, *, _test_crash: str | None = None) -> None:
    """Load ``data`` (and predict once) in a child; raise the refusal if it failed or died."""
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child_main,
        args=(sender, bytes(data), limits, _test_crash),
        name=SANDBOX_PROCESS_NAME,
        daemon=True,
    )
    proc.start()
    sender.close()
    raw: bytes | None = None
    try:
        if receiver.poll(limits.child_timeout_s):
            raw = receiver.recv_bytes(MAX_STATUS_BYTES)
    except (EOFError, OSError):
        raw = None
    finally:
        receiver.close()
        proc.join(5 if raw is not None else 0)
        if proc.is_alive():
            proc.kill()
            proc.join()
    _raise_for(raw, proc.exitcode, limits)


def _raise_for(raw: bytes | None, exitcode: int | None, limits: Limits) -> None:
    status = None
    if raw is not None:
        try:
            status = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            status = None
    if isinstance(status, dict):
        kind = status.get("status")
        message = str(status.get("message", ""))[:4000]
        if kind == "ok":
            return
        if kind == "unsafe":
            raise UnsafeModelError(message)
        if kind == "file":
            raise ModelFileError(message)
        if kind == "error":
            from . import NOT_A_MODEL
            from ._messages import damaged

            log.info("sandbox child could not parse the file: %s", message)
            raise damaged(NOT_A_MODEL)
        if kind == "memory":
            raise too_big(
                f"loading it needs more than {limits.child_memory_bytes:,} bytes of memory"
            )
    if raw is None and exitcode in (None, -9):
        log.warning("sandbox child timed out after %s s", limits.child_timeout_s)
        raise UnsafeModelError(
            f"Loading this file did not finish within {limits.child_timeout_s:g} seconds, so it "
            f"was stopped. A genuine model loads much faster; the file may be built to hang the "
            f"app. {TRUST_HINT}"
        )
    log.warning("sandbox child died: exit code %s", exitcode)
    raise UnsafeModelError(
        f"Loading this file crashed the isolated checker process (exit code {exitcode}). Nothing "
        f"from it reached the app. Genuine model files never do this; the file is damaged or made "
        f"to attack the app. {TRUST_HINT}"
    )


# ---- child side --------------------------------------------------------------------------------


def _child_main(sender, data: bytes, limits: Limits, test_crash: str | None) -> None:
    _isolate(limits)
    try:
        if test_crash in _CRASHES:
            _crash(test_crash)
        status = _child_load(data, limits)
    except MemoryError:
        status = {"status": "memory"}
    sender.send_bytes(json.dumps(status).encode("utf-8")[:MAX_STATUS_BYTES])
    sender.close()


def _isolate(limits: Limits) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = address_space_cap(mapped_bytes(), int(limits.child_memory_bytes), hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    warnings.simplefilter("ignore")


def _crash(mode: str) -> None:
    import ctypes
    import time

    if mode == "segfault":
        ctypes.string_at(0)
    elif mode == "abort":
        os.abort()
    elif mode == "hang":
        time.sleep(10_000)
    else:
        np.ones(1 << 40, dtype=np.uint8)


def _child_load(data: bytes, limits: Limits) -> dict:
    from ._loader import load_in_process

    try:
        model = load_in_process(data, limits).model
    except UnsafeModelError as exc:
        return {"status": "unsafe", "message": str(exc)}
    except ModelFileError as exc:
        return {"status": "file", "message": str(exc)}
    except MemoryError:
        return {"status": "memory"}
    except Exception as exc:
        return {"status": "error", "message": type(exc).__name__}
    smoke_predict(model)
    return {"status": "ok"}


def smoke_predict(model: object) -> bool:
    """Run one prediction on a plausible row; return True if it ran without raising."""
    method = getattr(model, "predict", None) or getattr(model, "transform", None)
    rows = smoke_input(model)
    if method is None or rows is None:
        return False
    try:
        method(rows)
    except Exception:
        return False
    return True


def smoke_input(model: object) -> object | None:
    """Return one input row: typical training values from the app's metadata, else zeros, else
    None."""
    from lib.metadata import read_metadata

    names = getattr(model, "feature_names_in_", None)
    n_features = getattr(model, "n_features_in_", None)
    if names is not None:
        import pandas as pd

        hints = _feature_hints(read_metadata(model).metadata)
        row = {str(name): [hints.get(str(name), 0.0)] for name in list(names)}
        return pd.DataFrame(row)
    if isinstance(n_features, int | np.integer) and 0 < n_features < 1_000_000:
        return np.zeros((1, int(n_features)))
    return None


def _feature_hints(meta: ModelMetadata | None) -> dict[str, object]:
    """Column name -> a typical training value (most frequent category, median, first date)."""
    hints: dict[str, object] = {}
    for summary in meta.features if meta else []:
        if summary.categories:
            hints[summary.name] = summary.categories[0][0]
        elif summary.median is not None:
            hints[summary.name] = summary.median
        elif summary.first is not None:
            hints[summary.name] = summary.first
    return hints
