"""What every figure builder shares: limits, layout, palette and small helpers."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go

from lib.slices import number_label

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
_num = number_label  # short number labels, shared with the slice groups


def plot_text(value: object) -> str:
    """``str(value)`` shown literally by plotly, which reads a subset of HTML (``<a href>``,
    ``<b>``, ``<br>``) in titles, tick labels, legends and hover text: ``<``, ``>`` and ``&``
    become entities (checked in Chromium: no link, no bold, the characters as they are)."""
    return html.escape(str(value), quote=False)


def hover_text(value: object) -> str:
    """``plot_text`` for a hovertemplate, which also fills in ``%{...}``: ``%`` an entity too."""
    return plot_text(value).replace("%", "&#37;")


def plot_texts(values: Iterable[object]) -> list[str]:
    """``plot_text`` of each value: category labels for an axis or a hover."""
    return [plot_text(value) for value in values]


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
    """The shared layout. ``title``, ``subtitle`` and the axis titles are plain text (they may
    name a stranger's column or class) and are shown literally (``plot_text``)."""
    title_spec: dict = {"text": plot_text(title), "font": {"size": 16}}
    if subtitle:
        title_spec["subtitle"] = {"text": plot_text(subtitle)}
    fig.update_layout(
        title=title_spec,
        xaxis_title=plot_text(x),
        yaxis_title=plot_text(y),
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


def _cycle(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def _add_identity_line(fig: go.Figure, values: np.ndarray, name: str) -> None:
    """Add the dashed y = x line across the finite range of ``values`` (any shape), if any."""
    finite = values[np.isfinite(values)]
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        fig.add_trace(
            go.Scatter(
                x=[low, high], y=[low, high], mode="lines", name=name,
                line={"dash": "dash", "color": _GREY}, hoverinfo="skip",
            )
        )  # fmt: skip
