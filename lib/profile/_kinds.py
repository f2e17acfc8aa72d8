"""The kinds a column can be, the rules that tell text-like columns apart, and the reasons a
kind cannot be a feature."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

NUMERIC, CATEGORICAL, BOOLEAN, DATETIME = "numeric", "categorical", "boolean", "datetime"
TEXT, IDENTIFIER, EMPTY = "text", "identifier", "empty"
NESTED, BINARY = "nested", "binary"
KINDS = frozenset(
    {NUMERIC, CATEGORICAL, BOOLEAN, DATETIME, TEXT, IDENTIFIER, EMPTY, NESTED, BINARY}
)

ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key|index)$|^(id|uuid|guid)[_\s-]", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_BOOL_WORDS = {"true", "false", "yes", "no", "y", "n", "t", "f"}
_HEAD = 1000  # the text rules look at the first this many values

NO_VALUES = "has no values"
_REASONS = {
    IDENTIFIER: "looks like an identifier (almost every value is different)",
    TEXT: "free text (long, mostly unique strings)",
    NESTED: (
        "holds lists or records (nested values), which a model cannot use as they are; "
        "flatten them into columns"
    ),
    BINARY: "holds binary data, not numbers or text",
    EMPTY: NO_VALUES,
}


def reason_to_leave_out(kind: str, n_distinct: int) -> str | None:
    """Why a column of ``kind`` with ``n_distinct`` values cannot be a feature, or None."""
    if kind in _REASONS:
        return _REASONS[kind]
    if n_distinct <= 1:
        return "has the same value in every row"
    return None


class Texts(Protocol):
    """The string forms of a column's present values, read only as far as a rule needs."""

    def distinct(self) -> list[str]:
        """Every distinct value (asked only when there are at most two)."""
        ...

    def head_counts(self, k: int) -> Iterator[tuple[str, int]]:
        """(value, count) pairs that together make the first ``k`` values, in any order."""
        ...

    def head_means(self, k: int) -> tuple[float, float]:
        """The mean length and mean number of spaces of the first ``k`` values."""
        ...


def text_kind(texts: Texts, n: int, n_distinct: int) -> str:
    """The kind of a column of ``n`` present values (``n >= 1``) read as text.

    ``n_distinct`` counts the values themselves (1 and 1.0 are one value), not their text.
    """
    if n_distinct <= 2 and {value.lower() for value in texts.distinct()} <= _BOOL_WORDS:
        return BOOLEAN
    h = min(n, _HEAD)
    if _mostly_dates(texts, h):
        return DATETIME
    if n_distinct > 50 and n_distinct >= 0.95 * n:
        length, spaces = texts.head_means(h)
        return TEXT if length > 30 and spaces >= 3 else IDENTIFIER
    if n_distinct > 0.5 * n and n > 100:
        _, spaces = texts.head_means(h)
        return TEXT if spaces >= 3 else IDENTIFIER
    return CATEGORICAL


def _mostly_dates(texts: Texts, h: int) -> bool:
    """Whether more than 95% of the first ``h`` values are ISO-8601 dates or times.

    Stops as soon as too many values are not dates: most columns tell in a few values.
    """
    matches = seen = 0
    for value, count in texts.head_counts(h):
        seen += count
        if _ISO_DATE.match(value) is not None:
            matches += count
        elif (matches + h - seen) / h <= 0.95:  # even if every value left were a date
            return False
    return matches / h > 0.95
