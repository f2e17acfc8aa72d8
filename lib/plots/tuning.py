"""Figures of a hyperparameter search: each candidate's score against each setting."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lib.plots._base import _TEMPLATE, PALETTE

_PANELS_PER_ROW = 3
_EARLIER = ["#c6dbef", "#9ecae1", "#6baed6"]  # rounds before the last, lightest first


def tuning_scores(
    board: pd.DataFrame, params: list[str], score: str, score_label: str | None = None
) -> go.Figure:
    """One panel per setting in ``params``: every candidate of ``board`` (one row each, its
    settings as columns, ``score`` its cross-validated mean, ``round`` how far it got) as a
    point at its value of the setting; later rounds (more rows) are darker and larger.

    Numeric settings get a numeric axis (log when the values span over two decades); others
    are categories.
    """
    names = [name for name in params if name in board] or ["candidate"]
    cols = min(len(names), _PANELS_PER_ROW)
    rows = math.ceil(len(names) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names, horizontal_spacing=0.08,
                        vertical_spacing=0.25 if rows > 1 else 0.2)  # fmt: skip
    last_round = int(board["round"].max()) if len(board) else 1
    for i, name in enumerate(names):
        row, col = i // cols + 1, i % cols + 1
        values = board[name]
        numbers = pd.to_numeric(values, errors="coerce")
        numeric = bool(numbers.notna().all()) and values.map(_not_bool).all()
        x = numbers if numeric else values.astype(str)
        for number in sorted(board["round"].unique()):
            chosen = board["round"] == number
            shade = PALETTE[0] if number == last_round else _EARLIER[min(number, 3) - 1]
            fig.add_trace(
                go.Scatter(
                    x=x[chosen], y=board.loc[chosen, score], mode="markers",
                    name=f"round {number}", legendgroup=f"round {number}", showlegend=i == 0,
                    marker={"color": shade, "size": 6 + 3 * number, "line": {"width": 0}},
                    hovertemplate=f"{name} = %{{x}}<br>score %{{y:.4g}}<extra>round {number}"
                    "</extra>",
                ),
                row=row, col=col,
            )  # fmt: skip
        if numeric and numbers.min() > 0 and numbers.max() / numbers.min() > 100:
            fig.update_xaxes(type="log", row=row, col=col)
        elif not numeric:  # words first, then numbers in order: None, 3, 8, 12, 20
            order = sorted(set(x), key=lambda v: (_number(v) is not None, _number(v) or 0, v))
            fig.update_xaxes(categoryorder="array", categoryarray=order, row=row, col=col)
        fig.update_yaxes(title_text=(score_label or score) if col == 1 else None, row=row,
                         col=col)  # fmt: skip
    fig.update_annotations(font_size=12)
    fig.update_layout(
        template=_TEMPLATE, height=120 + 240 * rows, margin={"l": 10, "r": 10, "t": 70, "b": 10},
        title="Each candidate's cross-validated score against its settings",
        legend={"orientation": "h", "y": -0.15 if rows == 1 else -0.08, "title": "Reached"},
    )  # fmt: skip
    return fig


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _not_bool(value: object) -> bool:
    return str(value) not in ("True", "False")
