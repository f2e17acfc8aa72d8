"""The self-check record a model file carries: a few rows with what the model predicted on them.

``SelfCheck`` is one optional part of ``lib.schema.ModelMetadata`` (key "self_check" in the
file). Files from strangers reach ``SelfCheck.from_plain``, so every size and type is checked;
it raises ``ValueError`` (the schema drops the part with a warning). How the record is made and
used is in ``lib.self_check``.

The plain form, all lists of equal lengths where they pair up::

    {"columns": [name, ...], "dtypes": [pandas dtype text, ...],
     "values": [[column 0's values, one per row], ...],      # str, int, float, bool, None
     "predictions": [one per row],                           # labels or numbers
     "probabilities": [[one per class] per row] or None, "classes": [label, ...] or None}
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

MAX_ROWS = 100
MAX_COLUMNS = 2_000
MAX_TEXT = 1_000  # characters of one value or name
# The dtypes a check row may have: plain numbers, booleans, text, categories and datetimes.
DTYPE = re.compile(
    r"(u?int(8|16|32|64)|U?Int(8|16|32|64)|float(32|64)|Float(32|64)|bool|boolean|str|string"
    r"|object|category|datetime64\[(s|ms|us|ns)(, [A-Za-z0-9_/+:-]{1,64})?\])"
)

Scalar = str | int | float | bool


@dataclass(frozen=True)
class SelfCheck:
    """Check rows and what the model predicted on them where it was saved.

    ``values[j][i]`` is row ``i`` of column ``columns[j]`` (dtype ``dtypes[j]``; None is a
    missing value, datetimes are ISO text); ``predictions`` (n_rows,); ``probabilities``
    (n_rows, n_classes) in the order of ``classes``, or None.
    """

    columns: list[str]
    dtypes: list[str]
    values: list[list[Scalar | None]]
    predictions: list[Scalar]
    probabilities: list[list[float]] | None = None
    classes: list[Scalar] | None = None

    @property
    def n_rows(self) -> int:
        return len(self.predictions)

    def to_plain(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "dtypes": list(self.dtypes),
            "values": [list(column) for column in self.values],
            "predictions": list(self.predictions),
            "probabilities": None
            if self.probabilities is None
            else [list(row) for row in self.probabilities],
            "classes": None if self.classes is None else list(self.classes),
        }

    @classmethod
    def from_plain(cls, plain: object) -> SelfCheck:
        """Check and read the file's record; raises ``ValueError`` saying what is wrong."""
        if not isinstance(plain, dict):
            raise ValueError("the self-check is not a mapping")
        predictions = _scalars(plain.get("predictions"), "the check predictions", MAX_ROWS)
        n_rows = len(predictions)
        if n_rows == 0:
            raise ValueError("the self-check has no rows")
        columns = _scalars(plain.get("columns"), "the check columns", MAX_COLUMNS)
        if not columns or not all(isinstance(name, str) for name in columns):
            raise ValueError("the check columns are not names")
        if len(set(columns)) != len(columns):
            raise ValueError("a check column is listed twice")
        dtypes = _scalars(plain.get("dtypes"), "the check dtypes", MAX_COLUMNS)
        if len(dtypes) != len(columns) or not all(
            isinstance(d, str) and DTYPE.fullmatch(d) for d in dtypes
        ):
            raise ValueError("the check dtypes are not one known dtype per column")
        values = _list(plain.get("values"), "the check values", MAX_COLUMNS)
        if len(values) != len(columns):
            raise ValueError("the check values are not one list per column")
        values = [_scalars(column, "a check column", MAX_ROWS, missing=True) for column in values]
        if any(len(column) != n_rows for column in values):
            raise ValueError("a check column does not have one value per row")
        for dtype, column in zip(dtypes, values, strict=True):
            if str(dtype).startswith("datetime64") and not all(
                v is None or isinstance(v, str) for v in column
            ):
                raise ValueError("a check column of dates holds something that is not ISO text")
        probabilities = None
        if plain.get("probabilities") is not None:
            rows = _list(plain["probabilities"], "the check probabilities", MAX_ROWS)
            probabilities = [_numbers(row, "a row of probabilities") for row in rows]
            widths = {len(row) for row in probabilities}
            if len(probabilities) != n_rows or len(widths) != 1 or widths == {0}:
                raise ValueError("the check probabilities are not one equal-length row per row")
        classes = None
        if plain.get("classes") is not None:
            classes = _scalars(plain["classes"], "the check classes", 10_000)
            if probabilities is not None and len(classes) != len(probabilities[0]):
                raise ValueError("the check probabilities do not have one column per class")
        return cls(
            columns=[str(name) for name in columns],
            dtypes=[str(d) for d in dtypes],
            values=values,
            predictions=predictions,
            probabilities=probabilities,
            classes=classes,
        )


def _list(value: object, what: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} are not a list")
    if len(value) > limit:
        raise ValueError(f"{what} hold more than {limit:,} entries")
    return value


def _scalars(value: object, what: str, limit: int, missing: bool = False) -> list[Any]:
    """``value`` if it is a list of at most ``limit`` single values (None too if ``missing``)."""
    items = _list(value, what, limit)
    for item in items:
        if item is None and missing:
            continue
        if not isinstance(item, str | int | float | bool):  # bool is an int
            raise ValueError(f"{what} hold something that is not a single value")
        if isinstance(item, str) and len(item) > MAX_TEXT:
            raise ValueError(f"{what} hold a text longer than {MAX_TEXT:,} characters")
        if isinstance(item, int) and not -(2**63) <= item < 2**64:
            raise ValueError(f"{what} hold a number too large for 64 bits")
    return items


def _numbers(value: object, what: str) -> list[float]:
    items = _list(value, what, 10_000)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in items):
        raise ValueError(f"{what} are not numbers")
    if not all(math.isfinite(v) for v in items):
        raise ValueError(f"{what} are not finite")
    return [float(v) for v in items]
