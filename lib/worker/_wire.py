"""What travels between the web process and a worker.

Requests (web process -> worker) are pickles: the worker trusts the web process. Replies
(worker -> web process) are never unpickled: a reply is one message made of an 8-byte
little-endian header length, a UTF-8 JSON header, then the raw bytes of each array, in order::

    {"status": "ok", "plain": {...JSON values...},
     "arrays": [{"key": "y", "dtype": "<f8", "shape": [300000]},
                {"key": "labels", "dtype": "<i8", "shape": [300000], "values": ["no", "yes"]}]}

An array with ``values`` holds codes into that list (how text and other non-numeric arrays
travel). ``decode_reply`` checks every field, every size and every code before building an
array, and raises ``MalformedReply`` otherwise.
"""

from __future__ import annotations

import json
import math
import pickle
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import pandas as pd

ALLOWED_DTYPES = frozenset(
    {"<f8", "<f4", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1"}
)
MAX_HEADER_BYTES = 64 * 1024 * 1024
MAX_ARRAYS = 16
MAX_DIMENSIONS = 3
HEADER_LENGTH = 8


class MalformedReply(ValueError):
    """A worker's reply does not follow the format (the worker is broken or hostile)."""


# --- requests: web process -> worker --------------------------------------------------------


def send_request(conn: Connection, op: str, kwargs: dict[str, Any]) -> None:
    """Send ``(op, kwargs)``; large arrays go as separate messages, without a copy."""
    buffers: list[pickle.PickleBuffer] = []
    body = pickle.dumps((op, kwargs), protocol=5, buffer_callback=buffers.append)
    conn.send_bytes(len(buffers).to_bytes(4, "little") + body)
    for buffer in buffers:
        conn.send_bytes(buffer.raw())


def receive_request(conn: Connection) -> tuple[str, dict[str, Any]]:
    """The worker's side of ``send_request`` (arrays arrive writable)."""
    message = conn.recv_bytes()
    count = int.from_bytes(message[:4], "little")
    buffers = [bytearray(conn.recv_bytes()) for _ in range(count)]
    op, kwargs = pickle.loads(message[4:], buffers=buffers)
    return op, kwargs


# --- replies: worker -> web process ---------------------------------------------------------


def encode_reply(status: str, payload: dict[str, Any] | None = None) -> bytes:
    """One reply message: JSON values stay in the header, numpy arrays follow it as bytes."""
    plain: dict[str, Any] = {}
    specs: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for key, value in (payload or {}).items():
        if isinstance(value, np.ndarray):
            spec, array = _array_spec(key, value)
            specs.append(spec)
            chunks.append(array.tobytes())
        else:
            plain[key] = value
    header = json.dumps({"status": status, "plain": plain, "arrays": specs}).encode("utf-8")
    return b"".join([len(header).to_bytes(HEADER_LENGTH, "little"), header, *chunks])


def _array_spec(key: str, value: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    if value.dtype.kind in "biuf":
        array = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        return {"key": key, "dtype": array.dtype.str, "shape": list(array.shape)}, array
    codes, uniques = pd.factorize(value.ravel(), use_na_sentinel=False)
    values = [_plain_scalar(v) for v in uniques]
    codes = np.ascontiguousarray(codes.reshape(value.shape), dtype="<i8")
    return {"key": key, "dtype": "<i8", "shape": list(value.shape), "values": values}, codes


def _plain_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def decode_reply(raw: bytes) -> tuple[str, dict[str, Any]]:
    """``(status, payload)`` from a reply; arrays are read-only views of ``raw``."""
    if len(raw) < HEADER_LENGTH:
        raise MalformedReply("the reply is shorter than its header")
    size = int.from_bytes(raw[:HEADER_LENGTH], "little")
    if size > min(MAX_HEADER_BYTES, len(raw) - HEADER_LENGTH):
        raise MalformedReply("the reply's header length is wrong")
    try:
        header = json.loads(raw[HEADER_LENGTH : HEADER_LENGTH + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise MalformedReply(f"the reply's header is not JSON ({type(error).__name__})") from None
    if not isinstance(header, dict):
        raise MalformedReply("the reply's header is not a record")
    status, plain, specs = header.get("status"), header.get("plain"), header.get("arrays")
    if not isinstance(status, str) or not isinstance(plain, dict) or not isinstance(specs, list):
        raise MalformedReply("the reply's header lacks its status, values or arrays")
    if len(specs) > MAX_ARRAYS:
        raise MalformedReply("the reply has too many arrays")
    payload = dict(plain)
    offset = HEADER_LENGTH + size
    for spec in specs:
        key, array, offset = _read_array(raw, spec, offset)
        payload[key] = array
    if offset != len(raw):
        raise MalformedReply("the reply has bytes its header does not account for")
    return status, payload


def _read_array(raw: bytes, spec: Any, offset: int) -> tuple[str, np.ndarray, int]:
    if not isinstance(spec, dict):
        raise MalformedReply("an array's description is not a record")
    key, dtype, shape = spec.get("key"), spec.get("dtype"), spec.get("shape")
    if not isinstance(key, str) or dtype not in ALLOWED_DTYPES:
        raise MalformedReply("an array has no name or a type that is not allowed")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMENSIONS
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
    ):
        raise MalformedReply(f"array '{key}' has an impossible shape")
    count = math.prod(shape)
    itemsize = np.dtype(dtype).itemsize
    if count * itemsize > len(raw) - offset:
        raise MalformedReply(f"array '{key}' is larger than the reply")
    array = np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(shape)
    offset += count * itemsize
    if "values" in spec:
        array = _from_codes(key, array, spec["values"])
    return key, array, offset


def _from_codes(key: str, codes: np.ndarray, values: Any) -> np.ndarray:
    if not isinstance(values, list) or not all(
        v is None or isinstance(v, str | bool | int | float) for v in values
    ):
        raise MalformedReply(f"array '{key}' has values that are not plain")
    if codes.dtype.kind not in "iu":
        raise MalformedReply(f"array '{key}' has codes that are not whole numbers")
    if codes.size and (codes.min() < 0 or codes.max() >= len(values)):
        raise MalformedReply(f"array '{key}' has codes outside its values")
    table = np.empty(len(values), dtype=object)
    table[:] = values
    return table[codes]
