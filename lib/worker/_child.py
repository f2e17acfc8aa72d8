"""The worker process's side: confine itself, load one model, answer requests until told to
stop or its channel closes.

Replies follow ``_wire.encode_reply``. The opening reply is ``ready`` (with the model's
facts, ``lib.model_ops.describe``, and the loader's warnings) or ``refused`` (with ``kind``
"unsafe" or "file" and a plain ``message``). A request's reply is ``ok`` (the op's result),
``failed`` (the op raised: ``error`` type name and ``message``) or ``memory``.
"""

from __future__ import annotations

import logging
import warnings
from multiprocessing.connection import Connection
from typing import Any

from lib.errors import UnsafeModelError, UserError
from lib.safe_load import Limits

from ._confine import confine, worker_readable_paths
from ._wire import encode_reply, receive_request

STOP = "stop"
# Test-only faults, reachable only through ``Worker(..., _test_fault=...)``, on the first
# request: "crash" (SIGSEGV), "hang", "spin" (burns CPU), "memory", "garbage" (a malformed
# reply), "exfiltrate" (the request fails with the start of the repository's README.md as its
# error message, as a worker taken over would send a secret back, or with the name of the
# error that stopped it reading); or while opening: "crash_on_open", "abort_on_open",
# "hang_on_open", "memory_on_open".
OPENING = "_on_open"


def worker_main(conn: Connection, data: bytes, limits: Limits, checks: bool,
                test_fault: str | None) -> None:  # fmt: skip
    """Entry point of a worker process (``checks=False`` skips the loader's model checks:
    tests use it to reach compiled code with models the checks would refuse)."""
    # Reads are confined too: only Python, the app's lib/ and system libraries stay readable,
    # so a worker taken over cannot send back the app's secrets or other people's models.
    confinement = confine(
        keep_fds=[conn.fileno()],
        memory_bytes=int(limits.child_memory_bytes),
        readable=worker_readable_paths(),
    )
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    if test_fault and test_fault.endswith(OPENING):
        try:
            _fault(test_fault.removesuffix(OPENING))
        except MemoryError:
            conn.send_bytes(encode_reply("memory"))
            return
    model = _open(conn, data, limits, checks, confinement.not_applied)
    del data
    if model is None:
        return
    while True:
        try:
            op, kwargs = receive_request(conn)
        except (EOFError, OSError):
            return
        if op == STOP:
            return
        conn.send_bytes(_answer(model, op, kwargs, test_fault, conn))


def _open(conn: Connection, data: bytes, limits: Limits, checks: bool,
          not_confined: list[str]) -> Any:  # fmt: skip
    from lib.model_info import info_from_facts
    from lib.model_ops import describe

    from ._smoke import smoke_failure

    try:
        loaded = _load(data, limits, checks)
        facts = describe(loaded.model, loaded.file_sklearn_version)
        failure = smoke_failure(loaded.model, info_from_facts(facts))
    except UnsafeModelError as error:
        conn.send_bytes(encode_reply("refused", {"kind": "unsafe", "message": str(error)}))
        return None
    except UserError as error:
        conn.send_bytes(encode_reply("refused", {"kind": "file", "message": str(error)}))
        return None
    except MemoryError:
        conn.send_bytes(encode_reply("memory"))
        return None
    except Exception as error:
        conn.send_bytes(
            encode_reply("refused", {"kind": "broken", "message": type(error).__name__})
        )
        return None
    if failure is not None:
        message = (
            "This model fails on ordinary rows built from its own description of its columns "
            f"({failure}), so it cannot be used. Re-train it, or re-save it from a working copy."
        )
        conn.send_bytes(encode_reply("refused", {"kind": "file", "message": message}))
        return None
    ready = {"facts": facts, "warnings": list(loaded.warnings), "not_confined": not_confined}
    conn.send_bytes(encode_reply("ready", ready))
    return loaded.model


def _load(data: bytes, limits: Limits, checks: bool) -> Any:
    from lib.safe_load import _audit
    from lib.safe_load._loader import load_in_process

    if not checks:  # this process is about to end with the model anyway
        _audit.check_loaded = lambda obj: None
    return load_in_process(data, limits)


def _answer(model: Any, op: str, kwargs: dict[str, Any], test_fault: str | None,
            conn: Connection) -> bytes:  # fmt: skip
    from lib.model_ops import OPS

    try:
        if test_fault and not test_fault.endswith(OPENING):
            _fault(test_fault, conn)
        return encode_reply("ok", OPS[op](model, **kwargs))
    except MemoryError:
        return encode_reply("memory")
    except Exception as error:
        text = str(error)[:2000]
        return encode_reply("failed", {"error": type(error).__name__, "message": text})


def _fault(kind: str, conn: Connection | None = None) -> None:
    import ctypes
    import os
    import time

    if kind == "crash":
        ctypes.string_at(0)
    elif kind == "hang":
        time.sleep(10_000)
    elif kind == "spin":
        while True:
            pass
    elif kind == "memory":
        import numpy as np

        np.ones(1 << 40, dtype=np.uint8)
    elif kind == "garbage" and conn is not None:
        conn.send_bytes(b"\xff" * 64)
    elif kind == "exfiltrate":
        import lib

        root = os.path.dirname(os.path.dirname(os.path.realpath(lib.__file__ or "")))
        try:
            with open(os.path.join(root, "README.md")) as f:
                text = f.read(200)
        except OSError as error:
            text = f"could not read: {type(error).__name__}"
        raise ValueError(text)
    os.abort()
