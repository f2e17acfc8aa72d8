"""Figure builders: pure functions from arrays and frames to plotly Figures (no streamlit).

Each builder shows at most ``MAX_POINTS`` raw points: larger inputs are randomly sampled (and
the title says so) or aggregated first, so a figure stays quick to send and draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

MAX_POINTS = 50_000
_SEED = 0
_TEMPLATE = "plotly_white"


def sample_indices(n: int, limit: int = MAX_POINTS, seed: int = _SEED) -> np.ndarray:
    """Sorted positions of at most ``limit`` of ``n`` rows, at random (all when ``n <= limit``)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def sampled_title(title: str, n_shown: int, n_total: int) -> str:
    """``title``, plus a note when only a random sample of the rows is drawn."""
    if n_shown >= n_total:
        return title
    return f"{title} (random sample of {n_shown:,} of {n_total:,} rows)"


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        template=_TEMPLATE,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        height=420,
    )
    return fig


def predicted_vs_actual(
    y_true: Sequence[float], y_pred: Sequence[float], *, target: str = "target"
) -> go.Figure:
    """Scatter of predicted against actual values (n_rows,) with the y = x line."""
    y_true = np.asarray(y_true, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    rows = sample_indices(len(y_true))
    x, y = y_true[rows], y_pred[rows]
    fig = go.Figure(
        go.Scattergl(
            x=x, y=y, mode="markers", marker={"size": 6, "opacity": 0.6}, name="rows",
            hovertemplate="actual %{x:.4g}<br>predicted %{y:.4g}<extra></extra>",
        )
    )  # fmt: skip
    finite = np.concatenate([x, y])
    finite = finite[np.isfinite(finite)]
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        fig.add_trace(
            go.Scatter(
                x=[low, high], y=[low, high], mode="lines", name="perfect",
                line={"dash": "dash", "color": "grey"},
            )
        )  # fmt: skip
    title = sampled_title("Predicted vs actual", len(rows), len(y_true))
    return _layout(fig, title, f"actual {target}", f"predicted {target}")


def confusion_matrix(
    y_true: Sequence, y_pred: Sequence, *, labels: Sequence | None = None, target: str = "target"
) -> go.Figure:
    """Heatmap of row counts: actual class (rows) by predicted class (columns)."""
    true = pd.Series(np.asarray(y_true)).astype(str)
    pred = pd.Series(np.asarray(y_pred)).astype(str)
    order = [str(c) for c in labels] if labels is not None else sorted(set(true) | set(pred))
    table = pd.crosstab(true, pred).reindex(index=order, columns=order, fill_value=0)
    counts = table.to_numpy()
    fig = go.Figure(
        go.Heatmap(
            z=counts, x=order, y=order, colorscale="Blues", showscale=False,
            text=counts, texttemplate="%{text}",
            hovertemplate="actual %{y}<br>predicted %{x}<br>%{z} rows<extra></extra>",
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    correct = int(np.trace(counts))
    title = f"Confusion matrix ({correct:,} of {int(counts.sum()):,} rows right)"
    return _layout(fig, title, f"predicted {target}", f"actual {target}")


def prediction_distribution(
    predictions: Sequence, *, task: str = "regression", name: str = "prediction", bins: int = 40
) -> go.Figure:
    """How the predictions are spread: a histogram (regression) or class counts (classification).

    Both are aggregated before plotting, so any number of rows draws as at most ``bins`` bars.
    """
    values = pd.Series(np.asarray(predictions))
    if task == "classification" or not pd.api.types.is_numeric_dtype(values.dtype):
        counts = values.astype(str).value_counts().sort_index()
        fig = go.Figure(go.Bar(x=counts.index.tolist(), y=counts.to_numpy(), name="rows"))
        fig.update_xaxes(type="category")
        return _layout(fig, f"Predicted classes ({len(values):,} rows)", name, "rows")
    numbers = values.to_numpy(dtype="float64")
    numbers = numbers[np.isfinite(numbers)]
    if numbers.size == 0:
        return _layout(go.Figure(), "No finite predictions to plot", name, "rows")
    counts, edges = np.histogram(numbers, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(
        go.Bar(
            x=centres, y=counts, width=np.diff(edges), name="rows",
            customdata=np.stack([edges[:-1], edges[1:]], axis=1),
            hovertemplate="%{customdata[0]:.4g} to %{customdata[1]:.4g}<br>%{y} rows"
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
    fig = make_subplots(
        rows=1, cols=max(len(names), 1), subplot_titles=[labels.get(m, m) for m in names]
    )
    for i, metric in enumerate(names, start=1):
        fig.add_trace(
            go.Box(
                y=list(cv_scores[metric]), name=labels.get(metric, metric), boxpoints="all",
                jitter=0.3, pointpos=0, hovertemplate="%{y:.4g}<extra></extra>",
            ),
            row=1, col=i,
        )  # fmt: skip
        fig.update_xaxes(showticklabels=False, row=1, col=i)
    fig.update_layout(
        showlegend=False, template=_TEMPLATE, height=280,
        margin={"l": 10, "r": 10, "t": 60, "b": 10}, title="Cross-validation: each fold's score",
    )  # fmt: skip
    return fig
