"""Figures of a regression model's predictions: fit, residuals, errors by feature, spread."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lib.plots._base import (
    _DRAW,
    _GREY,
    _OTHER,
    _TEMPLATE,
    CURVE_POINTS,
    MAX_CLASSES,
    PALETTE,
    SCATTER_POINTS,
    TOP_CATEGORIES,
    _add_identity_line,
    _layout,
    _round_to_spread,
    _row_ids,
    hover_text,
    plot_texts,
    sampled_title,
)
from lib.sampling import sample_indices
from lib.slices import groups_for

# --- regression ---------------------------------------------------------------------------


def predicted_vs_actual(
    y_true: Sequence[float],
    y_pred: Sequence[float],
    *,
    target: str = "target",
    row_ids: Sequence[int] | None = None,
    band: tuple[Sequence[float], Sequence[float]] | None = None,
    band_name: str = "prediction interval",
) -> go.Figure:
    """Scatter of predicted (n_rows,) against actual (n_rows,) values, with the y = x line.

    Selectable: ``customdata`` is ``row_ids`` (default 0..n-1) of the rows drawn. ``band``:
    each row's (lower, upper) bounds (n_rows,) for the actual value, drawn as a shaded area
    across from each prediction (at most ``CURVE_POINTS`` predictions a side).
    """
    # The y = x line takes 2 of the points.
    actual, predicted, ids, n = _sampled_rows(y_true, y_pred, row_ids, SCATTER_POINTS - 2)
    fig = go.Figure()
    if band is not None:
        fig.add_trace(_band(y_pred, band[0], band[1], band_name))
    fig.add_trace(_row_scatter(actual, predicted, ids, "actual", "predicted"))
    _add_identity_line(fig, np.concatenate([actual, predicted]), "perfect (y = x)")
    title = sampled_title("Predicted vs actual", len(ids), n)
    subtitle = f"Shaded: {band_name}" if band is not None else None
    return _layout(fig, title, f"actual {target}", f"predicted {target}", subtitle=subtitle)


def _band(
    y_pred: Sequence[float], lower: Sequence[float], upper: Sequence[float], name: str
) -> go.Scatter:
    """A closed shaded area from (lower, y_hat) to (upper, y_hat), sorted by the prediction."""
    predicted = np.asarray(y_pred, dtype="float64")
    low, high = np.asarray(lower, dtype="float64"), np.asarray(upper, dtype="float64")
    finite = np.flatnonzero(np.isfinite(predicted) & np.isfinite(low) & np.isfinite(high))
    order = finite[np.argsort(predicted[finite], kind="stable")]
    if order.size > CURVE_POINTS:
        order = order[np.linspace(0, order.size - 1, CURVE_POINTS).round().astype(int)]
    y = predicted[order]
    return go.Scatter(
        x=np.concatenate([low[order], high[order][::-1]]).astype(_DRAW),
        y=np.concatenate([y, y[::-1]]).astype(_DRAW),
        fill="toself", mode="lines", line={"width": 0}, fillcolor="rgba(0, 114, 178, 0.15)",
        name=name, hoverinfo="skip", showlegend=True,
    )  # fmt: skip


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
    keys = groups_for(values, max_groups=TOP_CATEGORIES + 1, bins=bins)
    table = (
        pd.DataFrame({"bin": keys, "error": error})
        .groupby("bin", observed=True, sort=False, dropna=False)["error"]
        .agg(["mean", "size"])
    )
    order = [k for k in keys.cat.categories if k in table.index]
    table = table.reindex(order)
    labels = plot_texts([str(k) for k in order])
    fig = go.Figure(
        go.Bar(
            x=labels, y=table["mean"].to_numpy(), customdata=table["size"].to_numpy(),
            name="mean |error|", marker={"color": PALETTE[0]},
            hovertemplate=f"{hover_text(feature)} %{{x}}<br>mean |error| %{{y:.4g}}<br>"
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
                x=plot_texts(counts.index), y=counts.to_numpy(), name="rows",
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
