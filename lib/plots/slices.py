"""The slice figure: the model's figure on each group of the rows, with its interval."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lib.metrics import LABELS, LOWER_IS_BETTER
from lib.plots._base import _GREY, PALETTE, _layout, hover_text, plot_texts


def slice_metrics(table: pd.DataFrame, *, column: str) -> go.Figure:
    """One point per group of ``lib.slices.slice_table`` (worst at the top) with its 95 %
    interval as error bars, the figure on all rows as a dashed vertical line, and the groups
    too small to judge in grey."""
    primary = table.attrs["primary"]
    overall = float(table.attrs.get("overall", math.nan))
    label = LABELS.get(primary, primary)
    fig = go.Figure()
    for too_small, colour, name in ((False, PALETTE[0], "judged"), (True, _GREY, "too few")):
        part = table[table["too_small"] == too_small]
        if part.empty:
            continue
        value = part[primary].to_numpy(dtype=float)
        fig.add_trace(
            go.Scatter(
                x=value, y=plot_texts(part["group"]), mode="markers", name=name,
                marker={"color": colour, "size": 10},
                error_x={
                    "type": "data", "symmetric": False, "color": colour,
                    "array": np.nan_to_num(part["high"].to_numpy(dtype=float) - value),
                    "arrayminus": np.nan_to_num(value - part["low"].to_numpy(dtype=float)),
                },
                customdata=np.stack(
                    [part["rows"].to_numpy(), np.asarray(plot_texts(part["note"]), dtype=object)],
                    axis=1,
                ),
                hovertemplate=f"{hover_text(column)} %{{y}}<br>{hover_text(label)} %{{x:.4g}}<br>"
                "%{customdata[0]:,} rows<br>%{customdata[1]}<extra></extra>",
            )
        )  # fmt: skip
    better = "lower" if primary in LOWER_IS_BETTER else "higher"
    title = f"{label} by {column}, worst at the top"
    if math.isfinite(overall):
        fig.add_vline(x=overall, line={"dash": "dash", "color": _GREY})
        title += f" (dashed: all rows, {overall:.3g})"
    fig.update_yaxes(type="category", categoryorder="array",
                     categoryarray=plot_texts(table["group"]), autorange="reversed")  # fmt: skip
    height = max(300, 120 + 28 * len(table))
    subtitle = f"{better} is better; bars: 95 % interval; grey: too few rows to judge"
    return _layout(fig, title, label, column, legend=False, subtitle=subtitle, height=height)
