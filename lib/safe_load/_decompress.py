"""Detect joblib's compression by magic bytes and inflate with a hard size cap.

``inflate(data: bytes, max_out: int) -> tuple[bytes, str]`` returns the raw pickle stream and the
compression name ("none", "zlib", "gzip", "bz2", "lzma", "xz", "lz4"). Prefixes and decoder
settings follow ``joblib/compressor.py`` (joblib 1.6): zlib streams carry a zlib header, gzip uses
``wbits=31``, "lzma" is ``FORMAT_ALONE`` and "xz" is ``FORMAT_XZ``.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from typing import Protocol

from ._messages import RESAVE_HINT, damaged, too_big

try:
    import lz4.frame as _lz4_frame
except ImportError:  # pragma: no cover - lz4 is a dependency, but stay importable without it
    _lz4_frame = None

CHUNK = 1 << 20
# Most output one decoder call may produce: a bomb is caught within one piece of the cap.
PIECE = 16 << 20
# liblzma allocates the dictionary the header asks for; joblib's presets need at most 64 MiB.
LZMA_MEMLIMIT = 256 << 20

# Order matters only for readability: no prefix is a prefix of another.
PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\x78", "zlib"),
    (b"\x1f\x8b", "gzip"),
    (b"BZ", "bz2"),
    (b"\xfd\x37\x7a\x58\x5a", "xz"),
    (b"\x5d\x00", "lzma"),
    (b"\x04\x22\x4d\x18", "lz4"),
)
LEGACY_ZFILE_PREFIX = b"ZF"


class _Decompressor(Protocol):
    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...


def detect(data: bytes) -> str:
    """Return the compression name of ``data`` (``"none"`` for a plain pickle)."""
    if data.startswith(LEGACY_ZFILE_PREFIX):
        raise damaged(f"it was written by joblib older than 0.10 (the 'ZF' format). {RESAVE_HINT}")
    for prefix, name in PREFIXES:
        if data.startswith(prefix):
            return name
    return "none"


def inflate(data: bytes, max_out: int) -> tuple[bytes, str]:
    """Return ``(stream, compression)``; refuse output larger than ``max_out`` bytes."""
    name = detect(data)
    if name == "none":
        return data, name
    try:
        if name in ("zlib", "gzip"):
            out = _inflate_zlib(data, max_out, 31 if name == "gzip" else zlib.MAX_WBITS)
        elif name == "lz4":
            out = _inflate_lz4(data, max_out)
        else:
            out = _inflate_lzma_like(data, max_out, name)
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError, RuntimeError) as exc:
        raise damaged(f"its {name} compressed data is corrupt ({exc})") from None
    return out, name


def _over(max_out: int, name: str) -> Exception:
    return too_big(f"its {name} data inflates to more than {max_out:,} bytes")


def _inflate_zlib(data: bytes, max_out: int, wbits: int) -> bytes:
    d = zlib.decompressobj(wbits)
    parts: list[bytes] = []
    total = 0
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        pending: bytes | memoryview = view[start : start + CHUNK]
        while pending and not d.eof:
            out = d.decompress(pending, min(PIECE, max_out - total + 1))
            total += len(out)
            if total > max_out:
                raise _over(max_out, "compressed")
            parts.append(out)
            pending = d.unconsumed_tail
        if d.eof:
            break
    if not d.eof:
        raise damaged("the compressed data ends early (the file is truncated)")
    return b"".join(parts)


def _drain(d: _Decompressor, chunk: bytes, max_out: int, total: int, parts: list[bytes]) -> int:
    """Feed ``chunk`` then pull output while the decoder holds buffered input; return total."""
    out = d.decompress(chunk, min(PIECE, max_out - total + 1))
    while True:
        total += len(out)
        if total > max_out:
            raise _over(max_out, "compressed")
        parts.append(out)
        if d.eof or d.needs_input:  # type: ignore[attr-defined]
            return total
        out = d.decompress(b"", min(PIECE, max_out - total + 1))


def _inflate_lzma_like(data: bytes, max_out: int, name: str) -> bytes:
    if name == "bz2":
        d: _Decompressor = bz2.BZ2Decompressor()
    elif name == "xz":
        d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ, memlimit=LZMA_MEMLIMIT)
    else:
        d = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE, memlimit=LZMA_MEMLIMIT)
    return _inflate_stream(d, data, max_out)


def _inflate_lz4(data: bytes, max_out: int) -> bytes:
    if _lz4_frame is None:
        raise damaged("it is lz4-compressed and the lz4 package is not installed")
    return _inflate_stream(_lz4_frame.LZ4FrameDecompressor(), data, max_out)


def _inflate_stream(d: _Decompressor, data: bytes, max_out: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        total = _drain(d, bytes(view[start : start + CHUNK]), max_out, total, parts)
        if d.eof:  # type: ignore[attr-defined]
            break
    if not d.eof:  # type: ignore[attr-defined]
        raise damaged("the compressed data ends early (the file is truncated)")
    return b"".join(parts)
