"""Form widgets for a model's input columns, started at a typical training value."""

from __future__ import annotations

import datetime
from typing import Any

import pandas as pd
import streamlit as st

from lib.literal import literal
from lib.model_info import Feature


def feature_input(feature: Feature, key: str, value: Any = None) -> Any:
    """One form widget for ``feature``, starting at ``value`` or a typical training value."""
    summary = feature.summary
    label = literal(feature.name)  # labels are Markdown; the name is a stranger's
    if feature.kind == "categorical" and summary is not None and summary.categories:
        options: list[Any] = summary.category_values()
        if value is not None and str(value) not in options:
            options = [value, *options]  # a value training never saw stays choosable
        index = [str(o) for o in options].index(str(value)) if value is not None else 0
        return st.selectbox(label, options, index=index, key=key, help="Most frequent first.")
    if feature.kind == "datetime":
        if value is not None:
            start = pd.Timestamp(value).date()
        elif summary is not None and summary.last:
            start = datetime.date.fromisoformat(summary.last[:10])
        else:
            start = datetime.date.today()
        return st.date_input(label, value=start, key=key)
    if isinstance(value, str):
        return st.text_input(label, value=value, key=key)
    if summary is not None and summary.has_range:
        median = summary.median
        assert summary.min is not None and summary.max is not None and median is not None
        seen = f"In training: {summary.min:g} to {summary.max:g}, median {median:g}."
        number = median if value is None else value
        if summary.integer and float(number).is_integer():
            return st.number_input(label, value=round(number), step=1, key=key, help=seen)
        return st.number_input(label, value=float(number), format="%g", key=key, help=seen)
    number = 0.0 if value is None else float(value)
    return st.number_input(label, value=number, format="%g", key=key)


def feature_inputs(features: list[Feature], key_prefix: str,
                   start: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """A grid of three columns of ``feature_input`` widgets; returns name -> value."""
    values = {}
    grid = st.columns(3)
    for i, feature in enumerate(features):
        with grid[i % 3]:
            first = (start or {}).get(feature.name)
            values[feature.name] = feature_input(feature, f"{key_prefix}::{i}", first)
    return values
