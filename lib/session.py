"""Plain-Python helpers behind the pages: the current model record and small display tables.

Nothing here imports streamlit; the pages keep these objects in ``st.session_state``.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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


def format_metric(value: float | None) -> str:
    """A metric value with 3 decimals, or "n/a"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
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
