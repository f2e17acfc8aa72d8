"""How much memory a training job will need, how much is free, and what to say when it won't fit.

``estimate_memory`` is a model of the peak resident memory of a job (train, compare or tune)
summed over its process and its worker processes, in bytes. Calibrated against measurements
of every catalog model (``bench/memory_estimate.py``), it errs high. It adds up:

- ``BASE_BYTES``: Python with pandas, scikit-learn and this project imported, per process;
- the table: 8 bytes per numeric cell, about ``text_chars + 16`` per text cell, counted
  ``TABLE_COPIES`` times (the table, the prepared features, a fold's rows);
- the encoded matrix the model sees, ``rows x encoded columns x 8`` bytes, counted
  ``ENCODED_COPIES`` times (the training and test parts, the estimator's own copy), plus the
  categories as fixed-width text on the way to the encoder (4 bytes per character);
- what the model itself keeps or builds while fitting (``_model_bytes``): a random forest's
  trees grow with the rows, k-neighbours keeps the training rows, an SVM has a kernel cache;
- with ``n_jobs`` workers, each worker's own interpreter, table and fold.

``available_memory`` reads what the machine (and the container's cgroup, when lower) has free;
``memory_advice`` turns the two into a sentence, or None when the job fits.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib import catalog
from lib.display import human_size
from lib.preprocessing import MAX_ONE_HOT_CATEGORIES
from lib.profile import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, ColumnProfile

MB = 2**20
# Measured: 235-245 MB for a small job; up to 290 MB in a fresh checkout (no .pyc files yet)
# with the holdout's bootstrap intervals.
BASE_BYTES = 300 * MB
WORKER_BYTES = 160 * MB  # a loky worker: fewer modules than the job process
TABLE_COPIES = 3
ENCODED_COPIES = 3
JOB_MEMORY_VARIABLE = "MODEL_STUDIO_JOB_MEMORY_MB"
COMPARE_ROWS = 20_000  # lib.training.COMPARE_SAMPLE_ROWS (not imported: it pulls sklearn in)
SAFETY_MARGIN = 1.2  # a job fits when its estimate times this is below the free memory
DATE_COLUMNS = 1 + 8 + 13  # the trend and the weekly and yearly splines (lib.preprocessing)

MIN_ROWS = 100  # fewer rows than this is no advice worth giving
KINDS = ("train", "compare", "tune")
# Models whose categorical columns become one ordinal column each, not one-hot columns.
_NATIVE_CATEGORICAL = {"hist_gradient_boosting"}


@dataclass(frozen=True)
class TableShape:
    """The feature columns as the estimate sees them.

    ``n_levels`` is the one-hot columns of every categorical column together (each capped at
    ``MAX_ONE_HOT_CATEGORIES``); ``text_chars`` the typical length of a category's text.
    """

    n_numeric: int
    n_categorical: int = 0
    n_levels: int = 0
    n_datetime: int = 0
    text_chars: int = 12

    def encoded_columns(self, native_categorical: bool = False) -> int:
        """Columns of the matrix the estimator is fitted on (numeric with missing-value
        indicators counted once each, one-hot or ordinal categories, date features)."""
        categories = self.n_categorical if native_categorical else self.n_levels
        return max(1, self.n_numeric + categories + DATE_COLUMNS * self.n_datetime)

    def row_bytes(self) -> int:
        """Bytes of one row of the table in memory (numbers, dates, Arrow text)."""
        return 8 * (self.n_numeric + self.n_datetime) + (self.text_chars + 16) * self.n_categorical


def table_shape(
    profiles: Sequence[ColumnProfile], features: Sequence[str] | None = None
) -> TableShape:
    """The ``TableShape`` of ``features`` (default: every usable column) from their profiles."""
    chosen = [p for p in profiles if (p.name in features if features is not None else p.usable)]
    categorical = [p for p in chosen if p.kind in (CATEGORICAL, BOOLEAN) and not _is_number(p)]
    lengths = [len(str(value)) for p in categorical for value, _ in p.top_values]
    return TableShape(
        n_numeric=sum(
            1 for p in chosen if p.kind == NUMERIC or (p.kind == BOOLEAN and _is_number(p))
        ),
        n_categorical=len(categorical),
        n_levels=sum(min(max(p.n_distinct, 1), MAX_ONE_HOT_CATEGORIES) for p in categorical),
        n_datetime=sum(1 for p in chosen if p.kind == DATETIME),
        text_chars=max(lengths, default=12),
    )


def estimate_memory(
    n_rows: int,
    shape: TableShape,
    task: str,
    model_keys: Sequence[str],
    *,
    kind: str = "train",
    n_jobs: int = 1,
    n_classes: int = 2,
    params: dict | None = None,
) -> int:
    """Peak resident bytes of a ``kind`` job on ``n_rows`` rows of ``shape`` (see the module).

    ``model_keys`` are catalog keys (one for train and tune, the candidates for compare);
    ``n_classes`` counts the target's classes (ignored for regression); ``params`` are the
    model's settings when not its defaults (a forest's ``n_estimators``). ``n_jobs`` is the
    number of worker processes (``lib.parallel.n_jobs()``).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    classes = max(n_classes, 1) if task == "classification" else 1
    table = TABLE_COPIES * n_rows * shape.row_bytes()
    fit_rows = min(n_rows, COMPARE_ROWS) if kind == "compare" else n_rows
    settings = {key: _settings(task, key, params or {}) for key in model_keys}
    fit = max(_fit_bytes(fit_rows, shape, key, classes, settings[key]) for key in model_keys)
    if kind == "compare" or n_jobs <= 1:
        # Compare: the whole table, then one sampled candidate fit per worker at a time.
        workers = 0 if n_jobs <= 1 else n_jobs * (WORKER_BYTES + fit)
        return int(BASE_BYTES + table + fit + workers)
    # Train and tune on workers: each holds the table and a fold's fit while the job process
    # waits; then the job process alone fits on every row.
    fold_rows = int(0.64 * n_rows)  # 80 % of the 80 % not held out
    fold = max(_fit_bytes(fold_rows, shape, k, classes, settings[k]) for k in model_keys)
    folds = BASE_BYTES + table + n_jobs * (WORKER_BYTES + table + fold)
    return int(max(folds, BASE_BYTES + table + fit))


def available_memory() -> int:
    """Bytes this process could still allocate: ``MemAvailable`` from /proc/meminfo, or the
    cgroup's limit minus its usage when that is lower (cgroup v2, then v1), or
    ``MODEL_STUDIO_JOB_MEMORY_MB`` (what the people running the app let one job use) when
    that is lower still. Elsewhere the physical memory the OS reports as free, or 4 GB when
    nothing can be read."""
    candidates = [found for found in (_meminfo_available(), _cgroup_room(), _job_cap()) if found]
    if candidates:
        return min(candidates)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30


def memory_advice(
    estimate: int, available: int, n_rows: int, *, rows_that_fit: int | None = None
) -> str | None:
    """None when ``estimate`` bytes (with ``SAFETY_MARGIN``) fit in ``available``; otherwise
    a sentence with the need, the free memory and a row count to sample down to.

    The row count is ``rows_that_fit`` when given (``job_advice`` finds it from the estimate
    itself); otherwise ``n_rows`` scaled so that the part of ``estimate`` above the
    interpreter's ``BASE_BYTES`` fits, which holds for a train job on one worker. Either way it
    is rounded down to two leading digits (436,512 -> 430,000).
    """
    if estimate * SAFETY_MARGIN <= available:
        return None
    if rows_that_fit is None:
        room = available / SAFETY_MARGIN - BASE_BYTES
        rows_that_fit = int(n_rows * max(room, 0) / max(estimate - BASE_BYTES, 1))
    rows = _friendly(min(rows_that_fit, n_rows))
    sample = f"Sample the table to {rows:,} rows" if rows >= MIN_ROWS else "Choose a lighter model"
    return (
        f"This job needs about {human_size(estimate)}; {human_size(max(available, 0))} is "
        f"free. {sample}, or run it on a cluster (MODEL_STUDIO_DASK_SCHEDULER)."
    )


def job_advice(
    n_rows: int,
    shape: TableShape,
    task: str,
    model_keys: Sequence[str],
    *,
    available: int | None = None,
    **job: Any,
) -> str | None:
    """``memory_advice`` for a job described as to ``estimate_memory`` (``job`` holds its
    keyword arguments: kind, n_jobs, n_classes, params), the row count to sample to found by
    bisection on the estimate, so it fits whatever the job's kind; ``available`` defaults to
    ``available_memory()``."""
    free = available_memory() if available is None else available

    def need(rows: int) -> int:
        return estimate_memory(rows, shape, task, model_keys, **job)

    low, high = 0, n_rows
    while low < high:  # the most rows whose estimate, with the margin, fits
        middle = (low + high + 1) // 2
        low, high = (middle, high) if need(middle) * SAFETY_MARGIN <= free else (low, middle - 1)
    return memory_advice(need(n_rows), free, n_rows, rows_that_fit=low)


# --- internals --------------------------------------------------------------------------------


def _fit_bytes(rows: int, shape: TableShape, key: str, classes: int, params: dict) -> int:
    """Bytes of one fit and its scoring on ``rows`` rows, beyond the table: encoded copies,
    text on its way to the encoder, and what the model builds."""
    native = key in _NATIVE_CATEGORICAL
    columns = shape.encoded_columns(native)
    encoded = ENCODED_COPIES * rows * columns * 8
    text = rows * shape.n_categorical * 4 * shape.text_chars
    return encoded + text + _model_bytes(rows, columns, key, classes, params)


def _model_bytes(rows: int, columns: int, key: str, classes: int, params: dict) -> int:
    """What the estimator ``key`` keeps or builds when fitted on ``rows`` x ``columns``."""
    matrix = rows * columns * 8
    if key == "random_forest":
        # Fully grown trees: about one node per training row each (bootstrap rows, pure
        # leaves), a node being its 64-byte record and one float per class.
        trees = int(params["n_estimators"])
        return trees * rows * (64 + 8 * classes)
    if key == "decision_tree":
        return 40 * rows  # sorting buffers; the tree itself is shallow by default
    if key == "hist_gradient_boosting":
        return rows * (columns + 24 * classes)  # 1-byte bins, gradients and raw predictions
    if key in ("svc", "svr"):
        return 200 * MB + 2 * matrix  # libsvm's kernel cache; support vectors; calibration
    if key == "k_neighbors":
        return matrix + 64 * MB  # its own copy of the training rows; distance chunks
    if key == "mlp":
        return 2 * matrix  # the early-stopping split copies the rows
    return 2 * matrix  # linear models: a centred or Fortran-ordered copy of the rows


def _settings(task: str, key: str, params: dict) -> dict:
    """The catalog defaults of model ``key``, overridden by ``params``."""
    spec = catalog.get_model(task, key)
    return {p.name: p.default for p in spec.params} | params


def _friendly(rows: float) -> int:
    """``rows`` rounded down to two leading digits: 436,512 -> 430,000."""
    if rows < 100:
        return max(int(rows), 0)
    step = 10 ** (int(math.log10(rows)) - 1)
    return int(rows // step * step)


def _is_number(profile: ColumnProfile) -> bool:
    return profile.dtype.startswith(("int", "uint", "float", "Int", "Float"))


def _job_cap() -> int | None:
    raw = os.environ.get(JOB_MEMORY_VARIABLE, "").strip()
    if not raw:
        return None
    try:
        return max(1, int(float(raw) * MB))
    except ValueError:
        raise ValueError(f"{JOB_MEMORY_VARIABLE} must be a number of MB, not {raw!r}") from None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """The cgroup's limit minus its usage, or None when there is no limit to read."""
    root = Path("/sys/fs/cgroup")
    for limit_file, usage_file in (
        (root / "memory.max", root / "memory.current"),
        (root / "memory" / "memory.limit_in_bytes", root / "memory" / "memory.usage_in_bytes"),
    ):
        try:
            limit = limit_file.read_text().strip()
            usage = int(usage_file.read_text().strip())
        except (OSError, ValueError):
            continue
        if limit != "max" and int(limit) < 2**60:  # v1 writes "no limit" as a huge number
            return max(int(limit) - usage, 0)
    return None
