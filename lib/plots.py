"""Figure builders: pure functions from arrays and frames to plotly Figures (no streamlit).

No figure draws more than ``MAX_POINTS`` points in all its traces together (heatmap cells
count): scatter plots of rows are randomly sampled to ``SCATTER_POINTS`` (and the title says
so), histograms, bins
and curves are aggregated or thinned in numpy first, so a figure stays quick to send and draw.
Scatter traces of rows carry ``customdata`` = the row position in the caller's frame, so a
selection maps back to rows.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from lib.metrics import at_threshold
from lib.sampling import sample_indices
from lib.schema import Histogram, TrainingSummary

if TYPE_CHECKING:
    from lib.explain import Importance, PartialDependence

MAX_POINTS = 50_000
# The two selectable row scatters draw at most this many points: 50,000 WebGL points cost
# seconds of browser time every time the page is shown again (bench/predict_page_browser.py),
# and a random 5,000 shows the same shape.
SCATTER_POINTS = 5_000
CURVE_POINTS = 1_000  # at most this many points per ROC / precision-recall curve
THRESHOLDS = 101  # decision thresholds drawn by threshold_curve (0.00, 0.01, ..., 1.00)
MAX_CLASSES = 50  # confusion matrix: rarer classes beyond this are merged into "other"
MAX_PANELS = 10  # probability_distributions: panels shown at most
TOP_CATEGORIES = 15  # error_by_feature: categories shown before "other"
DRIFT_CATEGORIES = 20  # drift_overlay: categories shown before "other"
_TEMPLATE = "plotly_white"
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
]  # fmt: skip
_GREY = "#7f7f7f"
# Sampled scatter points are sent as float32: 7 significant digits is finer than any screen,
# and it cuts the JSON of a 50,000-point scatter by about 40%.
_DRAW = "float32"
_OTHER = "other"


def sampled_title(title: str, n_shown: int, n_total: int) -> str:
    """``title``, plus a note when only a random sample of the rows is drawn."""
    if n_shown >= n_total:
        return title
    return f"{title} (random sample of {n_shown:,} of {n_total:,} rows)"


def drawn_points(fig: go.Figure) -> int:
    """Points a figure draws: x/y values of every trace, heatmap cells, box values."""
    total = 0
    for trace in fig.data:
        z = getattr(trace, "z", None)
        if z is not None:
            total += int(np.asarray(z, dtype=object).size)
            continue
        axes = (getattr(trace, "x", None), getattr(trace, "y", None))
        lengths = [len(v) for v in axes if v is not None]
        total += max(lengths, default=0)
    return total


def _round_to_spread(value: float, spread: float) -> float:
    """``value`` as 0 when it is float noise next to ``spread`` (a mean of -4e-10 reads as 0)."""
    return 0.0 if abs(value) < 1e-9 * max(abs(spread), 1.0) else value


def _layout(
    fig: go.Figure,
    title: str,
    x: str,
    y: str,
    *,
    legend: bool = False,
    subtitle: str | None = None,
    height: int = 420,
) -> go.Figure:
    title_spec: dict = {"text": title, "font": {"size": 16}}
    if subtitle:
        title_spec["subtitle"] = {"text": subtitle}
    fig.update_layout(
        title=title_spec,
        xaxis_title=x,
        yaxis_title=y,
        template=_TEMPLATE,
        colorway=PALETTE,
        showlegend=legend,
        margin={"l": 10, "r": 10, "t": 80 if subtitle else 50, "b": 10},
        height=height,
    )
    return fig


def _inner_legend(fig: go.Figure, corner: str) -> None:
    """Put the legend inside the plot, in an empty ``corner`` ("lower right", "lower left")."""
    right = corner.endswith("right")
    fig.update_layout(
        legend={
            "x": 0.98 if right else 0.02, "xanchor": "right" if right else "left",
            "y": 0.02, "yanchor": "bottom", "bgcolor": "rgba(255,255,255,0.8)",
        }
    )  # fmt: skip


def _row_ids(row_ids: Sequence[int] | None, n: int) -> np.ndarray:
    if row_ids is None:
        return np.arange(n)
    ids = np.asarray(row_ids).astype("int64")
    if ids.shape != (n,):
        raise ValueError(f"row_ids has {ids.size} entries for {n} rows.")
    return ids


def _num(value: float) -> str:
    """A short label for a number: 4 significant digits, thousands separated, no exponent."""
    if 1e4 <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:.4g}"


# --- regression ---------------------------------------------------------------------------


def predicted_vs_actual(
    y_true: Sequence[float],
    y_pred: Sequence[float],
    *,
    target: str = "target",
    row_ids: Sequence[int] | None = None,
) -> go.Figure:
    """Scatter of predicted (n_rows,) against actual (n_rows,) values, with the y = x line.

    Selectable: ``customdata`` is ``row_ids`` (default 0..n-1) of the rows drawn.
    """
    # The y = x line takes 2 of the points.
    actual, predicted, ids, n = _sampled_rows(y_true, y_pred, row_ids, SCATTER_POINTS - 2)
    fig = go.Figure(_row_scatter(actual, predicted, ids, "actual", "predicted"))
    finite = np.concatenate([actual, predicted])
    finite = finite[np.isfinite(finite)]
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        fig.add_trace(
            go.Scatter(
                x=[low, high], y=[low, high], mode="lines", name="perfect (y = x)",
                line={"dash": "dash", "color": _GREY}, hoverinfo="skip",
            )
        )  # fmt: skip
    title = sampled_title("Predicted vs actual", len(ids), n)
    return _layout(fig, title, f"actual {target}", f"predicted {target}")


def residuals_vs_predicted(
    y_true: Sequence[float],
    y_pred: Sequence[float],
    *,
    target: str = "target",
    row_ids: Sequence[int] | None = None,
) -> go.Figure:
    """Residual (actual - predicted) against predicted, both (n_rows,), with a zero line.

    Selectable: ``customdata`` is ``row_ids`` (default 0..n-1) of the rows drawn.
    """
    actual, predicted, ids, n = _sampled_rows(y_true, y_pred, row_ids, SCATTER_POINTS)
    fig = go.Figure(_row_scatter(predicted, actual - predicted, ids, "predicted", "residual"))
    fig.add_hline(y=0, line={"dash": "dash", "color": _GREY})
    title = sampled_title("Residuals vs predicted", len(ids), n)
    return _layout(fig, title, f"predicted {target}", f"residual: actual − predicted {target}")


def _sampled_rows(
    y_true: Sequence[float], y_pred: Sequence[float], row_ids: Sequence[int] | None, limit: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """At most ``limit`` of the n rows, at random (``sample_indices``): their actual and
    predicted values (float64) and row ids, each (n_shown,), and n."""
    actual = np.asarray(y_true, dtype="float64")
    predicted = np.asarray(y_pred, dtype="float64")
    rows = sample_indices(len(actual), limit)
    return actual[rows], predicted[rows], _row_ids(row_ids, len(actual))[rows], len(actual)


def _row_scatter(
    x: np.ndarray, y: np.ndarray, ids: np.ndarray, x_name: str, y_name: str
) -> go.Scattergl:
    """Selectable markers: one per row, ``customdata`` its row id, hover naming both values."""
    return go.Scattergl(
        x=x.astype(_DRAW), y=y.astype(_DRAW), customdata=ids, mode="markers", name="rows",
        marker={"size": 6, "opacity": 0.6, "color": PALETTE[0]},
        hovertemplate=f"row %{{customdata}}<br>{x_name} %{{x:.4g}}<br>{y_name} %{{y:.4g}}"
        "<extra></extra>",
    )  # fmt: skip


def residual_distribution(
    y_true: Sequence[float], y_pred: Sequence[float], *, bins: int = 40
) -> go.Figure:
    """Histogram (``bins`` bars) of the residuals actual - predicted, both (n_rows,)."""
    residual = np.asarray(y_true, dtype="float64") - np.asarray(y_pred, dtype="float64")
    residual = residual[np.isfinite(residual)]
    if residual.size == 0:
        return _layout(go.Figure(), "No finite residuals to plot", "residual", "rows")
    counts, edges = np.histogram(residual, bins=bins)
    fig = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), name="rows",
            marker={"color": PALETTE[0]},
            customdata=np.stack([edges[:-1], edges[1:]], axis=1),
            hovertemplate="residual %{customdata[0]:.4g} to %{customdata[1]:.4g}<br>%{y:,} rows"
            "<extra></extra>",
        )
    )  # fmt: skip
    fig.add_vline(x=0, line={"dash": "dash", "color": _GREY})
    title = (
        f"Residuals, actual − predicted ({residual.size:,} rows; mean "
        f"{_round_to_spread(residual.mean(), residual.std()):.3g}, std {residual.std():.3g})"
    )
    return _layout(fig, title, "residual (actual − predicted)", "rows")


def error_by_feature(
    values: pd.Series, abs_error: np.ndarray, *, feature: str, bins: int = 10
) -> go.Figure:
    """Mean absolute error per bin of one feature; ``values`` and ``abs_error`` are (n_rows,).

    Numeric features: quantile bins (one bar per value when it has at most ``bins`` values);
    categorical: the 15 most frequent categories plus "other". Missing values get their own bar.
    """
    values = pd.Series(values).reset_index(drop=True)
    error = np.abs(np.asarray(abs_error, dtype="float64"))
    keys = _feature_bins(values, bins)
    table = (
        pd.DataFrame({"bin": keys, "error": error})
        .groupby("bin", observed=True, sort=False, dropna=False)["error"]
        .agg(["mean", "size"])
    )
    order = [k for k in keys.cat.categories if k in table.index]
    table = table.reindex(order)
    labels = [str(k) for k in order]
    fig = go.Figure(
        go.Bar(
            x=labels, y=table["mean"].to_numpy(), customdata=table["size"].to_numpy(),
            name="mean |error|", marker={"color": PALETTE[0]},
            hovertemplate=f"{feature} %{{x}}<br>mean |error| %{{y:.4g}}<br>"
            "%{customdata:,} rows<extra></extra>",
        )
    )  # fmt: skip
    overall = float(np.nanmean(error)) if error.size else math.nan
    title = f"Mean absolute error by {feature} ({len(values):,} rows)"
    if np.isfinite(overall):
        fig.add_hline(y=overall, line={"dash": "dash", "color": _GREY})
        title = f"Mean absolute error by {feature} ({len(values):,} rows; dashed: all rows, "
        title += f"{overall:.3g})"
    fig.update_xaxes(type="category")
    return _layout(fig, title, feature, "mean |actual − predicted|")


def _feature_bins(values: pd.Series, bins: int) -> pd.Series:
    """A categorical Series of bin labels (ordered), "missing" for missing values."""
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    )
    if numeric:
        numbers = values.astype("float64")
        distinct = np.unique(numbers[np.isfinite(numbers)])
        if len(distinct) <= bins:
            labels = pd.Series([_num(v) for v in numbers], dtype=object)
            order = [_num(v) for v in distinct]
        else:
            cut, edges = pd.qcut(numbers, q=bins, duplicates="drop", retbins=True)
            order = [f"{_num(float(a))} to {_num(float(b))}" for a, b in itertools.pairwise(edges)]
            labels = pd.Series(np.asarray(order, dtype=object)[cut.cat.codes], dtype=object)
            labels[cut.cat.codes.to_numpy() < 0] = None
    else:
        text = values.astype(str)
        counts = text[values.notna()].value_counts()
        order = counts.index[:TOP_CATEGORIES].tolist()
        labels = text.where(text.isin(order), _OTHER).astype(object)
        if len(counts) > TOP_CATEGORIES:
            order.append(_OTHER)
    missing = values.isna().to_numpy()
    if missing.any():
        labels = labels.where(~missing, "missing")
        order = [*order, "missing"]
    return pd.Series(pd.Categorical(labels, categories=order, ordered=True))


def prediction_distribution(
    predictions: Sequence, *, task: str = "regression", name: str = "prediction", bins: int = 40
) -> go.Figure:
    """How the predictions are spread: a histogram (regression) or class counts (classification).

    Both are aggregated before plotting, so any number of rows draws as at most ``bins`` bars.
    """
    values = pd.Series(np.asarray(predictions))
    if task == "classification" or not pd.api.types.is_numeric_dtype(values.dtype):
        counts = values.astype(str).value_counts()
        title = f"Predicted classes ({len(values):,} rows)"
        if len(counts) > MAX_CLASSES:  # keep the bars readable (and few)
            rest = counts.iloc[MAX_CLASSES - 1 :]
            counts = counts.iloc[: MAX_CLASSES - 1]
            counts[_OTHER] = int(rest.sum())
            title = f"Predicted classes ({len(values):,} rows; {len(rest):,} rarer as '{_OTHER}')"
        counts = counts.sort_index()
        fig = go.Figure(
            go.Bar(
                x=counts.index.tolist(), y=counts.to_numpy(), name="rows",
                marker={"color": PALETTE[0]}, hovertemplate="%{x}<br>%{y:,} rows<extra></extra>",
            )
        )  # fmt: skip
        fig.update_xaxes(type="category")
        return _layout(fig, title, name, "rows")
    numbers = values.to_numpy(dtype="float64")
    numbers = numbers[np.isfinite(numbers)]
    if numbers.size == 0:
        return _layout(go.Figure(), "No finite predictions to plot", name, "rows")
    heights, edges = np.histogram(numbers, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(
        go.Bar(
            x=centres, y=heights, width=np.diff(edges), name="rows", marker={"color": PALETTE[0]},
            customdata=np.stack([edges[:-1], edges[1:]], axis=1),
            hovertemplate="%{customdata[0]:.4g} to %{customdata[1]:.4g}<br>%{y:,} rows"
            "<extra></extra>",
        )
    )  # fmt: skip
    return _layout(fig, f"Distribution of predictions ({numbers.size:,} rows)", name, "rows")


def cv_spread(
    cv_scores: dict[str, Sequence[float]], labels: dict[str, str] | None = None
) -> go.Figure:
    """One small panel per metric: a box of the fold scores with every fold drawn as a point."""
    labels = labels or {}
    names = list(cv_scores)
    # At most three panels a row, so five classification metrics fit half a page.
    cols = min(max(len(names), 1), 3)
    rows = math.ceil(max(len(names), 1) / cols)
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=[labels.get(m, m) for m in names],
        horizontal_spacing=0.15, vertical_spacing=0.16 if rows > 1 else 0.2,
    )  # fmt: skip
    for i, metric in enumerate(names):
        fig.add_trace(
            go.Box(
                y=list(cv_scores[metric]), name=labels.get(metric, metric), boxpoints="all",
                jitter=0.3, pointpos=0, hovertemplate="%{y:.4g}<extra></extra>",
                marker={"color": PALETTE[0]},
            ),
            row=i // cols + 1, col=i % cols + 1,
        )  # fmt: skip
        fig.update_xaxes(showticklabels=False, row=i // cols + 1, col=i % cols + 1)
    fig.update_annotations(font_size=12)
    fig.update_layout(
        showlegend=False, template=_TEMPLATE, height=80 + 200 * rows,
        margin={"l": 10, "r": 10, "t": 60, "b": 10}, title="Cross-validation: each fold's score",
    )  # fmt: skip
    return fig


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
            z=shares if normalize else counts, x=order, y=order, colorscale="Blues",
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
                x=fpr[keep], y=tpr[keep], mode="lines", name=f"{label} (AUC {auc:.3f})",
                line={"color": color, "width": 2},
                customdata=np.where(np.isfinite(thresholds[keep]), thresholds[keep], np.nan),
                hovertemplate=f"{label}<br>false positive rate %{{x:.3f}}<br>true positive rate "
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
                x=recall[keep], y=precision[keep], mode="lines", name=f"{label} (AP {ap:.3f})",
                line={"color": color, "width": 2}, customdata=threshold,
                hovertemplate=f"{label}<br>recall %{{x:.3f}}<br>precision %{{y:.3f}}<br>"
                "threshold %{customdata:.3f}<extra></extra>",
            )
        )  # fmt: skip
        if binary:
            share = float(positive.mean())
            fig.add_trace(
                go.Scatter(
                    x=[0, 1], y=[share, share], mode="lines", name=f"chance ({share:.1%} {label})",
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
                x=predicted, y=observed, mode="lines+markers", name=str(label),
                line={"color": color}, marker={"size": 7},
                customdata=totals if len(totals) == len(predicted) else None,
                hovertemplate=f"{label}<br>mean predicted %{{x:.3f}}<br>observed share "
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
        rows=rows, cols=cols, subplot_titles=[str(c) for c in shown], shared_xaxes=True,
        horizontal_spacing=0.1, vertical_spacing=0.12 if rows > 1 else 0.2,
    )  # fmt: skip
    edges = np.linspace(0.0, 1.0, bins + 1)
    for i, (label, color) in enumerate(zip(shown, _cycle(len(shown)), strict=True)):
        values = proba[:, i]
        counts, _ = np.histogram(np.clip(values[np.isfinite(values)], 0, 1), bins=edges)
        fig.add_trace(
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), name=str(label),
                marker={"color": color}, customdata=np.stack([edges[:-1], edges[1:]], axis=1),
                hovertemplate=f"P({label}) %{{customdata[0]:.2f}} to %{{customdata[1]:.2f}}<br>"
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


def _cycle(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


# --- both tasks ---------------------------------------------------------------------------


def importance_bars(importance: Importance, *, top: int = 20) -> go.Figure:
    """Horizontal bars of ``importance.table`` (feature, importance, std), best at the top.

    Error bars show the std of permutation importance; the method's note is the subtitle.
    """
    table = importance.table.head(top)
    permutation = importance.method == "permutation"
    errors = table["std"].to_numpy(dtype="float64")
    show_errors = bool(permutation and np.nan_to_num(errors).any())
    fig = go.Figure(
        go.Bar(
            x=table["importance"].to_numpy(dtype="float64"), y=table["feature"].astype(str),
            orientation="h", marker={"color": PALETTE[0]}, customdata=errors, name="importance",
            error_x={"type": "data", "array": errors, "visible": show_errors},
            hovertemplate="%{y}<br>importance %{x:.4g}"
            + ("<br>std %{customdata:.3g}" if permutation else "") + "<extra></extra>",
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    n_all = len(importance.table)
    shown = f"top {len(table)} of {n_all}" if len(table) < n_all else f"{n_all}"
    kind = "Permutation importance" if permutation else "Model's own importance"
    x_title = "mean drop in score when shuffled" if permutation else "importance"
    return _layout(
        fig, f"{kind} ({shown} features)", x_title, "", subtitle=importance.note,
        height=max(300, 130 + 24 * len(table)),
    )  # fmt: skip


def partial_dependence_plot(pd: PartialDependence, *, target: str = "target") -> go.Figure:
    """Average prediction over ``pd.grid`` (bold) with thin ICE lines ``pd.individual``.

    ``pd.individual`` is (n_lines, n_grid); categorical features are drawn as markers.
    """
    dep = pd  # the contract names the argument ``pd``; pandas is not used here
    grid = np.asarray(dep.grid)
    lines = np.asarray(dep.individual, dtype="float64").reshape(-1, len(grid))
    n_all = len(lines)
    lines = lines[sample_indices(n_all, max(1, (MAX_POINTS - len(grid)) // (len(grid) + 1)))]
    n_lines = len(lines)
    fig = go.Figure()
    x: list[str] | np.ndarray
    if dep.categorical:
        x = [str(v) for v in grid]
        if n_lines:
            fig.add_trace(
                go.Scatter(
                    x=np.tile(x, n_lines), y=lines.ravel(), mode="markers", name="single rows",
                    marker={"color": _GREY, "opacity": 0.35, "size": 5}, hoverinfo="skip",
                )
            )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=x, y=dep.average, mode="markers", name="average",
                marker={"color": PALETTE[0], "size": 14, "symbol": "diamond"},
                hovertemplate=f"{dep.feature} %{{x}}<br>average %{{y:.4g}}<extra></extra>",
            )
        )  # fmt: skip
        fig.update_xaxes(type="category")
    else:
        x = grid.astype("float64")
        if n_lines:
            gap = np.full((n_lines, 1), np.nan)  # one trace: rows separated by gaps
            fig.add_trace(
                go.Scatter(
                    x=np.tile(np.append(x, np.nan), n_lines),
                    y=np.hstack([lines, gap]).ravel(), mode="lines", name="single rows",
                    line={"color": "rgba(127,127,127,0.3)", "width": 1}, hoverinfo="skip",
                )
            )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=x, y=dep.average, mode="lines", name="average",
                line={"color": PALETTE[0], "width": 4},
                hovertemplate=f"{dep.feature} %{{x:.4g}}<br>average %{{y:.4g}}<extra></extra>",
            )
        )  # fmt: skip
    if dep.class_label is not None:
        y_title = f"probability of {target} = {dep.class_label}"
    else:
        y_title = f"predicted {target}"
    some = f"{n_lines:,}" if n_lines == n_all else f"a random {n_lines:,} of {n_all:,}"
    subtitle = f"Bold: average over rows; grey: {some} single rows (ICE) as {dep.feature} varies"
    return _layout(
        fig, f"Partial dependence on {dep.feature}", dep.feature, y_title, legend=False,
        subtitle=subtitle,
    )  # fmt: skip


def drift_overlay(summary: TrainingSummary, values: pd.Series) -> go.Figure:
    """A column's training distribution (its ``summary``) against new ``values`` (n_rows,).

    Numeric: shares per training histogram bin, values outside the training edges noted in the
    title; categorical: shares of the top 20 categories + "other".
    """
    name = summary.name
    values = pd.Series(values).reset_index(drop=True)
    if summary.kind == "numeric" and summary.histogram is not None:
        return _drift_numeric(name, summary.histogram, values)
    if summary.kind == "categorical" and summary.categories:
        return _drift_categorical(name, summary, values)
    return _layout(go.Figure(), f"{name}: no training distribution stored", name, "share of rows")


def _drift_numeric(name: str, histogram: Histogram, values: pd.Series) -> go.Figure:
    edges = np.asarray(histogram.edges, dtype="float64")
    train = np.asarray(histogram.counts, dtype="float64")
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    numbers = numbers[np.isfinite(numbers)]
    inside = (numbers >= edges[0]) & (numbers <= edges[-1])
    new, _ = np.histogram(numbers[inside], bins=edges)
    train_share = train / train.sum() if train.sum() else train
    new_share = new / numbers.size if numbers.size else new.astype(float)
    centres, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    ranges = np.stack([edges[:-1], edges[1:]], axis=1)
    fig = go.Figure()
    for label, shares, color in (("training", train_share, _GREY), ("new", new_share, PALETTE[0])):
        fig.add_trace(
            go.Bar(
                x=centres, y=shares, width=widths, name=f"{label} rows", customdata=ranges,
                marker={"color": color, "opacity": 0.55},
                hovertemplate=f"{name} %{{customdata[0]:.4g}} to %{{customdata[1]:.4g}}<br>"
                f"{label} %{{y:.1%}}<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(barmode="overlay", bargap=0)
    outside = int(numbers.size - inside.sum())
    title = f"{name}: training vs {numbers.size:,} new values"
    subtitle = None
    if outside:
        title += f" ({outside:,} outside the training range)"
        subtitle = (
            f"{outside / numbers.size:.1%} of the new values fall outside {_num(edges[0])} to "
            f"{_num(edges[-1])} and are not drawn"
        )
    _layout(fig, title, name, "share of rows", legend=True, subtitle=subtitle)
    fig.update_yaxes(tickformat=".0%")
    return fig


def _drift_categorical(name: str, summary: TrainingSummary, values: pd.Series) -> go.Figure:
    stored = [(v, float(c)) for v, c in summary.categories]
    stored_total = sum(c for _, c in stored)
    top = stored[:DRIFT_CATEGORIES]
    order = [v for v, _ in top]
    train_share = [c / stored_total for _, c in top]
    text = values[values.notna()].astype(str)
    new_counts = text.value_counts()
    n_new = len(text)
    new_share = [new_counts.get(v, 0) / n_new if n_new else 0.0 for v in order]
    rest_train = 1 - sum(train_share)
    rest_new = 1 - sum(new_share) if n_new else 0.0
    if rest_train > 1e-12 or rest_new > 1e-12:
        order.append(_OTHER)
        train_share.append(max(rest_train, 0.0))
        new_share.append(max(rest_new, 0.0))
    fig = go.Figure()
    for label, shares, color in (("training", train_share, _GREY), ("new", new_share, PALETTE[0])):
        fig.add_trace(
            go.Bar(
                x=order, y=shares, name=f"{label} rows", marker={"color": color},
                hovertemplate=f"{name} %{{x}}<br>{label} %{{y:.1%}}<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    unseen = int((~text.isin({v for v, _ in stored})).sum())
    title = f"{name}: training vs {n_new:,} new values"
    notes = []
    if unseen and summary.n_distinct <= len(stored):
        notes.append(f"{unseen:,} never seen in training")
    if summary.n_distinct > len(stored):
        notes.append(f"training shares among its {len(stored)} most frequent categories")
    if notes:
        title += f" ({'; '.join(notes)})"
    _layout(fig, title, name, "share of rows", legend=True)
    fig.update_yaxes(tickformat=".0%")
    return fig
