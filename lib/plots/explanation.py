"""Figures that explain a model: importance bars, partial dependence, drift against training."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lib.sampling import sample_indices
from lib.schema import Histogram, TrainingSummary

if TYPE_CHECKING:
    from lib.explain import Importance, PartialDependence

from lib.plots._base import (
    _GREY,
    _OTHER,
    DRIFT_CATEGORIES,
    MAX_POINTS,
    PALETTE,
    _layout,
    _num,
    hover_text,
    plot_texts,
)

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
            x=table["importance"].to_numpy(dtype="float64"), y=plot_texts(table["feature"]),
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
        x = plot_texts(list(grid))
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
                hovertemplate=f"{hover_text(dep.feature)} %{{x}}<br>average %{{y:.4g}}"
                "<extra></extra>",
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
                hovertemplate=f"{hover_text(dep.feature)} %{{x:.4g}}<br>average %{{y:.4g}}"
                "<extra></extra>",
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
                hovertemplate=f"{hover_text(name)} %{{customdata[0]:.4g}} to "
                f"%{{customdata[1]:.4g}}<br>"
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
                x=plot_texts(order), y=shares, name=f"{label} rows", marker={"color": color},
                hovertemplate=f"{hover_text(name)} %{{x}}<br>{label} %{{y:.1%}}<extra></extra>",
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
