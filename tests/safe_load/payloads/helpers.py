"""Building blocks shared by the payload modules. Nothing here loads or runs a payload."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from typing import Any

import joblib
import lz4.frame

from .opcodes import Build, Call, Global

COMPRESSORS = ("zlib", "gzip", "bz2", "lzma", "xz", "lz4")


class Reduce:
    """An object that pickles as ``func(*args)``: pickling only stores the reference."""

    def __init__(self, func: Any, *args: Any):
        self.func = func
        self.args = args

    def __reduce__(self):
        return self.func, self.args


def kwcall(func: Any, args: tuple = (), kwargs: dict | None = None) -> Call:
    """``func(*args, **kwargs)`` as REDUCE of a ``functools.partial`` rebuilt by BUILD."""
    holder = Call(Global("functools", "partial"), (func,))
    return Call(Build(holder, (func, tuple(args), dict(kwargs or {}), None)), ())


def getattr_(obj: Any, name: str) -> Call:
    """``builtins.getattr(obj, name)``: allowed in genuine files (bound methods)."""
    return Call(Global("builtins", "getattr"), (obj, name))


def ndarray_u8(data: bytes) -> Call:
    """A uint8 array built only from names genuine protocol-5 files use."""
    dtype = Call(Global("numpy", "dtype"), ("u1", False, True))
    return Call(Global("numpy._core.numeric", "_frombuffer"), (data, dtype, (len(data),), "C"))


def joblib_bytes(obj: Any, compress: str | None = None, protocol: int | None = None) -> bytes:
    """``joblib.dump`` into memory (dumping stores references; it runs nothing)."""
    buffer = io.BytesIO()
    kwargs: dict[str, Any] = {}
    if compress:
        kwargs["compress"] = (compress, 3)
    if protocol is not None:
        kwargs["protocol"] = protocol
    joblib.dump(obj, buffer, **kwargs)
    return buffer.getvalue()


def compress(data: bytes, method: str) -> bytes:
    """Wrap a raw pickle stream the way joblib's compressors write it (same magic bytes)."""
    if method == "zlib":
        return zlib.compress(data)
    if method == "gzip":
        return gzip.compress(data)
    if method == "bz2":
        return bz2.compress(data)
    if method == "lzma":
        return lzma.compress(data, format=lzma.FORMAT_ALONE)
    if method == "xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ)
    if method == "lz4":
        return lz4.frame.compress(data)
    raise ValueError(method)


def streaming_compressor(method: str) -> Any:
    """An object with ``compress(chunk)`` / ``flush()`` producing ``method``'s format."""
    if method == "zlib":
        return zlib.compressobj(9)
    if method == "gzip":
        return zlib.compressobj(9, zlib.DEFLATED, 31)
    if method == "bz2":
        return bz2.BZ2Compressor(9)
    if method == "lzma":
        return lzma.LZMACompressor(format=lzma.FORMAT_ALONE)
    if method == "xz":
        return lzma.LZMACompressor(format=lzma.FORMAT_XZ)
    if method == "lz4":
        return _Lz4Stream()
    raise ValueError(method)


class _Lz4Stream:
    def __init__(self):
        self._compressor = lz4.frame.LZ4FrameCompressor()
        self._started = False

    def compress(self, chunk: bytes) -> bytes:
        head = b""
        if not self._started:
            head = self._compressor.begin()
            self._started = True
        return head + self._compressor.compress(chunk)

    def flush(self) -> bytes:
        return self._compressor.flush()


def compressed_zeros(method: str, head: bytes, size: int, tail: bytes = b".") -> bytes:
    """``head + size zero bytes + tail`` compressed without holding the inflated stream."""
    compressor = streaming_compressor(method)
    out = [compressor.compress(head)]
    chunk = bytes(1 << 20)
    remaining = size
    while remaining:
        step = min(remaining, len(chunk))
        out.append(compressor.compress(chunk[:step]))
        remaining -= step
    out.append(compressor.compress(tail))
    out.append(compressor.flush())
    return b"".join(out)
