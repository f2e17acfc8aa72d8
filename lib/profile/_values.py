"""Columns of Python objects, of Arrow strings, and of pandas' other scalar dtypes, one column
at a time.

Objects are looked at by type first: a column holding any list, record or array is NESTED, any
bytes BINARY; other values (strings, numbers, dates, mixed) are read through their ``str``
form, as pandas' ``astype(str)`` gives it. Arrow strings are counted by Arrow's own kernels, so
a short column costs a few calls, not a pass of Python over every value.
"""

from __future__ import annotations

import json
import reprlib
from collections import Counter
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._kinds import BINARY, BOOLEAN, DATETIME, EMPTY, NESTED, text_kind
from ._record import ColumnProfile, clip, make_profile

_TOP = 10
_SHORT = 60  # characters shown of a nested or binary value
_SLICE = 64  # Arrow values converted to Python at a time
_NESTED_TYPES = (list, tuple, dict, set, frozenset, np.ndarray, Mapping)
_BINARY_TYPES = (bytes, bytearray, memoryview)
_short_repr = reprlib.Repr()
_short_repr.maxlevel, _short_repr.maxstring, _short_repr.maxother = 3, _SHORT, _SHORT


def profile_objects(values: np.ndarray, name: str, dtype: str, n_rows: int,
                    scale: float) -> ColumnProfile:  # fmt: skip
    """The profile of ``values`` (n,), an object array as ``Series.to_numpy(dtype=object)``."""
    missing = pd.isna(values)
    n_missing = int(missing.sum())
    present = values[~missing] if n_missing else values
    base = (name, dtype, n_rows, round(n_missing * scale))
    if present.size == 0:
        return make_profile(*base, 0, EMPTY)
    types = set(map(type, present))
    if any(_is_nested(t) for t in types):
        forms = [_nested_form(value) for value in present]
        top = [(clip(form, _SHORT), count) for form, count in Counter(forms).most_common(_TOP)]
        return make_profile(*base, len(set(forms)), NESTED, top=top)
    if any(issubclass(t, _BINARY_TYPES) for t in types):
        keys = [bytes(v) if isinstance(v, bytearray | memoryview) else v for v in present]
        counts = Counter(keys)
        top = [(_binary_label(key), count) for key, count in counts.most_common(_TOP)]
        return make_profile(*base, len(counts), BINARY, top=top)
    if types == {str}:
        texts = present.tolist()
        n_distinct = len(set(texts))
    else:
        texts = _str_forms(present)
        n_distinct = len(set(present.tolist()))  # of the values: 1 and 1.0 are one
    kind = text_kind(_ListTexts(texts), len(texts), n_distinct)
    return make_profile(*base, n_distinct, kind, top=Counter(texts).most_common(_TOP))


def profile_arrow_text(array: pa.ChunkedArray, name: str, dtype: str, n_rows: int,
                       scale: float) -> ColumnProfile:  # fmt: skip
    """The profile of an Arrow string column (null is missing), as pandas' ``str`` dtype holds."""
    n_missing = array.null_count
    base = (name, dtype, n_rows, round(n_missing * scale))
    if n_missing == len(array):
        return make_profile(*base, 0, EMPTY)
    counted = pc.value_counts(array)  # in order of first appearance, null among them
    values, counts = counted.field("values"), counted.field("counts").to_numpy()
    few = values.to_pylist() if len(values) <= _SLICE else None  # cheaper than Arrow's take
    if n_missing:  # the null entry: counted last, read as no value
        if few is not None:
            null_at = few.index(None)
        else:
            null_at = int(np.argmax(values.is_null().to_numpy(zero_copy_only=False)))
        counts = counts.copy()
        counts[null_at] = -1
    n_distinct = len(values) - (n_missing > 0)
    texts = _ArrowTexts(array, values, counts)
    kind = text_kind(texts, len(array) - n_missing, n_distinct)
    order = np.argsort(-counts, kind="stable")[: min(_TOP, n_distinct)]  # ties: first seen first
    if few is not None:
        labels = [few[i] for i in order.tolist()]
    else:
        labels = values.take(pa.array(order)).to_pylist()
    top = list(zip(labels, counts[order].tolist(), strict=True))
    return make_profile(*base, n_distinct, kind, top=top)


def profile_with_pandas(series: pd.Series, name: str, n_rows: int, scale: float) -> ColumnProfile:
    """The profile of a column of hashable scalars of a pandas dtype: datetimes, timedeltas,
    periods, intervals, categories, nullable booleans. Their text is pandas' ``astype(str)``."""
    n_missing = int(series.isna().sum())
    present = series.dropna()
    base = (name, str(series.dtype), n_rows, round(n_missing * scale))
    if present.empty:
        return make_profile(*base, 0, EMPTY)
    n_distinct = int(present.nunique())
    text = present.astype(str)
    if pd.api.types.is_bool_dtype(present.dtype):
        kind = BOOLEAN
    elif pd.api.types.is_datetime64_any_dtype(present.dtype):
        kind = DATETIME
    else:
        kind = text_kind(_ListTexts(text.tolist()), len(present), n_distinct)
    counts = text.value_counts().head(_TOP)
    top = [(str(value), int(count)) for value, count in counts.items()]
    return make_profile(*base, n_distinct, kind, top=top)


class _ListTexts:
    """``Texts`` over a list of strings."""

    def __init__(self, texts: list[str]) -> None:
        self._texts = texts

    def distinct(self) -> list[str]:
        return list(set(self._texts))

    def head_counts(self, k: int) -> Iterator[tuple[str, int]]:
        return ((text, 1) for text in self._texts[:k])

    def head_means(self, k: int) -> tuple[float, float]:
        head = self._texts[:k]
        return sum(map(len, head)) / len(head), sum(t.count(" ") for t in head) / len(head)


class _ArrowTexts:
    """``Texts`` over an Arrow string column, its distinct values and their counts (null among
    them when the column has missing values); converts to Python only what a rule reads, a
    slice at a time."""

    def __init__(self, array: pa.ChunkedArray, distinct: pa.Array, counts: np.ndarray) -> None:
        self._array = array
        self._distinct = distinct
        self._counts = counts

    def _head(self, k: int) -> pa.ChunkedArray:
        present = self._array.drop_null() if self._array.null_count else self._array
        return present.slice(0, k)

    def distinct(self) -> list[str]:
        return [value for value in self._distinct.to_pylist() if value is not None]

    def head_counts(self, k: int) -> Iterator[tuple[str, int]]:
        if len(self._array) - self._array.null_count <= k:  # the head is the whole column
            values, counts = self._distinct, self._counts.tolist()
        else:
            values, counts = self._head(k), [1] * k
        for start in range(0, len(values), _SLICE):
            part = values.slice(start, _SLICE).to_pylist()
            pairs = zip(part, counts[start : start + _SLICE], strict=True)
            yield from ((value, count) for value, count in pairs if value is not None)

    def head_means(self, k: int) -> tuple[float, float]:
        head = self._head(k)
        length = pc.sum(pc.utf8_length(head)).as_py()
        spaces = pc.sum(pc.count_substring(head, " ")).as_py()
        return length / len(head), spaces / len(head)


def _is_nested(kind: type) -> bool:
    """Whether values of type ``kind`` are containers (bytearray, also unhashable, is binary)."""
    if issubclass(kind, _BINARY_TYPES):
        return False
    return issubclass(kind, _NESTED_TYPES) or kind.__hash__ is None


def _str_forms(values: np.ndarray) -> list[str]:
    """``str`` of each value, as ``astype(str)`` gives it for objects."""
    try:
        return list(map(str, values))
    except ValueError:  # an int too long to print (Python's digit limit)
        return [_safe_str(value) for value in values]


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except ValueError:
        return f"<{type(value).__name__} too long to show>"


def _nested_form(value: object) -> str:
    """A JSON-like text of a nested value, whole: equal values give equal text."""
    try:
        return json.dumps(value, default=_jsonable, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # keys that are not text, or too deep
        try:
            return _short_repr.repr(value)
        except (TypeError, ValueError, RecursionError):
            return f"<{type(value).__name__}>"


def _jsonable(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, _BINARY_TYPES):
        return _binary_label(bytes(value))
    return _safe_str(value)


def _binary_label(value: object) -> str:
    """A short repr of a binary value (b'...'), or the text of another value beside them."""
    if isinstance(value, bytes):
        return clip(repr(value[:_SHORT]), _SHORT)
    return clip(_safe_str(value), _SHORT)
