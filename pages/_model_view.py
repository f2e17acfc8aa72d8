"""How the current model is shown: one-line caption, summary with its training summaries,
and the compression choice shared by every model download."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sklearn.utils import estimator_html_repr

from lib.display import headline_metric, summary_range
from lib.literal import literal, literal_lines
from lib.persistence import COMPRESSIONS, DEFAULT_COMPRESSION
from lib.records import CurrentModel
from pages import _state

NO_MODEL = "No model yet: train one on the **Train** page or upload one on **Upload model**."


def model_caption(current: CurrentModel) -> str:
    """One line of Markdown: estimator, task, target (each from the model's file: literal)."""
    info = current.info
    parts = [literal(info.estimator), literal(info.task or "task unknown")]
    if info.target:
        parts.append(f"predicts '{literal(info.target)}'")
    return " · ".join(parts)


def current_model_section() -> CurrentModel | None:
    """The "Current model" header with the model's summary (or how to get one); the model."""
    st.header("Current model")
    current = _state.get_model()
    if current is None:
        st.info(NO_MODEL, icon=":material/info:")
    else:
        render_model_summary(current)
    return current


def render_model_summary(current: CurrentModel, *, diagram: bool = True) -> None:
    """What the current model is and what it expects."""
    info = current.info
    st.markdown(f"**{literal(current.name)}** — {model_caption(current)}")
    where = "runs in a sandboxed worker process" if current.sandboxed else "trained in this app"
    st.caption(f"Source: {literal(current.source)} · {where}")
    for note in current.warnings:
        st.warning(literal_lines(note))
    self_check_verdict(current)

    left, right = st.columns(2)
    with left:
        st.markdown("**Expects**")
        st.markdown(literal_lines(info.expectation))
        if info.features and info.named_features:
            n_rows = len(info.features)
            st.dataframe(
                features_frame(current), hide_index=True, height=min(38 + 35 * n_rows, 320)
            )
        if info.classes is not None:
            st.markdown("**Classes:** " + ", ".join(f"'{literal(c)}'" for c in info.classes))
    with right:
        st.markdown("**Details**")
        st.markdown(
            "\n".join(
                f"- **{label}:** {literal(value)}" for label, value in details(current).items()
            )
        )
    if diagram and current.sandboxed:  # drawn from the model's own text, shown as text
        with st.expander("Pipeline (as the model describes itself)", expanded=False):
            st.code(info.text or info.estimator, language=None)
    elif diagram:
        with st.expander("Pipeline diagram (scikit-learn)", expanded=False):
            st.html(estimator_html_repr(current.model))


def self_check_verdict(current: CurrentModel) -> None:
    """Whether the model predicts its file's check rows here as where it was saved (nothing
    for a model trained in this session: it was just checked by being trained)."""
    verdict = current.self_check
    if verdict is None:
        return
    if verdict.status == "passed":
        text = " ".join([verdict.message, *verdict.details])
        st.success(literal_lines(text), icon=":material/verified:")
    elif verdict.status == "unavailable":
        st.caption(literal_lines(verdict.message))
    else:
        st.error(
            literal_lines(verdict.message)
            + "\n\n"
            + "\n".join(f"- {literal(line)}" for line in verdict.details),
            icon=":material/error:",
        )


def features_frame(current: CurrentModel) -> pd.DataFrame:
    """One row per input column: name, kind, and what it looked like in training."""
    rows = [
        {"column": f.name, "kind": f.kind, "seen in training": summary_range(f.summary)}
        for f in current.info.features or []
    ]
    return pd.DataFrame(rows, columns=["column", "kind", "seen in training"])


def details(current: CurrentModel) -> dict[str, str]:
    """Label -> plain text about the model (from its file), for the summary."""
    info = current.info
    meta = info.metadata
    data = meta.training_data if meta else None
    return {
        "Steps": " → ".join(info.steps),
        "Task": info.task or "unknown",
        "Target": info.target or "unknown",
        "Headline metric": headline_metric(meta) or "not recorded",
        "Trained on": f"{data.name or 'a table'}, {data.rows:,} rows" if data else "not recorded",
        "Created": (meta.created_at if meta and meta.created_at else "not recorded").replace(
            "T", " "
        ),
        "scikit-learn": f"{info.file_sklearn_version or 'unknown'} in the file, "
        f"{info.running_sklearn_version} running",
    }


def compression_choice(key: str) -> str:
    """The compression select shared by every model download."""
    names = list(COMPRESSIONS)
    return st.selectbox(
        "Compression",
        names,
        index=names.index(DEFAULT_COMPRESSION),
        key=key,
        help="zlib: small and quick (default). none: largest, fastest to load. "
        "lzma/xz: smallest, slowest. Every choice opens with plain joblib.load. "
        "Saving to the library uses the same choice.",
    )
