"""Figures of a classifier's predictions: confusion, ROC, precision-recall, calibration,
probabilities and the decision threshold."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from lib.metrics import at_threshold
from lib.plots._base import (
    _GREY,
    _OTHER,
    _TEMPLATE,
    CURVE_POINTS,
    MAX_CLASSES,
    MAX_PANELS,
    MAX_POINTS,
    PALETTE,
    THRESHOLDS,
    _cycle,
    _inner_legend,
    _layout,
    hover_text,
    plot_text,
    plot_texts,
)

# --- classification -----------------------------------------------------------------------


def confusion_matrix(
    y_true: Sequence,
    y_pred: Sequence,
    *,
    labels: Sequence | None = None,
    target: str = "target",
    normalize: bool = False,
) -> go.Figure:
    """Heatmap: actual class (rows) by predicted class (columns) of (n_rows,) labels.

    ``normalize``: each cell is the share of its actual class (rows sum to 1), as percentages.
    Beyond 50 classes the rarest are merged into "other".
    """
    true = pd.Series(np.asarray(y_true)).astype(str)
    pred = pd.Series(np.asarray(y_pred)).astype(str)
    order = [str(c) for c in labels] if labels is not None else sorted(set(true) | set(pred))
    merged = ""
    if len(order) > MAX_CLASSES:
        frequency = pd.concat([true, pred]).value_counts()
        keep = set(frequency.reindex(order, fill_value=0).nlargest(MAX_CLASSES - 1).index)
        true = true.where(true.isin(keep), _OTHER)
        pred = pred.where(pred.isin(keep), _OTHER)
        merged = f"; {len(order) - len(keep):,} rarer classes as '{_OTHER}'"
        order = [c for c in order if c in keep] + [_OTHER]
    table = pd.crosstab(true, pred).reindex(index=order, columns=order, fill_value=0)
    counts = table.to_numpy()
    per_class = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, per_class, out=np.zeros(counts.shape), where=per_class > 0)
    hover = "actual %{y}<br>predicted %{x}<br>%{customdata[0]:,} rows"
    hover += " (%{customdata[1]:.1%} of the actual class)"
    fig = go.Figure(
        go.Heatmap(
            z=shares if normalize else counts, x=plot_texts(order), y=plot_texts(order),
            colorscale="Blues",
            showscale=False, zmin=0, customdata=np.stack([counts, shares], axis=-1).tolist(),
            text=np.vectorize(lambda s: f"{s:.0%}")(shares) if normalize else counts,
            texttemplate="%{text}", hovertemplate=hover + "<extra></extra>",
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    correct = int(np.trace(counts))
    kind = "share of each actual class" if normalize else "rows"
    title = f"Confusion matrix, {kind} ({correct:,} of {int(counts.sum()):,} rows right{merged})"
    return _layout(fig, title, f"predicted {target}", f"actual {target}")


def _one_vs_rest(y_true: Sequence, proba: np.ndarray, classes: Sequence):
    """(class, is_class (n,), scores (n,)) per class (binary: the positive class only), and the
    classes skipped because the actual values never (or always) are that class."""
    y = np.asarray(y_true)
    proba = np.asarray(proba, dtype="float64")
    classes = list(classes)
    columns = [1] if len(classes) == 2 else range(len(classes))
    pairs, skipped = [], []
    for i in columns:
        positive = y == classes[i]
        if positive.all() or not positive.any():
            skipped.append(classes[i])
            continue
        pairs.append((classes[i], positive, proba[:, i]))
    return pairs, skipped


def _curve_title(base: str, classes: Sequence, n: int, skipped: list) -> str:
    classes = list(classes)
    if len(classes) == 2:
        title = f"{base}: {classes[1]} vs {classes[0]} ({n:,} rows)"
    else:
        title = f"{base}, each class vs the rest ({n:,} rows)"
    if skipped:
        title += f"; no curve for {', '.join(map(str, skipped))} (one class only in the actuals)"
    return title


def _thin(x: np.ndarray, y: np.ndarray, limit: int) -> np.ndarray:
    """Positions of at most ``limit`` points spread evenly along the curve's length (ends kept)."""
    n = len(x)
    if n <= limit:
        return np.arange(n)
    span_x = float(np.ptp(x)) or 1.0
    span_y = float(np.ptp(y)) or 1.0
    step = np.hypot(np.diff(x) / span_x, np.diff(y) / span_y)
    length = np.concatenate([[0.0], np.cumsum(step)])
    targets = np.linspace(0.0, length[-1], limit)
    picks = np.unique(np.searchsorted(length, targets).clip(0, n - 1))
    picks = np.unique(np.concatenate([[0], picks, [n - 1]]))
    if len(picks) > limit:  # the two kept ends pushed it over: drop some interior points
        inner = picks[1:-1]
        keep = np.linspace(0, len(inner) - 1, limit - 2).round().astype(int)
        picks = np.concatenate([[0], inner[keep], [n - 1]])
    return picks


def _curve_budget(n_curves: int, extra: int) -> int:
    return max(2, min(CURVE_POINTS, (MAX_POINTS - extra) // max(n_curves, 1)))


def _add_diagonal(fig: go.Figure, name: str) -> None:
    """The dashed grey reference line from (0, 0) to (1, 1), named ``name`` in the legend."""
    fig.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", name=name,
            line={"dash": "dash", "color": _GREY}, hoverinfo="skip",
        )
    )  # fmt: skip


def _unit_square(fig: go.Figure, title: str, x: str, y: str, corner: str) -> go.Figure:
    """Lay out a curve of rates or probabilities: both axes 0 to 1, the legend in ``corner``."""
    _layout(fig, title, x, y, legend=True)
    _inner_legend(fig, corner)
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return fig


def roc_curves(y_true: Sequence, proba: np.ndarray, classes: Sequence) -> go.Figure:
    """ROC curve per class, one vs the rest (binary: ``classes[1]`` only).

    ``y_true`` (n_rows,), ``proba`` (n_rows, n_classes) in the order of ``classes``. The AUC
    in each legend entry is computed on all rows; each drawn curve has at most 1,000 points.
    """
    pairs, skipped = _one_vs_rest(y_true, proba, classes)
    fig = go.Figure()
    budget = _curve_budget(len(pairs), 2)
    for (label, positive, score), color in zip(pairs, _cycle(len(pairs)), strict=True):
        fpr, tpr, thresholds = skm.roc_curve(positive, score)
        auc = skm.roc_auc_score(positive, score)
        keep = _thin(fpr, tpr, budget)
        fig.add_trace(
            go.Scatter(
                x=fpr[keep], y=tpr[keep], mode="lines", name=f"{plot_text(label)} (AUC {auc:.3f})",
                line={"color": color, "width": 2},
                customdata=np.where(np.isfinite(thresholds[keep]), thresholds[keep], np.nan),
                hovertemplate=f"{hover_text(label)}<br>false positive rate %{{x:.3f}}<br>"
                "true positive rate "
                "%{y:.3f}<br>threshold %{customdata:.3f}<extra></extra>",
            )
        )  # fmt: skip
    _add_diagonal(fig, "chance (AUC 0.5)")
    title = _curve_title("ROC curve", classes, len(np.asarray(y_true)), skipped)
    return _unit_square(fig, title, "false positive rate", "true positive rate", "lower right")


def precision_recall_curves(y_true: Sequence, proba: np.ndarray, classes: Sequence) -> go.Figure:
    """Precision-recall curve per class, one vs the rest (binary: ``classes[1]`` only).

    ``y_true`` (n_rows,), ``proba`` (n_rows, n_classes). Average precision (on all rows) in
    the legend; each drawn curve has at most 1,000 points.
    """
    pairs, skipped = _one_vs_rest(y_true, proba, classes)
    binary = len(list(classes)) == 2
    fig = go.Figure()
    budget = _curve_budget(len(pairs), 2 if binary else 0)
    for (label, positive, score), color in zip(pairs, _cycle(len(pairs)), strict=True):
        precision, recall, thresholds = skm.precision_recall_curve(positive, score)
        ap = skm.average_precision_score(positive, score)
        keep = _thin(recall, precision, budget)
        threshold = np.append(thresholds, np.nan)[keep]  # the last point has no threshold
        fig.add_trace(
            go.Scatter(
                x=recall[keep], y=precision[keep], mode="lines",
                name=f"{plot_text(label)} (AP {ap:.3f})",
                line={"color": color, "width": 2}, customdata=threshold,
                hovertemplate=f"{hover_text(label)}<br>recall %{{x:.3f}}<br>"
                "precision %{y:.3f}<br>threshold %{customdata:.3f}<extra></extra>",
            )
        )  # fmt: skip
        if binary:
            share = float(positive.mean())
            fig.add_trace(
                go.Scatter(
                    x=[0, 1], y=[share, share], mode="lines",
                    name=f"chance ({share:.1%} {plot_text(label)})",
                    line={"dash": "dash", "color": _GREY}, hoverinfo="skip",
                )
            )  # fmt: skip
    title = _curve_title("Precision-recall curve", classes, len(np.asarray(y_true)), skipped)
    return _unit_square(fig, title, "recall", "precision", "lower left")


def calibration(
    y_true: Sequence, proba: np.ndarray, classes: Sequence, *, n_bins: int = 10
) -> go.Figure:
    """Observed share of a class against its mean predicted probability, per quantile bin.

    ``y_true`` (n_rows,), ``proba`` (n_rows, n_classes); one curve per class (binary: the
    positive class only) from ``sklearn.calibration.calibration_curve(strategy="quantile")``.
    """
    pairs, skipped = _one_vs_rest(y_true, proba, classes)
    fig = go.Figure()
    for (label, positive, score), color in zip(pairs, _cycle(len(pairs)), strict=True):
        observed, predicted = calibration_curve(
            positive.astype(int), score, n_bins=n_bins, strategy="quantile"
        )
        edges = np.percentile(score, np.linspace(0, 100, n_bins + 1))
        totals = np.bincount(np.searchsorted(edges[1:-1], score), minlength=n_bins)
        totals = totals[totals > 0]
        fig.add_trace(
            go.Scatter(
                x=predicted, y=observed, mode="lines+markers", name=plot_text(label),
                line={"color": color}, marker={"size": 7},
                customdata=totals if len(totals) == len(predicted) else None,
                hovertemplate=f"{hover_text(label)}<br>mean predicted %{{x:.3f}}<br>observed share "
                "%{y:.3f}<br>%{customdata:,} rows<extra></extra>",
            )
        )  # fmt: skip
    _add_diagonal(fig, "perfectly calibrated")
    title = _curve_title("Calibration", classes, len(np.asarray(y_true)), skipped)
    title = title.replace(" rows)", f" rows, {n_bins} bins of equal size)", 1)
    return _unit_square(
        fig, title, "mean predicted probability", "observed share of the class", "lower right"
    )


def probability_distributions(proba: np.ndarray, classes: Sequence, *, bins: int = 20) -> go.Figure:
    """One small histogram panel per class of its predicted probability (first 10 classes).

    ``proba`` is (n_rows, n_classes) in the order of ``classes``; bins of equal width on 0 to 1.
    """
    proba = np.asarray(proba, dtype="float64")
    classes = list(classes)
    shown = classes[:MAX_PANELS]
    cols = min(len(shown), 3) or 1
    rows = math.ceil(len(shown) / cols) or 1
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=plot_texts(shown), shared_xaxes=True,
        horizontal_spacing=0.1, vertical_spacing=0.12 if rows > 1 else 0.2,
    )  # fmt: skip
    edges = np.linspace(0.0, 1.0, bins + 1)
    for i, (label, color) in enumerate(zip(shown, _cycle(len(shown)), strict=True)):
        values = proba[:, i]
        counts, _ = np.histogram(np.clip(values[np.isfinite(values)], 0, 1), bins=edges)
        fig.add_trace(
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges),
                name=plot_text(label),
                marker={"color": color}, customdata=np.stack([edges[:-1], edges[1:]], axis=1),
                hovertemplate=f"P({hover_text(label)}) %{{customdata[0]:.2f}} to "
                "%{customdata[1]:.2f}<br>"
                "%{y:,} rows<extra></extra>",
            ),
            row=i // cols + 1, col=i % cols + 1,
        )  # fmt: skip
    fig.update_xaxes(range=[0, 1])
    for col in range(1, cols + 1):
        fig.update_xaxes(title_text="predicted probability", row=rows, col=col)
    for row in range(1, rows + 1):
        fig.update_yaxes(title_text="rows", row=row, col=1)
    title = f"Predicted probability of each class ({len(proba):,} rows)"
    if len(classes) > len(shown):
        title += f"; first {len(shown)} of {len(classes)} classes"
    fig.update_layout(
        title={"text": title, "font": {"size": 16}}, template=_TEMPLATE, colorway=PALETTE,
        showlegend=False, height=120 + 220 * rows, margin={"l": 10, "r": 10, "t": 70, "b": 10},
    )  # fmt: skip
    return fig


def threshold_curve(
    y_true: Sequence, proba_pos: Sequence[float], *, pos_label: object, threshold: float
) -> go.Figure:
    """Precision, recall and F1 against the decision threshold (binary; 101 thresholds).

    ``y_true`` (n_rows,) labels, ``proba_pos`` (n_rows,) probability of ``pos_label``; a row is
    predicted positive when ``proba_pos >= threshold``. The vertical line and its markers show
    ``threshold``, with the values from ``lib.metrics.at_threshold``.
    """
    positive = np.asarray(y_true) == pos_label
    score = np.asarray(proba_pos, dtype="float64")
    low = min(0.0, float(np.nanmin(score))) if score.size else 0.0
    high = max(1.0, float(np.nanmax(score))) if score.size else 1.0
    grid = np.linspace(low, high, THRESHOLDS)
    pos_sorted = np.sort(score[positive])
    neg_sorted = np.sort(score[~positive])
    tp = len(pos_sorted) - np.searchsorted(pos_sorted, grid, side="left")
    fp = len(neg_sorted) - np.searchsorted(neg_sorted, grid, side="left")
    fn = len(pos_sorted) - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    fig = go.Figure()
    here = at_threshold(y_true, score, pos_label, threshold)
    for (name, values), color in zip(
        (("precision", precision), ("recall", recall), ("F1", f1)), PALETTE, strict=False
    ):
        fig.add_trace(
            go.Scatter(
                x=grid, y=values, mode="lines", name=name, line={"color": color, "width": 2},
                legendgroup=name,
                hovertemplate=f"threshold %{{x:.2f}}<br>{name} %{{y:.3f}}<extra></extra>",
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=[threshold], y=[here[name.lower()]], mode="markers", name=name,
                marker={"color": color, "size": 9}, legendgroup=name, showlegend=False,
                hovertemplate=f"at {threshold:.2f}: {name} %{{y:.3f}}<extra></extra>",
            )
        )  # fmt: skip
    fig.add_vline(x=threshold, line={"dash": "dash", "color": _GREY})
    title = f"Precision, recall and F1 by threshold ({len(score):,} rows)"
    subtitle = (
        f"At {threshold:.2f}: precision {here['precision']:.3f}, recall {here['recall']:.3f}, "
        f"F1 {here['f1']:.3f} (predicting {pos_label} when its probability ≥ the threshold)"
    )
    _layout(fig, title, f"threshold on P({pos_label})", "score", legend=True, subtitle=subtitle)
    _inner_legend(fig, "lower left")
    fig.update_yaxes(range=[0, 1.02])
    return fig
