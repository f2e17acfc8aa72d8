"""The figure of a tuned decision threshold: the cross-validated objective against the
threshold, with the tuned and the default thresholds marked (``lib.threshold``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lib.plots._base import _TEMPLATE, PALETTE, plot_text

_DEFAULT_COLOR = "#7f7f7f"
FOCUS = 3.0  # the y axis shows up to this many times the larger marked value


def decision_threshold_curve(
    thresholds: Sequence[float],
    objective: Sequence[float | None],
    *,
    label: str,
    tuned: float,
    default: float = 0.5,
    positive: object = None,
) -> go.Figure:
    """``objective`` (n,) against ``thresholds`` (n,) as a line, gaps where it is None (a
    constraint not met); markers and dotted lines at ``tuned`` and ``default``, with their
    values interpolated on the curve. ``label`` names the objective ("Expected cost per row").
    """
    x = np.asarray(thresholds, dtype="float64")
    y = np.array([np.nan if v is None else v for v in objective], dtype="float64")
    fig = go.Figure(
        go.Scatter(
            x=x, y=y, mode="lines", name=label, line={"color": PALETTE[0], "width": 2},
            connectgaps=False, hovertemplate="threshold %{x:.3g}<br>%{y:.4g}<extra></extra>",
        )
    )  # fmt: skip
    marked = []
    for name, at, color in (("tuned", tuned, PALETTE[3]), ("default", default, _DEFAULT_COLOR)):
        value = _value_at(x, y, at)
        marked += [value] if value is not None else []
        fig.add_vline(x=at, line={"color": color, "dash": "dot", "width": 1.5})
        fig.add_trace(
            go.Scatter(
                x=[at], y=[value], mode="markers", name=f"{name} {at:.3g}",
                marker={"color": color, "size": 11, "symbol": "diamond"},
                hovertemplate=f"{name} threshold {at:.3g}<br>%{{y:.4g}}<extra></extra>",
            )
        )  # fmt: skip
    of = f" of {plot_text(repr(positive))}" if positive is not None else ""
    fig.update_layout(
        template=_TEMPLATE, height=360, margin={"l": 10, "r": 10, "t": 50, "b": 10},
        title=f"{label} against the decision threshold (cross-validated)",
        xaxis_title=f"Decision threshold on the probability{of}", yaxis_title=label,
        legend={"orientation": "h", "y": -0.25},
    )  # fmt: skip
    fig.update_xaxes(range=[0, 1])
    # Lopsided costs make the far end of the curve soar (every positive missed at 1.0) and
    # flatten the part that matters: show up to a few times the marked values.
    top = FOCUS * max(marked, default=0.0)
    if top > 0 and np.nanmax(y, initial=0.0) > top:
        fig.update_yaxes(range=[min(0.0, float(np.nanmin(y))), top])
    return fig


def _value_at(x: np.ndarray, y: np.ndarray, at: float) -> float | None:
    """The curve's value at ``at`` (interpolated between its points), None in a gap."""
    known = ~np.isnan(y)
    if not known.any():
        return None
    exact = np.flatnonzero(np.isclose(x, at))
    if exact.size:
        return float(y[exact[0]]) if known[exact[0]] else None
    index = int(np.searchsorted(x, at))
    near = [i for i in (index - 1, index) if 0 <= i < len(x)]
    if any(not known[i] for i in near):
        return None
    return float(np.interp(at, x[known], y[known]))
