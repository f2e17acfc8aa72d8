"""``ColumnProfile``, one column's profile, and its plain JSON form for passing between
processes (``to_json`` / ``from_json``, which refuses anything malformed)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ._kinds import KINDS, reason_to_leave_out

STAT_KEYS = ("min", "max", "mean", "median", "std", "q01", "q99")
MAX_TOP_VALUES = 10
# Bounds on the text fields. A name must fit any column name a reader lets through (a CSV
# header cell may hold 131,072 characters by default); a top value is shown, not matched, so
# the profiler cuts longer ones to MAX_VALUE_CHARS.
MAX_NAME_CHARS = 262_144
MAX_DTYPE_CHARS = 1_000
MAX_REASON_CHARS = 1_000
MAX_VALUE_CHARS = 200
_MAX_COUNT = 2**63 - 1
_FIELDS = frozenset(
    {"name", "kind", "dtype", "n_rows", "n_missing", "n_distinct", "reason", "stats", "top_values"}
)


@dataclass(frozen=True)
class ColumnProfile:
    """One column's profile.

    ``stats`` holds plain floats for numeric columns (min, max, mean, median, std, q01, q99)
    and ``top_values`` the most frequent values as (value, count) for the others.
    """

    name: str
    kind: str
    dtype: str
    n_rows: int
    n_missing: int
    n_distinct: int
    reason: str | None = None
    stats: dict[str, float] = field(default_factory=dict)
    top_values: list[tuple[str, int]] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Whether the column can be a feature (a reason is given when it cannot)."""
        return self.reason is None

    @property
    def missing_share(self) -> float:
        return self.n_missing / self.n_rows if self.n_rows else 0.0

    @property
    def summary(self) -> str:
        """A short human description: the range for numbers, the top values otherwise."""
        if self.stats:
            return f"{_fmt(self.stats['min'])} to {_fmt(self.stats['max'])}"
        return ", ".join(str(value) for value, _ in self.top_values[:3])

    def to_json(self) -> dict[str, Any]:
        """The profile as a plain dict of str, int, float, None and lists (``json.dumps``-able)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype,
            "n_rows": self.n_rows,
            "n_missing": self.n_missing,
            "n_distinct": self.n_distinct,
            "reason": self.reason,
            "stats": dict(self.stats),
            "top_values": [[value, count] for value, count in self.top_values],
        }

    @classmethod
    def from_json(cls, data: object) -> ColumnProfile:
        """Parse ``to_json``'s dict (as another process sent it); raises ValueError if malformed."""
        if not isinstance(data, dict) or set(data) != _FIELDS:
            raise ValueError(f"a column profile needs exactly the keys {sorted(_FIELDS)}")
        kind = data["kind"]
        if not isinstance(kind, str) or kind not in KINDS:
            raise ValueError(f"unknown column kind {str(kind)[:40]!r}")
        n_rows = _count(data["n_rows"], "n_rows")
        profile = cls(
            name=_text(data["name"], "name", MAX_NAME_CHARS),
            kind=kind,
            dtype=_text(data["dtype"], "dtype", MAX_DTYPE_CHARS),
            n_rows=n_rows,
            n_missing=_count(data["n_missing"], "n_missing", n_rows),
            n_distinct=_count(data["n_distinct"], "n_distinct", n_rows),
            reason=None
            if data["reason"] is None
            else _text(data["reason"], "reason", MAX_REASON_CHARS),
            stats=_stats(data["stats"]),
            top_values=_top_values(data["top_values"], n_rows),
        )
        return profile


def make_profile(name: str, dtype: str, n_rows: int, n_missing: int, n_distinct: int,
                 kind: str, stats: dict[str, float] | None = None,
                 top: list[tuple[str, int]] | None = None) -> ColumnProfile:  # fmt: skip
    """A profile with the reason its kind implies, its dtype and top values cut to the bounds.

    ``n_missing`` is already scaled to ``n_rows``; ``n_distinct`` and the counts in ``top`` are
    the sample's.
    """
    return ColumnProfile(
        name=name,
        kind=kind,
        dtype=clip(dtype, MAX_DTYPE_CHARS),
        n_rows=n_rows,
        n_missing=n_missing,
        n_distinct=n_distinct,
        reason=reason_to_leave_out(kind, n_distinct),
        stats=stats or {},
        top_values=[(clip(value, MAX_VALUE_CHARS), count) for value, count in (top or [])],
    )


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a column profile's {what} must be a string")
    if len(value) > limit:
        raise ValueError(f"a column profile's {what} is longer than {limit:,} characters")
    return value


def _count(value: object, what: str, at_most: int = _MAX_COUNT) -> int:
    if type(value) is not int or not 0 <= value <= at_most:
        raise ValueError(f"a column profile's {what} must be a whole number from 0 to {at_most:,}")
    return value


def _stats(value: object) -> dict[str, float]:
    if not isinstance(value, dict) or not set(value) <= set(STAT_KEYS):
        raise ValueError(f"a column profile's stats must be a dict with keys among {STAT_KEYS}")
    stats = {}
    for key, number in value.items():
        if type(number) not in (int, float):
            raise ValueError(f"a column profile's stat {key!r} must be a number")
        stats[key] = float(number)
    return stats


def _top_values(value: object, n_rows: int) -> list[tuple[str, int]]:
    if not isinstance(value, list | tuple) or len(value) > MAX_TOP_VALUES:
        raise ValueError(
            f"a column profile's top_values must be a list of at most {MAX_TOP_VALUES}"
        )
    pairs = []
    for pair in value:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError("each of a column profile's top_values must be a (value, count) pair")
        pairs.append(
            (_text(pair[0], "top value", MAX_VALUE_CHARS), _count(pair[1], "count", n_rows))
        )
    return pairs


def _fmt(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    return f"{value:,.4g}"
