"""The reading process's side: confine itself, read and profile one upload, hand both back.

The table goes into the shared memory file the web process passed in (``table_fd``), as one
Arrow IPC stream (``_arrow``); the channel carries JSON only, in up to two messages:

1. ``{"status": "table", "size": <bytes of the IPC stream>}`` once the table is written, then
   ``{"status": "ok", "profiles": [...]}`` (``ColumnProfile.to_json`` of every column), so
   the web process decodes the table while this process profiles it;
2. or, instead, one of ``{"status": "refused", "message": ...}`` (a ``DataError``),
   ``{"status": "memory"}`` or ``{"status": "broken", "error": <type name>}``.
"""

from __future__ import annotations

import errno
import json
import logging
import mmap
import warnings
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from ._limits import TableLimits

# Test-only faults, reachable through ``read_upload(..., _test_fault=...)``: "crash"
# (SIGSEGV), "hang", "memory" (allocates until refused), "garbage" (a malformed table) and
# "unsealable" (the table's memory stays mapped for writing, as a process taken over would
# keep it to change the table after it is checked).
TEST_FAULTS = ("crash", "hang", "memory", "garbage", "unsealable")
_KEPT: list[mmap.mmap] = []


def reader_main(conn: Connection, table_fd: int, path: str, filename: str, min_columns: int,
                profile: bool, limits: TableLimits, test_fault: str | None) -> None:  # fmt: skip
    """Entry point of a reading process; ``path`` is the upload's bytes in a file and
    ``table_fd`` a shared memory file of ``limits.reader_memory_bytes`` for the table;
    ``profile=False`` leaves the profiles out."""
    from lib.worker._confine import confine, worker_readable_paths

    # The same confinement as a model worker (a parser bug must not become a way into the
    # server), with the one upload readable besides.
    confine(
        keep_fds=[conn.fileno(), table_fd],
        memory_bytes=limits.reader_memory_bytes,
        readable=[*worker_readable_paths(), path],
    )
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    try:
        _read(conn, table_fd, path, filename, min_columns, profile, limits, test_fault)
    except MemoryError:
        _send(conn, {"status": "memory"})


def _read(conn: Connection, table_fd: int, path: str, filename: str, min_columns: int,
          profile: bool, limits: TableLimits, test_fault: str | None) -> None:  # fmt: skip
    from lib.errors import DataError
    from lib.profile import profile_table

    from . import read_table

    try:
        if test_fault in ("crash", "hang", "memory"):
            _fault(test_fault)
        with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            frame = read_table(data, filename, min_columns=min_columns, limits=limits, path=path)
        table, size = _arrow_table(frame, limits)
        # The profile is worked out on the other core while the table is copied out.
        background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="profile")
        profiling = background.submit(profile_table, frame) if profile else None
        _share(table, size, table_fd, fault=test_fault)
    except DataError as error:
        return _send(conn, {"status": "refused", "message": str(error)})
    except MemoryError:
        raise
    except OSError as error:
        if error.errno == errno.ENOMEM:  # a mapping refused by the address-space cap
            raise MemoryError from None
        return _send(conn, {"status": "broken", "error": type(error).__name__})
    except Exception as error:  # a reader's bug on this file: named, not shown
        return _send(conn, {"status": "broken", "error": type(error).__name__})
    _send(conn, {"status": "table", "size": size})
    if test_fault == "unsealable":
        # Hold the writable mapping while alive, as a process taken over would: on exit the
        # mapping goes, and a busy machine could let the web process seal after that.
        _fault("hang")
    try:
        profiles = [p.to_json() for p in profiling.result()] if profiling else []
    except MemoryError:
        raise
    except Exception as error:
        return _send(conn, {"status": "broken", "error": type(error).__name__})
    _send(conn, {"status": "ok", "profiles": profiles})


def _arrow_table(frame: Any, limits: TableLimits) -> tuple[Any, int]:
    """``frame`` as an Arrow table, and the size of its IPC stream in bytes."""
    from ._arrow import arrow_table, ipc_size

    table = arrow_table(frame)
    size = ipc_size(table)
    if size > limits.reader_memory_bytes:
        raise MemoryError
    return table, size


def _share(table: Any, size: int, table_fd: int, *, fault: str | None) -> None:
    """Write ``table`` as Arrow IPC (``size`` bytes) at the start of the shared file."""
    import pyarrow as pa

    from ._arrow import write_ipc

    with mmap.mmap(table_fd, max(size, 1)) as shared:
        view = pa.py_buffer(shared)
        write_ipc(table, view)
        del view  # the mapping closes only once nothing points into it
        if fault == "garbage":
            shared[:9] = b"not arrow"
    if fault == "unsealable":
        _KEPT.append(mmap.mmap(table_fd, max(size, 1)))


def _send(conn: Connection, header: dict[str, Any]) -> None:
    conn.send_bytes(json.dumps(header).encode("utf-8"))


def _fault(kind: str) -> None:
    import ctypes
    import time

    if kind == "crash":
        ctypes.string_at(0)
    elif kind == "hang":
        time.sleep(10_000)
    elif kind == "memory":
        hoard = []
        while True:
            hoard.append(bytearray(64 * 1024 * 1024))
