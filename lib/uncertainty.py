"""How sure the validation figures are: 95 % intervals for the headline metrics.

``metric_intervals`` is a percentile bootstrap over the held-out rows: the rows are resampled
with replacement ``n_boot`` times, every metric ``lib.metrics.score`` reports is computed on each
resample, and the interval is the middle ``level`` of those values.

- **Classification resamples within each class** (a stratified bootstrap): every resample keeps
  the holdout's class counts. The holdout itself is drawn stratified by class
  (``lib.training``), so this copies how it was sampled, and no resample ever lacks a class
  (balanced accuracy, macro F1 and ROC AUC need every class).
- **Large holdouts** are resampled ``MAX_RESAMPLE_ROWS`` rows at a time (an m-out-of-n
  bootstrap): the spread of those resamples around the full holdout's figure is shrunk by
  sqrt(m / n), which is how a figure averaged over n rows varies compared with one over m. This
  keeps the cost independent of the holdout size (well under a second for 200,000 rows).
- **Vectorised over resamples.** Regression figures come from scikit-learn's own metric
  functions, all resamples at once (each resample is one output column). The classification
  figures are computed from every resample's confusion matrix and ranks in a few numpy passes:
  scikit-learn's functions cost milliseconds per call, 1,000 resamples of five figures would
  take seconds. ``tests/lib/test_uncertainty.py`` pins these to ``lib.metrics.score``.

``cv_interval`` is the other kind: from the spread of the cross-validation folds, used when no
rows were held out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lib.metrics import regression_columns, score
from lib.schema import CLASSIFICATION

LEVEL = 0.95
N_BOOT = 1000
# Resamples of larger holdouts hold this many rows (see the module docstring).
MAX_RESAMPLE_ROWS = 2_000
CHUNK = 100  # resamples computed together
# Fewer held-out rows than this give no interval: a bootstrap of a handful says nothing.
MIN_ROWS = 10

Intervals = dict[str, tuple[float, float]]


def metric_intervals(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    proba: np.ndarray | None = None,
    classes: Sequence[Any] | np.ndarray | None = None,
    *,
    level: float = LEVEL,
    n_boot: int = N_BOOT,
    seed: int = 0,
    point: dict[str, float] | None = None,
) -> Intervals:
    """Percentile bootstrap interval of each holdout figure: metric -> (low, high).

    Parameters
    ----------
    y_true, y_pred : array of shape (n_samples,)
    proba : array of shape (n_samples, n_classes), optional
        Class probabilities, columns in the order of ``classes``.
    point : dict, optional
        ``lib.metrics.score`` of these rows, when the caller has it already.

    Returns
    -------
    dict of str to (float, float)
        One entry per figure of ``score`` that the resamples define (at least 90 % of them
        finite); empty with fewer than ``MIN_ROWS`` rows or, for classification, fewer than two
        classes among the actual values. The same ``seed`` gives the same intervals.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) < MIN_ROWS:
        return {}
    point = score(task, y_true, y_pred, proba, classes) if point is None else point
    resamples = _Resamples.draw(task, y_true, [y_pred], classes, n_boot, seed)
    if resamples is None:
        return {}
    return _percentiles(resamples.figures(y_pred, proba), point, resamples.shrink, level)


def difference_intervals(
    task: str,
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    proba_a: np.ndarray | None = None,
    proba_b: np.ndarray | None = None,
    classes: Sequence[Any] | np.ndarray | None = None,
    *,
    level: float = LEVEL,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> tuple[dict[str, float], Intervals]:
    """Two models' predictions on the same rows: each figure's difference b − a and its
    paired percentile bootstrap interval (both scored on the same resamples of the rows).

    Parameters
    ----------
    y_true, pred_a, pred_b : array of shape (n_samples,)
    proba_a, proba_b : array of shape (n_samples, n_classes), optional
        Used only when both are given (the probability figures need both).

    Returns
    -------
    (dict of str to float, dict of str to (float, float))
        The differences of every figure both have, and the intervals (as ``metric_intervals``:
        none with fewer than ``MIN_ROWS`` rows). An interval that excludes 0 says the
        difference is unlikely to be chance on rows like these.
    """
    y_true, pred_a, pred_b = np.asarray(y_true), np.asarray(pred_a), np.asarray(pred_b)
    if proba_a is None or proba_b is None:
        proba_a = proba_b = None
    scores_a = score(task, y_true, pred_a, proba_a, classes)
    scores_b = score(task, y_true, pred_b, proba_b, classes)
    point = {name: scores_b[name] - scores_a[name] for name in scores_a if name in scores_b}
    if len(y_true) < MIN_ROWS:
        return point, {}
    resamples = _Resamples.draw(task, y_true, [pred_a, pred_b], classes, n_boot, seed)
    if resamples is None:
        return point, {}
    draws_a = resamples.figures(pred_a, proba_a)
    draws_b = resamples.figures(pred_b, proba_b)
    differences = {name: draws_b[name] - draws_a[name] for name in draws_a if name in draws_b}
    return point, _percentiles(differences, point, resamples.shrink, level)


def cv_interval(scores: Sequence[float], level: float = LEVEL) -> tuple[float, float] | None:
    """A ``level`` interval for a metric's mean over k cross-validation folds:
    mean ± t(k - 1) * std / sqrt(k), or None with fewer than 2 finite folds.

    The honest figure when no rows were held out (test share 0): then the folds are the only
    rows the model was scored on. It is approximate and, if anything, too narrow: the folds
    share training rows, so their scores are not independent (no unbiased estimate of that
    variance exists, Bengio and Grandvalet 2004).
    """
    values = np.asarray(scores, dtype=float)
    values = values[np.isfinite(values)]
    k = len(values)
    if k < 2:
        return None
    half = stats.t.ppf((1 + level) / 2, k - 1) * values.std(ddof=1) / math.sqrt(k)
    mean = float(values.mean())
    return mean - float(half), mean + float(half)


def cv_intervals(cv_scores: dict[str, list[float]], level: float = LEVEL) -> Intervals:
    """``cv_interval`` of every metric in ``cv_scores`` (metric -> per-fold values)."""
    found = {name: cv_interval(folds, level) for name, folds in cv_scores.items()}
    return {name: bounds for name, bounds in found.items() if bounds is not None}


# --- internals --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Resamples:
    """Bootstrap resamples of some rows: ``idx`` (n_boot, m) row positions; ``shrink`` =
    sqrt(m / n) (1 unless resampled m out of n); for classification the class order and the
    actual values as codes."""

    task: str
    idx: np.ndarray
    shrink: float
    truth: np.ndarray  # float actual values (regression) or class codes (classification)
    labels: list[Any]

    @classmethod
    def draw(
        cls,
        task: str,
        y_true: np.ndarray,
        predictions: list[np.ndarray],
        classes: Sequence[Any] | np.ndarray | None,
        n_boot: int,
        seed: int,
    ) -> _Resamples | None:
        """Resamples of the rows of ``y_true`` (within each class for classification), or
        None when a classification's actual values hold fewer than two classes."""
        rng = np.random.default_rng(seed)
        n = len(y_true)
        if task != CLASSIFICATION:
            idx = _draws(n, n_boot, rng)
            return cls(task, idx, math.sqrt(idx.shape[1] / n), y_true.astype(float), [])
        labels = _labels(y_true, np.concatenate(predictions), classes)
        true_codes = pd.Categorical(y_true, categories=labels).codes.astype(np.int64)
        if len(np.unique(true_codes)) < 2:
            return None
        idx = _stratified_draws(true_codes, n_boot, rng)
        return cls(task, idx, math.sqrt(idx.shape[1] / n), true_codes, labels)

    def figures(self, y_pred: np.ndarray, proba: np.ndarray | None) -> dict[str, np.ndarray]:
        """Every figure of ``lib.metrics.score`` on each resample: metric -> (n_boot,)."""
        if self.task != CLASSIFICATION:
            predicted = np.asarray(y_pred).astype(float)
            return _in_chunks(
                self.idx,
                lambda rows: regression_columns(self.truth[rows].T, predicted[rows].T),
            )
        pred_codes = pd.Categorical(y_pred, categories=self.labels).codes.astype(np.int64)
        k = len(self.labels)
        return _in_chunks(
            self.idx, lambda rows: _classification_draws(rows, self.truth, pred_codes, proba, k)
        )


def _percentiles(
    draws: dict[str, np.ndarray], point: dict[str, float], shrink: float, level: float
) -> Intervals:
    """The middle ``level`` of each metric's resampled values, around ``point`` scaled by
    ``shrink``; metrics with under 90 % finite resamples or no finite point are left out."""
    tail = 100 * (1 - level) / 2
    intervals: Intervals = {}
    for name, values in draws.items():
        centre = point.get(name)
        finite = values[np.isfinite(values)]
        if centre is None or not math.isfinite(centre) or finite.size < 0.9 * len(values):
            continue
        low, high = np.percentile(finite, [tail, 100 - tail])
        intervals[name] = (
            float(centre + shrink * (low - centre)),
            float(centre + shrink * (high - centre)),
        )
    return intervals


def _labels(
    y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[Any] | np.ndarray | None
) -> list[Any]:
    """The class order ``lib.metrics`` scores with (``classes``, else as first seen)."""
    if classes is not None:
        return list(classes)
    return list(pd.unique(np.concatenate([y_true, y_pred])))


def _in_chunks(
    idx: np.ndarray, figures: Callable[[np.ndarray], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """``figures`` of the resamples in ``idx`` (one per row), ``CHUNK`` resamples at a time:
    the same values as all at once, with a tenth of the memory (a training job's peak)."""
    parts = [figures(idx[start : start + CHUNK]) for start in range(0, len(idx), CHUNK)]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _draws(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Row positions of ``n_boot`` resamples with replacement: shape (n_boot, m), m <= n."""
    return rng.integers(0, n, size=(n_boot, min(n, MAX_RESAMPLE_ROWS)))


def _stratified_draws(codes: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``_draws`` within each class of ``codes``: every resample keeps the class shares."""
    n = len(codes)
    share = min(n, MAX_RESAMPLE_ROWS) / n
    parts = []
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        size = len(rows) if share == 1 else max(1, round(len(rows) * share))
        parts.append(rows[rng.integers(0, len(rows), size=(n_boot, size))])
    return np.concatenate(parts, axis=1)


def _classification_draws(
    idx: np.ndarray,
    true_codes: np.ndarray,
    pred_codes: np.ndarray,
    proba: np.ndarray | None,
    k: int,
) -> dict[str, np.ndarray]:
    """``lib.metrics.score``'s classification figures on each resample (a row of ``idx``),
    from its confusion matrix (and ranks of the probabilities): metric -> (n_boot,)."""
    n_boot, m = idx.shape
    truth, predicted = true_codes[idx], pred_codes[idx]
    cells = (np.arange(n_boot)[:, None] * k + truth) * k + predicted
    confusion = np.bincount(cells.ravel(), minlength=n_boot * k * k).reshape(n_boot, k, k)
    hits = np.diagonal(confusion, axis1=1, axis2=2).astype(float)
    actual, called = confusion.sum(axis=2), confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(actual > 0, hits / actual, np.nan)
        f1 = np.where(actual + called > 0, 2 * hits / (actual + called), np.nan)
        draws = {
            "accuracy": hits.sum(axis=1) / m,
            # Balanced accuracy and macro F1 average over the classes present, as scikit-learn's.
            "balanced_accuracy": np.nanmean(recall, axis=1),
            "f1_macro": np.nanmean(f1, axis=1),
        }
    if proba is not None:
        proba = np.asarray(proba, dtype=float)
        draws["roc_auc"] = _roc_auc_draws(idx, truth, proba, k)
        eps = np.finfo(proba.dtype).eps
        row_loss = -np.log(np.clip(proba[np.arange(len(true_codes)), true_codes], eps, 1 - eps))
        draws["log_loss"] = row_loss[idx].mean(axis=1)
    return draws


def _roc_auc_draws(idx: np.ndarray, truth: np.ndarray, proba: np.ndarray, k: int) -> np.ndarray:
    """ROC AUC of each resample: binary on the second class's probability, else the mean
    one-vs-rest AUC over classes (Mann-Whitney: from ranks, ties sharing their mean rank)."""
    columns = [1] if k == 2 else range(k)
    aucs = []
    for column in columns:
        scores = proba[idx, column]
        order = np.argsort(scores, axis=1)
        positive = np.take_along_axis(truth == column, order, axis=1)
        ranks = _sorted_ranks(np.take_along_axis(scores, order, axis=1))
        n_pos = positive.sum(axis=1)
        n_neg = positive.shape[1] - n_pos
        with np.errstate(invalid="ignore", divide="ignore"):
            u = (ranks * positive).sum(axis=1) - n_pos * (n_pos + 1) / 2
            aucs.append(u / (n_pos * n_neg))
    return np.mean(aucs, axis=0)


def _sorted_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks (1-based, ties sharing their mean rank) of each row of ``values``, each row
    sorted ascending: what ``scipy.stats.rankdata`` gives, ten times faster on this case."""
    m = values.shape[1]
    position = np.arange(m)
    starts = np.ones(values.shape, dtype=bool)
    starts[:, 1:] = values[:, 1:] != values[:, :-1]
    ends = np.ones(values.shape, dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, position, m - 1)[:, ::-1], axis=1)[:, ::-1]
    return (first + last) / 2 + 1
