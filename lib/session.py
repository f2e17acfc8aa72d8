"""Plain-Python helpers behind the pages: the current model record and small display tables.

Nothing here imports streamlit; the pages keep these objects in ``st.session_state``.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Callable, Hashable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lib.errors import UserError
from lib.metrics import LABELS, LOWER_IS_BETTER
from lib.model_info import ModelInfo


@dataclass(frozen=True)
class CurrentModel:
    """The model a session works with, where it came from, and what is known about it.

    ``id`` is new for every model put in place, so per-model caches (file bytes, predictions)
    can be keyed on it.
    """

    model: Any
    info: ModelInfo
    source: str
    name: str
    load_warnings: list[str] = field(default_factory=list)
    result: Any = None  # the TrainingResult when it was trained in this session
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def metric_label(name: str) -> str:
    """The human label of a metric key ("r2" -> "R²")."""
    return LABELS.get(name, name)


def format_metric(value: float | None, name: str = "") -> str:
    """A metric value with 3 decimals (MAPE as a percentage), or "n/a"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if name == "mape":
        return f"{value:.1%}"
    return f"{value:.3f}"


def headline_metric(metadata: dict | None) -> str | None:
    """ "R² 0.873 (holdout)" from a model's metadata, or None when it holds no figures."""
    metrics = (metadata or {}).get("metrics") or {}
    primary = metrics.get("primary")
    for kind in ("holdout", "cv"):
        value = (metrics.get(kind) or {}).get(primary)
        if isinstance(value, dict):
            value = value.get("mean")
        if isinstance(value, (int, float)):
            where = "holdout" if kind == "holdout" else "cross-validation"
            return f"{metric_label(primary)} {format_metric(float(value))} ({where})"
    return None


def store_metadata(info: ModelInfo) -> dict:
    """What to keep in the library's sidecar: the model's own metadata, or what is known."""
    if info.metadata:
        return info.metadata
    return {
        "task": info.task,
        "target": info.target,
        "model": {"estimator": info.estimator},
        "versions": {"sklearn": info.file_sklearn_version},
        "n_features": info.n_features,
    }


def library_frame(entries: Sequence) -> pd.DataFrame:
    """The model library as a display table: one row per ``LibraryEntry``."""
    rows = []
    for entry in entries:
        meta = entry.metadata or {}
        rows.append(
            {
                "name": entry.name,
                "task": meta.get("task") or "",
                "target": meta.get("target") or "",
                "headline metric": headline_metric(meta) or "",
                "size": human_size(entry.size_bytes),
                "saved": entry.created_at[:19].replace("T", " "),
                "scikit-learn": (meta.get("versions") or {}).get("sklearn") or "",
            }
        )
    columns = ["name", "task", "target", "headline metric", "size", "saved", "scikit-learn"]
    return pd.DataFrame(rows, columns=columns)


def human_size(n_bytes: int) -> str:
    """1536 -> "1.5 KB"."""
    size = float(n_bytes)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n_bytes} bytes"  # pragma: no cover


def metrics_frame(metrics: dict[str, float], baseline: dict[str, float]) -> pd.DataFrame:
    """Model vs always-guess baseline, one row per metric, with which direction is better."""
    rows = [
        {
            "metric": metric_label(name),
            "model": value,
            "baseline": baseline.get(name, np.nan),
            "better when": "lower" if name in LOWER_IS_BETTER else "higher",
        }
        for name, value in metrics.items()
    ]
    return pd.DataFrame(rows, columns=["metric", "model", "baseline", "better when"])


def cv_frame(cv_scores: dict[str, list[float]]) -> pd.DataFrame:
    """Mean ± std of each metric over the cross-validation folds."""
    rows = [
        {
            "metric": metric_label(name),
            "mean": float(np.mean(folds)),
            "std": float(np.std(folds)),
            "folds": len(folds),
        }
        for name, folds in cv_scores.items()
    ]
    return pd.DataFrame(rows, columns=["metric", "mean", "std", "folds"])


def default_target(columns: Sequence[str], preferred: str | None = None) -> str:
    """The preferred target when the table has it, else the last column."""
    return preferred if preferred in columns else columns[-1]


def one_row_frame(values: dict[str, Any], kinds: dict[str, str]) -> pd.DataFrame:
    """A one-row table from form ``values``; datetime features become timestamps."""
    row = {}
    for name, value in values.items():
        if kinds.get(name) == "datetime" and value is not None:
            value = pd.Timestamp(value)
        row[name] = [value]
    return pd.DataFrame(row)


def predictions_csv(frame: pd.DataFrame) -> bytes:
    """The predictions table as UTF-8 CSV bytes."""
    return frame.to_csv(index=False).encode("utf-8")


@dataclass(frozen=True)
class TableData:
    """The session's current table: where it came from, its rows, profile and content hash."""

    name: str
    df: pd.DataFrame
    sha: str
    profiles: list
    suggested_target: str | None = None


def leaderboard_frame(board: pd.DataFrame) -> pd.DataFrame:
    """``compare_models``' ranking for display: rank, readable metric names, 3 decimals."""
    shown = board.drop(columns=["model"]).round(3)
    renamed = {}
    for column in shown.columns:
        metric, _, suffix = column.partition(" ")
        if column not in ("name", "seconds"):
            renamed[column] = f"{metric_label(metric)} {suffix}".strip()
    shown = shown.rename(columns=renamed).rename(columns={"name": "model"})
    shown.insert(0, "rank", range(1, len(shown) + 1))
    return shown


def file_stem(name: str) -> str:
    """A safe file name stem from a model name: letters, digits, ``.-_`` kept, the rest ``_``."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name.strip()).strip("._")
    return stem or "model"


# --- exploration: derived results, selections, defaults ---------------------------------------


class Derived:
    """What was computed from one (model, rows) pair, kept across reruns.

    ``get(name, compute, *args, **kwargs)`` runs ``compute(*args, **kwargs)`` once per name; a
    ``UserError`` it raises is kept and raised again, so a refusal is not recomputed on every
    rerun. ``derived_for`` replaces the
    whole record when the model or the rows change, so one session holds one pair's results.
    """

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self._values: dict[Hashable, Any] = {}

    def get(self, name: Hashable, compute: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if name not in self._values:
            try:
                self._values[name] = compute(*args, **kwargs)
            except UserError as error:
                self._values[name] = error
        value = self._values[name]
        if isinstance(value, UserError):
            raise value
        return value

    def __contains__(self, name: Hashable) -> bool:
        return name in self._values


def derived_for(state: MutableMapping, slot: str, key: Hashable) -> Derived:
    """The ``Derived`` record in ``state[slot]`` for ``key``; a fresh one when ``key`` changed."""
    cached = state.get(slot)
    if not isinstance(cached, Derived) or cached.key != key:
        cached = Derived(key)
        state[slot] = cached
    return cached


def rows_from_selection(selection: dict | None, n_rows: int | None = None) -> list[int]:
    """Row positions of the points selected on a plot whose points carry them as ``customdata``.

    ``selection`` is a Streamlit plotly selection (``{"points": [{"customdata": 12, ...}]}``;
    customdata may also be a list whose first item is the row). Points without customdata (the
    reference lines) are skipped; positions are unique, sorted and, with ``n_rows``, in range.
    """
    rows = set()
    for point in (selection or {}).get("points") or []:
        value = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if value is None or isinstance(value, bool):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isfinite(number) or number != int(number):
            continue
        row = int(number)
        if row >= 0 and (n_rows is None or row < n_rows):
            rows.add(row)
    return sorted(rows)


def top_input_feature(ranked: Iterable[str], inputs: Sequence[str]) -> str | None:
    """The input column behind the first of ``ranked`` importance names, or None.

    Names after preprocessing ("num__age", "cat__day_Sun") are traced back to the input column
    they come from (the longest input name they start with, after the ``step__`` prefix).
    """
    inputs = [str(name) for name in inputs]
    for name in ranked:
        name = str(name)
        if name in inputs:
            return name
        bare = name.split("__", 1)[1] if "__" in name else name
        matches = [i for i in inputs if bare == i or bare.startswith(f"{i}_")]
        if matches:
            return max(matches, key=len)
    return inputs[0] if inputs else None


def drift_table(columns: pd.DataFrame) -> pd.DataFrame:
    """``DriftReport.columns`` for display: flagged columns first, plain headers, a status word."""
    table = columns.sort_values("flagged", ascending=False, kind="stable")
    return pd.DataFrame(
        {
            "column": table["feature"],
            "status": np.where(table["flagged"], "differs", "as in training"),
            "kind": table["kind"],
            "outside range": table["out_of_range"],
            "unseen categories": table["unseen"],
            "missing in training": table["missing_train"],
            "missing here": table["missing_new"],
            # Text, so "not computed" reads as a dash rather than "None".
            "PSI": [f"{v:.2f}" if np.isfinite(v) else "–" for v in table["psi"]],
            "note": table["note"],
        }
    ).reset_index(drop=True)


def with_flag_column(shown: pd.DataFrame, row_flags: pd.Series, name: str) -> pd.DataFrame:
    """``shown`` plus a column ``name``: each row's count of unusual values (by index)."""
    out = shown.copy()
    out[name] = row_flags.reindex(shown.index).fillna(0).astype(int).to_numpy()
    return out


def row_values(row: pd.Series, features: Sequence) -> dict[str, Any]:
    """The model's input values of one row (``features``: ``Feature`` records), None if absent
    or missing, as plain Python values for form widgets."""
    values = {}
    for feature in features:
        value = row.get(feature.name) if feature.name in row.index else None
        if value is not None and not isinstance(value, str) and pd.isna(value):
            value = None
        values[feature.name] = value.item() if hasattr(value, "item") else value
    return values


def actual_values(
    column: pd.Series, task: str, classes: Sequence | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The target column's values that can score predictions.

    Returns the values (n_rows,), a boolean mask of the usable rows (numbers for regression;
    for classification, values among the model's ``classes``), and up to five values that are
    not classes the model knows (differently spelt or cased labels, say).
    """
    if task == "regression":
        numbers = pd.to_numeric(column, errors="coerce")
        return numbers.to_numpy(), numbers.notna().to_numpy(), []
    present = column.notna().to_numpy()
    if not classes:
        return column.to_numpy(), present, []
    known = present & column.isin(list(classes)).to_numpy()
    unknown = sorted({str(value) for value in column[present & ~known]})[:5]
    return column.to_numpy(), known, unknown


def unused_columns(df: pd.DataFrame, info: ModelInfo) -> list[str]:
    """Columns of ``df`` the model does not take as input: candidates for the actual values."""
    if info.features is None:
        return []
    if not info.named_features:
        return [str(c) for c in df.columns[info.n_features :]]
    used = {feature.name for feature in info.features}
    return [str(c) for c in df.columns if str(c) not in used]
