"""Figures of two model versions' predictions on the same rows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lib.plots._base import (
    _DRAW,
    _GREY,
    _OTHER,
    MAX_CLASSES,
    PALETTE,
    SCATTER_POINTS,
    _add_identity_line,
    _layout,
    hover_text,
    plot_text,
    plot_texts,
    sampled_title,
)
from lib.sampling import sample_indices


def predictions_against_predictions(
    y_true: Sequence[float],
    pred_a: Sequence[float],
    pred_b: Sequence[float],
    *,
    names: tuple[str, str],
    target: str = "target",
) -> go.Figure:
    """Scatter of one version's predictions (x) against the other's (y), all (n_rows,), with
    the y = x line; each row coloured by which version came closer to its actual value."""
    actual = np.asarray(y_true, dtype="float64")
    n_total = len(actual)
    a, b = np.asarray(pred_a, dtype="float64"), np.asarray(pred_b, dtype="float64")
    rows = sample_indices(len(actual), SCATTER_POINTS - 2)
    actual, a, b = actual[rows], a[rows], b[rows]
    error_a, error_b = np.abs(a - actual), np.abs(b - actual)
    fig = go.Figure()
    shown = plot_text(names[0]), plot_text(names[1])
    groups = (
        (f"{shown[0]} closer", error_a < error_b, PALETTE[0]),
        (f"{shown[1]} closer", error_b < error_a, PALETTE[1]),
        ("equally close", error_a == error_b, _GREY),
    )
    for label, chosen, colour in groups:
        if not chosen.any():
            continue
        fig.add_trace(
            go.Scattergl(
                x=a[chosen].astype(_DRAW), y=b[chosen].astype(_DRAW), mode="markers",
                name=label, customdata=actual[chosen].astype(_DRAW),
                marker={"size": 6, "opacity": 0.6, "color": colour},
                hovertemplate=f"{hover_text(names[0])} %{{x:.4g}}<br>{hover_text(names[1])} "
                "%{y:.4g}<br>"
                "actual %{customdata:.4g}<extra></extra>",
            )
        )  # fmt: skip
    _add_identity_line(fig, np.concatenate([a, b]), "same prediction (y = x)")
    title = sampled_title(f"Predictions of {names[1]} against {names[0]}", len(rows), n_total)
    return _layout(
        fig, title, f"{names[0]}: predicted {target}", f"{names[1]}: predicted {target}",
        legend=True,
    )  # fmt: skip


def class_agreement(
    pred_a: Sequence,
    pred_b: Sequence,
    *,
    names: tuple[str, str],
    labels: Sequence | None = None,
    target: str = "target",
) -> go.Figure:
    """Heatmap of rows by one version's predicted class (rows) and the other's (columns), both
    (n_rows,); agreement lies on the diagonal. Beyond 50 classes the rarest become "other"."""
    first = pd.Series(np.asarray(pred_a)).astype(str)
    second = pd.Series(np.asarray(pred_b)).astype(str)
    seen = set(first) | set(second)
    order = [str(c) for c in labels if str(c) in seen] if labels is not None else []
    order += sorted(seen - set(order))
    if len(order) > MAX_CLASSES:
        frequency = pd.concat([first, second]).value_counts()
        keep = set(frequency.reindex(order, fill_value=0).nlargest(MAX_CLASSES - 1).index)
        first = first.where(first.isin(keep), _OTHER)
        second = second.where(second.isin(keep), _OTHER)
        order = [c for c in order if c in keep] + [_OTHER]
    counts = pd.crosstab(first, second).reindex(index=order, columns=order, fill_value=0)
    table = counts.to_numpy()
    fig = go.Figure(
        go.Heatmap(
            z=table, x=plot_texts(order), y=plot_texts(order), colorscale="Blues",
            showscale=False, zmin=0, text=table,
            texttemplate="%{text}",
            hovertemplate=f"{hover_text(names[0])}: %{{y}}<br>{hover_text(names[1])}: %{{x}}<br>"
            "%{z:,} rows"
            "<extra></extra>",
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    same = int(np.trace(table))
    title = f"Predicted class by both versions ({same:,} of {int(table.sum()):,} rows agree)"
    return _layout(fig, title, f"{names[1]}: predicted {target}", f"{names[0]}: predicted {target}")
