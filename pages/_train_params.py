"""The Train page's widgets for a model's hyperparameters, from the catalog's ParamSpecs."""

from __future__ import annotations

from typing import Any

import streamlit as st

from lib import catalog


def param_widget(param: catalog.ParamSpec, key: str) -> Any:
    """One hyperparameter widget built from its ParamSpec."""
    if param.kind == "choice":
        choices = list(param.choices)
        index = choices.index(param.default) if param.default in choices else 0
        return st.selectbox(
            param.label,
            choices,
            index=index,
            format_func=str,
            key=key,
            persist_state="session",
            help=param.help or None,
        )
    if param.kind == "int":
        low, high = int(param.low), int(param.high)
        if not param.log and high - low <= 200:
            return st.slider(
                param.label,
                low,
                high,
                int(param.default),
                key=key,
                persist_state="session",
                help=param.help or None,
            )
        return st.number_input(
            param.label,
            low,
            high,
            int(param.default),
            step=1,
            key=key,
            persist_state="session",
            help=param.help or f"From {low} to {high}.",
        )
    low, high = float(param.low), float(param.high)
    return st.number_input(
        param.label,
        low,
        high,
        float(param.default),
        format="%g",
        key=key,
        persist_state="session",
        help=param.help or f"From {low:g} to {high:g}.",
    )
