"""Column names and types every reader's table leaves with: ``clean_columns(frame)``."""

from __future__ import annotations

import pandas as pd


def clean_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every column a unique, non-empty string name (as pandas' own CSV reader does)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, column in enumerate(frame.columns):
        name = str(column).strip() if column is not None else ""
        if not name or name.lower() == "nan":
            name = f"Unnamed: {position}"
        base, count = name, seen.get(name, 0)
        while name in seen:
            count += 1
            name = f"{base}.{count}"
        seen[base] = count
        seen[name] = 0
        names.append(name)
    frame.columns = names
    zoned = [
        name
        for name, dtype in zip(names, frame.dtypes, strict=True)
        if isinstance(dtype, pd.DatetimeTZDtype)
    ]
    for column in zoned:
        frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame
