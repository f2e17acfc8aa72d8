"""A pass over JSON bytes before anything is parsed: ``first_excess(data, max_depth,
max_digits)`` finds where arrays/objects nest deeper than ``max_depth``, or a number runs longer
than ``max_digits`` characters, outside strings.

The bytes are scanned in chunks, carrying across chunk boundaries whether the scan is inside a
string, the depth, the number run so far and a trailing escape. Per chunk, at C speed:

* escapes are blanked out (``\\\\`` pairs left to right, then ``\\"``, each to ``__``), so
  every quote left opens or closes a string;
* ``bytes.translate`` keeps only quotes and brackets, a short stream numpy turns into the
  string state and the depth at each bracket;
* number characters are mapped to ``1``, and a run longer than the limit is a substring search.

Only a chunk where a limit may be passed is looked at byte by byte (``_locate``), to find the
place and tell a long number inside a string (fine) from one outside. Memory stays a few times
the chunk size whatever the file's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

CHUNK_BYTES = 1024 * 1024  # small enough for the CPU cache; 8-16 MB chunks measured slower
_NUMBER_CHARS = b"0123456789-+.eE"
_STRUCTURAL = b'"[]{}'
_DELETE = bytes(c for c in range(256) if c not in _STRUCTURAL)
_AS_DIGIT_FLAGS = bytes.maketrans(
    bytes(range(256)), bytes(49 if c in _NUMBER_CHARS else 48 for c in range(256))
)
_QUOTE, _OPEN, _CLOSE = ord('"'), (ord("["), ord("{")), (ord("]"), ord("}"))


@dataclass(frozen=True)
class Excess:
    """Where a limit was first passed: what ("depth" or "digits"), the most seen there (int,
    more than the limit) and the 1-based line it is on."""

    what: Literal["depth", "digits"]
    found: int
    line: int


@dataclass
class _State:
    inside: int = 0  # 1 inside a string
    depth: int = 0
    number: int = 0  # number characters ending the previous chunk, outside strings
    escape: bytes = b""  # a backslash ending the previous chunk, escaping the next byte


def first_excess(data: bytes, max_depth: int, max_digits: int,
                 chunk_bytes: int = CHUNK_BYTES) -> Excess | None:  # fmt: skip
    """The first place ``data`` nests deeper than ``max_depth`` or holds a number longer than
    ``max_digits`` characters outside strings; None when it does neither."""
    state = _State()
    view = memoryview(data)
    long_run = b"1" * (max_digits + 1)
    for start in range(0, len(data), chunk_bytes):
        chunk = _unescaped(bytes(view[start : start + chunk_bytes]), state)
        if not chunk:
            continue
        before = _State(state.inside, state.depth, state.number)
        deepest = _advance_depth(chunk, state)
        lead = len(chunk) - len(chunk.lstrip(_NUMBER_CHARS))
        maybe_long = (
            long_run in chunk.translate(_AS_DIGIT_FLAGS)
            or (before.number and before.number + lead > max_digits)
        )  # fmt: skip
        if deepest > max_depth or maybe_long:
            excess = _locate(chunk, before, max_depth, max_digits)
            if excess is not None:
                lines = data.count(b"\n", 0, start)
                return Excess(excess.what, excess.found, lines + excess.line)
        _advance_number(chunk, lead, state)
    return None


def _unescaped(chunk: bytes, state: _State) -> bytes:
    """``chunk`` with escaped backslashes and quotes blanked to ``__``; a backslash ending it
    is kept in ``state`` for the next chunk. Replacing ``\\\\`` pairs left to right pairs a run
    of backslashes as JSON does and leaves no new pair behind."""
    chunk = state.escape + chunk
    state.escape = b""
    if b"\\" not in chunk:
        return chunk
    chunk = chunk.replace(b"\\\\", b"__")
    if chunk.endswith(b"\\"):
        chunk, state.escape = chunk[:-1], b"\\"
    return chunk.replace(b'\\"', b"__")


def _advance_depth(chunk: bytes, state: _State) -> int:
    """Carry ``state.inside``/``state.depth`` over ``chunk``; the deepest point reached."""
    marks = np.frombuffer(chunk.translate(None, _DELETE), dtype=np.uint8)
    if not len(marks):
        return state.depth
    # Parity is all that matters, so a wrapping uint8 count will do.
    outside = ((np.cumsum(marks == _QUOTE, dtype=np.uint8) + state.inside) & 1) == 0
    state.inside = 0 if outside[-1] else 1
    folded = marks | 0x20  # "[" -> "{" and "]" -> "}"
    brackets = outside & (folded != _QUOTE | 0x20)
    steps = np.where(folded[brackets] == ord("{"), 1, -1).astype(np.int32)
    if not len(steps):
        return state.depth
    depth = np.cumsum(steps, dtype=np.int64) + state.depth
    state.depth = int(depth[-1])
    return int(depth.max())


def _advance_number(chunk: bytes, lead: int, state: _State) -> None:
    """Carry the run of number characters ending ``chunk`` (outside strings) to the next."""
    # No quote lies within the trailing run, so the string state at its start is the state
    # at the chunk's end.
    if state.inside:
        state.number = 0
    elif lead == len(chunk):
        state.number += lead
    else:
        state.number = len(chunk) - len(chunk.rstrip(_NUMBER_CHARS))


def _locate(chunk: bytes, before: _State, max_depth: int, max_digits: int) -> Excess | None:
    """Byte by byte (vectorised): the first excess in ``chunk``, scanned from ``before``,
    with its line counted within the chunk (1 = the chunk's first line)."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    quotes = np.flatnonzero(data == _QUOTE)

    def outside(positions: np.ndarray) -> np.ndarray:
        return ((np.searchsorted(quotes, positions) + before.inside) & 1) == 0

    found: list[tuple[int, Excess]] = []
    brackets = np.flatnonzero(np.isin(data, _OPEN + _CLOSE))
    brackets = brackets[outside(brackets)]
    if len(brackets):
        depth = np.cumsum(np.where(np.isin(data[brackets], _OPEN), 1, -1)) + before.depth
        if depth.max() > max_depth:
            at = int(brackets[np.argmax(depth > max_depth)])
            found.append((at, Excess("depth", int(depth.max()), 0)))

    number = np.isin(data, np.frombuffer(_NUMBER_CHARS, dtype=np.uint8))
    edges = np.flatnonzero(number[1:] != number[:-1]) + 1
    starts = np.concatenate([[0] if number[0] else [], edges[number[edges]]]).astype(np.int64)
    ends = np.concatenate([edges[~number[edges]], [len(data)] if number[-1] else []])
    lengths = ends.astype(np.int64) - starts
    if len(lengths) and starts[0] == 0:
        lengths[0] += before.number
    keep = outside(starts)
    starts, lengths = starts[keep], lengths[keep]
    if len(lengths) and lengths.max() > max_digits:
        at = int(starts[np.argmax(lengths > max_digits)])
        found.append((at, Excess("digits", int(lengths.max()), 0)))

    if not found:
        return None
    at, excess = min(found, key=lambda item: item[0])
    return Excess(excess.what, excess.found, chunk.count(b"\n", 0, at) + 1)
