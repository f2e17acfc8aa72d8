"""Reading an upload in a separate, capped process: ``read_upload(data, filename)``.

The upload is parsed and profiled in a process forked from the model workers' pre-warmed
forkserver and confined the same way (``lib.worker._confine``): its address space is capped at
``TableLimits.reader_memory_mb`` beyond what it starts with, it may read only Python, the app's
code and the one upload, and it is killed after ``TableLimits.reader_seconds``. A file that
gets past the readers' own caps and still blows up costs that process, not the server. The
table comes back as Arrow IPC in a shared memory file, sealed against changes before it is
checked, and the profiles as JSON, checked field by field; nothing from the process is
unpickled.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import mmap
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing import reduction
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import pandas as pd
import pyarrow as pa

from lib.errors import DataError
from lib.profile import ColumnProfile

from ._arrow import from_ipc
from ._limits import TableLimits, refuse_oversized
from ._reader_child import reader_main
from ._spool import spooled

log = logging.getLogger(__name__)

MAX_READERS = 2  # uploads read at once in one server; more wait their turn
MAX_HEADER_BYTES = 64 * 1024 * 1024
_POLL_SECONDS = 0.05
_TURNS = threading.BoundedSemaphore(MAX_READERS)
_TRY_CSV = "Export the table again as CSV and upload that."


@dataclass(frozen=True)
class UploadedTable:
    """A table read from an upload: ``frame`` (n_rows x n_columns) and one profile per column,
    in the frame's column order."""

    frame: pd.DataFrame
    profiles: list[ColumnProfile]


class _Stopped(Exception):
    """The reading process was killed or died: ``reason`` is "time" or "crash"."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason, self.detail = reason, detail


class _Malformed(ValueError):
    """The reading process sent back something that does not follow the format."""


def read_upload(data: bytes, filename: str, *, min_columns: int = 1, profile: bool = True,
                limits: TableLimits | None = None,
                _test_fault: str | None = None) -> UploadedTable:  # fmt: skip
    """Read and profile an uploaded table in a capped process (see the module docstring);
    with ``profile=False`` the profiles are left out (an empty list).

    Raises ``DataError`` for everything a person can act on: the readers' refusals, caps, a
    reading process stopped for time or memory, one that crashed or sent back garbage.
    """
    limits = limits or TableLimits.from_env()
    refuse_oversized(len(data), filename, limits)
    if not _TURNS.acquire(timeout=limits.reader_seconds):
        raise DataError("The server is busy reading other people's uploads. Try again in a minute.")
    try:
        with spooled(data) as path:
            return _read_elsewhere(path, filename, min_columns, profile, limits, _test_fault)
    except _Stopped as stop:
        raise _stopped_message(stop, filename, limits) from None
    except _Malformed as error:
        log.warning("the process reading %r sent back a malformed reply: %s", filename, error)
        raise DataError(
            f"Reading '{filename}' went wrong: the separate process that reads uploads sent "
            f"back something that is not a table, so nothing from it was used. {_TRY_CSV}"
        ) from None
    finally:
        _TURNS.release()


class _InheritedFd:
    """A descriptor handed to the forkserver's child at its birth (as multiprocessing hands a
    Connection's); the child receives it as a plain int."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return _detach, (reduction.DupFd(self.fd),)


def _detach(wrapped: Any) -> int:
    return int(wrapped.detach())


def _read_elsewhere(path: str, filename: str, min_columns: int, profile: bool,
                    limits: TableLimits, test_fault: str | None) -> UploadedTable:  # fmt: skip
    """Start the reading process, take the table from shared memory and the profiles."""
    from lib.worker._forkserver import SANDBOX_PROCESS_NAME, context

    ctx = context()
    receiver, sender = ctx.Pipe(duplex=False)
    table_fd = os.memfd_create("model-studio-table", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    process = None
    prefault: threading.Thread | None = None
    try:
        os.ftruncate(table_fd, limits.reader_memory_bytes)  # sparse: pages cost when written
        process = ctx.Process(
            target=reader_main,
            args=(sender, _InheritedFd(table_fd), path, filename, min_columns, profile,
                  limits, test_fault),
            name=SANDBOX_PROCESS_NAME,
            daemon=True,
        )  # fmt: skip
        process.start()
        sender.close()
        # While the process parses, this (otherwise idle) core allocates the table's pages.
        guess = min(os.path.getsize(path), limits.reader_memory_bytes)
        prefault = threading.Thread(target=_allocate, args=(table_fd, guess), daemon=True)
        prefault.start()
        deadline = time.monotonic() + limits.reader_seconds
        header = _next_header(receiver, process, deadline, limits)
        prefault.join()
        if header["status"] != "table":
            raise _refusal(header, filename, limits)
        frame = _shared_table(table_fd, header.get("size"), limits)
        header = _next_header(receiver, process, deadline, limits)
        if header["status"] != "ok":
            raise _refusal(header, filename, limits)
        profiles = _profiles(header.get("profiles"), frame) if profile else []
        return UploadedTable(frame, profiles)
    finally:
        if prefault is not None:
            prefault.join()  # before the descriptor is closed, and its number maybe reused
        os.close(table_fd)
        receiver.close()
        sender.close()
        if process is not None:
            process.join(1)
            if process.is_alive():
                process.kill()
                process.join(5)


def _allocate(fd: int, size: int) -> None:
    """Allocate the first ``size`` bytes of the shared file now (best effort)."""
    with contextlib.suppress(OSError):
        os.posix_fallocate(fd, 0, size)


def _next_header(conn: Connection, process: BaseProcess, deadline: float,
                 limits: TableLimits) -> dict[str, Any]:  # fmt: skip
    """The next JSON message, watching the process's life and the deadline."""
    while not conn.poll(_POLL_SECONDS):
        if not process.is_alive():
            break
        if time.monotonic() > deadline:
            process.kill()
            raise _Stopped("time")
    try:
        raw = conn.recv_bytes(MAX_HEADER_BYTES)
    except (EOFError, OSError):
        process.join(5)
        code = process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            raise _Stopped("crash", name) from None
        raise _Stopped("crash", f"exit code {code}") from None
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _Malformed("a reply that is not JSON") from None
    statuses = ("table", "ok", "refused", "memory", "broken")
    if not isinstance(header, dict) or header.get("status") not in statuses:
        raise _Malformed("a reply without a known status")
    return header


def _shared_table(table_fd: int, size: Any, limits: TableLimits) -> pd.DataFrame:
    """The frame written at the start of the shared memory file (``size`` bytes).

    The file is sealed first: from then on nobody, the reading process included, can write,
    shrink or grow it, so what is validated is what the frame's columns go on pointing into.
    Sealing fails while the reading process still has the file mapped for writing.
    """
    if (
        not isinstance(size, int)
        or isinstance(size, bool)
        or not 0 < size <= os.fstat(table_fd).st_size
    ):
        raise _Malformed(f"a table size of {size!r}")
    try:
        os.ftruncate(table_fd, size)  # gives back the pages allocated beyond the table
        fcntl.fcntl(table_fd, fcntl.F_ADD_SEALS, _SEALS)
    except OSError as error:
        raise _Malformed(f"the table's memory could not be sealed ({error.strerror})") from None
    # Not closed here: the frame's columns point into it, and it goes when they do.
    shared = mmap.mmap(table_fd, size, flags=mmap.MAP_SHARED | mmap.MAP_POPULATE,
                       prot=mmap.PROT_READ)  # fmt: skip
    try:
        return from_ipc(pa.py_buffer(shared))
    except ValueError as error:
        raise _Malformed(str(error)) from None


_SEALS = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL


def _profiles(items: Any, frame: pd.DataFrame) -> list[ColumnProfile]:
    """The profiles sent as JSON, checked against the frame's columns."""
    try:
        if not isinstance(items, list):
            raise ValueError("profiles that are not a list")
        profiles = [ColumnProfile.from_json(item) for item in items]
    except (TypeError, ValueError) as error:
        raise _Malformed(str(error)) from None
    if [profile.name for profile in profiles] != list(frame.columns):
        raise _Malformed("profiles that do not match the table's columns")
    return profiles


def _refusal(header: dict[str, Any], filename: str, limits: TableLimits) -> Exception:
    status = header["status"]
    if status == "refused" and isinstance(header.get("message"), str):
        return DataError(header["message"][:4000])
    if status == "memory":
        return DataError(_memory_message(filename, limits))
    if status == "broken":
        log.warning("reading %r failed: %s", filename, str(header.get("error"))[:100])
        return DataError(
            f"'{filename}' could not be read as a table; it may be damaged. {_TRY_CSV}"
        )
    return _Malformed(f"a {status!r} reply out of turn")


def _stopped_message(stop: _Stopped, filename: str, limits: TableLimits) -> DataError:
    if stop.reason == "time":
        return DataError(
            f"Reading '{filename}' took longer than {limits.reader_seconds:g} seconds, so it "
            "was stopped. A genuine table of this size reads much faster; the file may be "
            "built to tie up the app. If it is genuine, upload fewer rows, or ask whoever runs "
            "the app to raise the MODEL_STUDIO_READER_SECONDS setting."
        )
    from lib.worker._process import SIGNAL_WORDS

    log.warning("the process reading %r stopped: %s", filename, stop.detail)
    what = SIGNAL_WORDS.get(stop.detail, "it stopped")
    return DataError(
        f"Reading '{filename}' crashed the separate process that reads uploads ({what}, "
        f"{stop.detail}). Nothing from the file reached the app. A file does this when it "
        f"needs more than the {limits.reader_memory_mb:,} MB of memory a table may use, or "
        f"when it is damaged or made to attack the app. {_TRY_CSV}"
    )


def _memory_message(filename: str, limits: TableLimits) -> str:
    return (
        f"Reading '{filename}' needed more than the {limits.reader_memory_mb:,} MB of memory a "
        "table may use, so it was stopped. Nothing from it reached the app. Upload fewer "
        "rows or columns, or save it as Parquet; if it is genuine and the server has the "
        "memory, whoever runs the app can raise the MODEL_STUDIO_READER_MEMORY_MB setting."
    )
