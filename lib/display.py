"""Figures and records as people read them: labels, numbers, sizes and display tables."""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lib.access import PRIVATE, SHARED
from lib.library import AuditEvent, NameSummary, TrashedVersion, VersionRecord
from lib.metrics import LABELS, LOWER_IS_BETTER
from lib.model_info import ModelInfo
from lib.schema import MalformedMetadata, ModelMetadata


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


# What a 95 % interval (lib.uncertainty) is over: the held-out rows, else the folds.
HOLDOUT_INTERVAL = "95 % interval over the held-out rows (bootstrap)"
CV_INTERVAL = "95 % interval over the cross-validation folds (mean ± t · std / √folds)"


def format_interval(bounds: Sequence[float] | None, name: str = "") -> str:
    """ "0.812–0.861" (as ``format_metric``), or "" when there is no interval."""
    if not bounds:
        return ""
    low, high = bounds
    return f"{format_metric(low, name)}–{format_metric(high, name)}"


def interval_note(bounds: Sequence[float] | None, name: str, holdout: bool = True) -> str:
    """ "95 % interval over the held-out rows (bootstrap): 0.812–0.861." or ""."""
    shown = format_interval(bounds, name)
    return f"{HOLDOUT_INTERVAL if holdout else CV_INTERVAL}: {shown}." if shown else ""


def intervals_caption(intervals: dict[str, Sequence[float]], names: Sequence[str]) -> str:
    """One line with the holdout interval of each metric in ``names`` that has one, or ""."""
    shown = [
        f"{metric_label(name)} {format_interval(intervals[name], name)}"
        for name in names
        if intervals.get(name)
    ]
    return f"{HOLDOUT_INTERVAL}: {' · '.join(shown)}" if shown else ""


def headline_metric(metadata: ModelMetadata | None) -> str | None:
    """ "R² 0.873 (holdout, 95 % interval 0.851–0.894)" from a model's metadata (the interval
    when the file has one), or None when it holds no figures."""
    figures = metadata.figures if metadata else None
    headline = figures.headline() if figures else None
    if figures is None or headline is None or not math.isfinite(headline[0]):
        return None
    value, kind = headline
    where = "holdout" if kind == "holdout" else "cross-validation"
    interval = format_interval(figures.intervals.get(figures.primary), figures.primary)
    if interval:
        where += f", 95 % interval {interval}"
    return f"{metric_label(figures.primary)} {format_metric(value, figures.primary)} ({where})"


def store_metadata(info: ModelInfo) -> dict[str, Any]:
    """What to keep in the library's sidecar: the model's own metadata, or what is known."""
    if info.metadata:
        return info.metadata.to_plain()
    return {
        "task": info.task,
        "target": info.target,
        "model": {"estimator": info.estimator},
        "versions": {"sklearn": info.file_sklearn_version},
        "n_features": info.n_features,
    }


def library_frame(names: Sequence[NameSummary]) -> pd.DataFrame:
    """The model library as a display table: one row per name, describing its newest version."""
    rows = []
    for summary in names:
        latest = summary.latest
        facts = _sidecar_facts(latest.metadata)
        rows.append(
            {
                "name": summary.name,
                "latest version": summary.latest_version,
                "versions": summary.count,
                "saved": saved_when(latest.created_at),
                "task": facts["task"],
                "target": facts["target"],
                "headline metric": facts["headline metric"],
                "size": human_size(latest.size_bytes),
            }
        )
    columns = [
        "name", "latest version", "versions", "saved", "task", "target", "headline metric", "size"
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def version_history_frame(records: Sequence[VersionRecord]) -> pd.DataFrame:
    """The versions of one name as a display table, newest first: when, by which workspace,
    the headline figure, the training data and its fingerprint (first 12 hex digits), size."""
    rows = []
    for record in sorted(records, key=lambda r: r.version, reverse=True):
        facts = _sidecar_facts(record.metadata)
        rows.append(
            {
                "version": record.version,
                "saved": saved_when(record.created_at),
                "saved by": record.saved_by or "",
                "visible to": VISIBLE_TO.get(record.visibility, record.visibility),
                "headline metric": facts["headline metric"],
                "training data": facts["training data"],
                "data fingerprint": facts["data fingerprint"],
                "size": human_size(record.size_bytes),
            }
        )
    columns = [
        "version", "saved", "saved by", "visible to", "headline metric", "training data",
        "data fingerprint", "size",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


VISIBLE_TO = {SHARED: "everyone", PRIVATE: "its owner"}


def trash_frame(entries: Sequence[TrashedVersion], retention_s: float) -> pd.DataFrame:
    """Deleted versions one may restore, newest deletion first: which, when deleted and by
    whom, and when it goes for good."""
    rows = []
    for entry in entries:
        deleted = _dt.datetime.fromisoformat(entry.deleted_at)
        purge = deleted + _dt.timedelta(seconds=retention_s)
        rows.append(
            {
                "name": entry.record.name,
                "version": entry.record.version,
                "deleted": saved_when(entry.deleted_at),
                "deleted by": entry.deleted_by or "",
                "gone for good after": saved_when(purge.isoformat()),
            }
        )
    columns = ["name", "version", "deleted", "deleted by", "gone for good after"]
    return pd.DataFrame(rows, columns=columns)


def audit_frame(events: Sequence[AuditEvent]) -> pd.DataFrame:
    """Audit events as a display table, in the order given (newest first)."""
    rows = [
        {
            "when (UTC)": saved_when(event.at),
            "action": event.action,
            "who": event.who or "",
            "model": event.name or "",
            "version": event.version,
            "from": event.address or "",
            "detail": event.detail or "",
        }
        for event in events
    ]
    columns = ["when (UTC)", "action", "who", "model", "version", "from", "detail"]
    return pd.DataFrame(rows, columns=columns)


def version_label(record: VersionRecord, latest_version: int) -> str:
    """ "version 3 (latest), saved 2026-12-07 04:40:12" for a version select."""
    latest = " (latest)" if record.version == latest_version else ""
    return f"version {record.version}{latest}, saved {saved_when(record.created_at)}"


def workspace_label(workspace_id: str) -> str:
    """ "workspace 18311bb3": who saved a version, until people sign in.

    Only the first 8 of the id's 32 hex digits: the full id opens that workspace's jobs (it is
    in its URL), and the library is shown to everyone. 8 digits still let a person tell their
    own saves (their URL's ``ws=`` starts with them) from others'.
    """
    return f"workspace {workspace_id[:8]}"


def saved_when(created_at: str) -> str:
    """ "2026-12-07T04:40:12.5+00:00" -> "2026-12-07 04:40:12" (the library keeps UTC)."""
    return created_at[:19].replace("T", " ")


def _sidecar_facts(plain: dict[str, Any]) -> dict[str, str]:
    """Task, target, headline, scikit-learn version and training data from a saved version's
    metadata: the model's own record when it has one, else the few facts saved for a model
    made elsewhere."""
    try:
        meta, _ = ModelMetadata.from_plain(plain)
    except MalformedMetadata:
        versions = plain.get("versions")
        version = versions.get("sklearn") if isinstance(versions, dict) else None
        return {
            "task": _text(plain.get("task")),
            "target": _text(plain.get("target")),
            "headline metric": "",
            "scikit-learn": _text(version),
            "training data": "",
            "data fingerprint": "",
        }
    data = meta.training_data
    return {
        "task": meta.task,
        "target": meta.target,
        "headline metric": headline_metric(meta) or "",
        "scikit-learn": meta.versions.get("sklearn", ""),
        "training data": f"{data.name}, {data.rows:,} rows" if data else "",
        "data fingerprint": data.fingerprint[:12] if data else "",
    }


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def human_size(n_bytes: int) -> str:
    """1536 -> "1.5 KB"."""
    size = float(n_bytes)
    for unit in ("bytes", "KB", "MB"):
        if size < 1024:
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"


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


def cv_table(
    cv_scores: dict[str, list[float]], intervals: dict[str, Sequence[float]] | None = None
) -> pd.DataFrame:
    """``cv_frame`` as shown: metric, "mean ± std", folds, and with ``intervals`` (the folds'
    own, when nothing was held out) a 95 % interval column."""
    table = cv_frame(cv_scores)
    table["mean ± std"] = [
        f"{m:.3f} ± {s:.3f}" for m, s in zip(table["mean"], table["std"], strict=True)
    ]
    columns = ["metric", "mean ± std", "folds"]
    if intervals:
        table["95 % interval"] = [format_interval(intervals.get(name), name) for name in cv_scores]
        columns.append("95 % interval")
    return table[columns]


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


def default_target(columns: Sequence[str], preferred: str | None = None) -> str:
    """The preferred target when the table has it, else the last column."""
    return preferred if preferred is not None and preferred in columns else columns[-1]


def file_stem(name: str) -> str:
    """A safe file name stem from a model name: letters, digits, ``.-_`` kept, the rest ``_``."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name.strip()).strip("._")
    return stem or "model"


def predictions_csv(frame: pd.DataFrame) -> bytes:
    """The predictions table as UTF-8 CSV bytes, every value as it is (for code)."""
    return frame.to_csv(index=False).encode("utf-8")


# A spreadsheet runs a text cell starting with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_csv(frame: pd.DataFrame) -> bytes:
    """``predictions_csv`` for opening in a spreadsheet: each text cell and column name that a
    spreadsheet would run as a formula starts with a ``'`` instead (numbers stay numbers)."""
    return predictions_csv(spreadsheet_safe(frame))


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with ``defuse`` applied to its column names and its text cells
    (columns that are not numbers, booleans or dates; only ``str`` values change)."""
    out = frame.copy()
    out.columns = [defuse(str(name)) for name in frame.columns]
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        dtype = column.dtype
        if (
            pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype)
            or isinstance(dtype, pd.PeriodDtype | pd.IntervalDtype)
        ):
            continue
        out.isetitem(position, column.astype(object).map(defuse).to_numpy())
    return out


def defuse(value: object) -> object:
    """A text value that a spreadsheet would run as a formula, prefixed with ``'`` (shown as
    text); anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


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


def summary_range(feature_summary: Any) -> str:
    """What a column looked like in training, in a few words ("3 to 9 (median 5)")."""
    summary = feature_summary
    if summary is None:
        return ""
    if summary.has_range:
        return f"{summary.min:.4g} to {summary.max:.4g} (median {summary.median:.4g})"
    if summary.categories:
        seen = ", ".join(summary.category_values()[:5])
        return seen + (" …" if summary.n_distinct > 5 else "")
    if summary.first:
        return f"{summary.first[:10]} to {(summary.last or '')[:10]}"
    return ""


def duration(seconds: float) -> str:
    """``seconds`` for a person: "0.4 s", "42 s", "3 min 5 s", "1 h 12 min"."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def tuning_frame(board: pd.DataFrame) -> pd.DataFrame:
    """A tuning leaderboard for display: settings, the round reached, rows, score ± spread."""
    primary = board.attrs.get("primary", "")
    mean, std = f"{primary} mean", f"{primary} std"
    shown = board.drop(columns=["candidate", mean, std]).copy()
    shown.insert(0, metric_label(primary), [
        f"{m:.4f} ± {s:.4f}" for m, s in zip(board[mean], board[std], strict=True)
    ])  # fmt: skip
    return shown


def slices_frame(table: pd.DataFrame) -> pd.DataFrame:
    """``lib.slices.slice_table`` as shown: group, rows, the figures (text, MAPE as a share),
    the primary figure's 95 % interval, the gap to all rows ("+0.120 worse") and the note."""
    primary = table.attrs.get("primary", "")
    metrics = table.attrs.get("metrics", [primary])
    shown = pd.DataFrame({"group": table["group"], "rows": table["rows"]})
    for name in metrics:
        shown[metric_label(name)] = [format_metric(float(v), name) for v in table[name]]
    shown["95 % interval"] = [
        format_interval((low, high) if math.isfinite(low) else None, primary)
        for low, high in zip(table["low"], table["high"], strict=True)
    ]
    shown["gap to all rows"] = [_gap_text(float(gap), primary) for gap in table["gap"]]
    shown["note"] = table["note"]
    return shown


def _gap_text(gap: float, name: str) -> str:
    """A gap signed so that positive is worse: "0.120 worse", "0.050 better", "same"."""
    if not math.isfinite(gap):
        return "n/a"
    size = format_metric(abs(gap), name)
    if size == format_metric(0.0, name):
        return "same"
    return f"{size} {'worse' if gap > 0 else 'better'}"


def demote_headings(markdown: str, levels: int) -> str:
    """``markdown`` with every heading ``levels`` deeper ("# A" -> "### A" for 2), to show a
    document inside a page without its title outshouting the page's."""
    return re.sub(r"^(#{1,6}) ", lambda m: "#" * min(6, len(m.group(1)) + levels) + " ",
                  markdown, flags=re.MULTILINE)  # fmt: skip


def level_label(level: float) -> str:
    """A nominal level as people read it: 0.9 -> "90 %", 0.95 -> "95 %", 0.5 -> "50 %"."""
    return f"{level * 100:.3g} %"


def coverage_sentence(coverage: Any, task: str) -> str:
    """What the conformal intervals or sets (``lib.conformal.Coverage``) did on labelled rows:
    "90 % intervals held the true value for 88.7 % of these 1,204 rows (nominal 90 %); …"."""
    level = level_label(coverage.level)
    if not coverage.n_rows:
        return f"No labelled rows to measure the {level} intervals on."
    share = f"{coverage.share:.1%}".replace("%", " %")
    rows = f"{coverage.n_rows:,} row{'s' if coverage.n_rows != 1 else ''}"
    if task == "classification":
        text = (
            f"{level} prediction sets held the true class for {share} of these {rows} "
            f"(nominal {level}); {coverage.mean_set_size:.2f} classes per set on average"
        )
        several, empty = coverage.extra.get("several", 0.0), coverage.extra.get("empty", 0.0)
        text += f", {several:.0%} with more than one, {empty:.0%} empty".replace("%", " %")
        return text + "."
    return (
        f"{level} intervals held the true value for {share} of these {rows} (nominal "
        f"{level}); mean width {coverage.mean_width:.4g}."
    )
