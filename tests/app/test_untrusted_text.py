"""Untrusted text stays text: a table whose column names, class labels and file name look like
Markdown (an image, a link, bold, a formula) is trained on and predicted with, and every element
that renders Markdown shows them escaped (``lib.literal``), never raw.

What the escaped form looks like in a browser: tests/e2e/test_untrusted_text_browser.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
from app_helpers import APP, TIMEOUT, by_label, finish_jobs, no_trouble
from streamlit.testing.v1 import AppTest

from lib.literal import literal
from pages import _state

IMAGE = "![x](http://127.0.0.1:9/x.png)"
FORMULA = '=HYPERLINK("http://evil.example","x")'
BOLD = "**bold**"
FILE = ":red[alarm] $x^2$.csv"
RAW = (IMAGE, FORMULA, BOLD, ":red[alarm]", "$x^2$")
# Elements whose body is Markdown, and widgets whose label and help are.
BODIES = ("markdown", "caption", "success", "info", "warning", "error", "title", "header",
          "subheader")  # fmt: skip
WIDGETS = ("selectbox", "radio", "multiselect", "number_input", "text_input", "checkbox",
           "toggle", "slider", "button", "download_button", "date_input", "metric", "tab",
           "expandable")  # fmt: skip


def hostile_table(rows: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows)
    return pd.DataFrame(
        {
            IMAGE: x,
            FORMULA: rng.normal(size=rows),
            "colour": rng.choice(["[click](http://evil.example)", "-1+1", "plain"], size=rows),
            # "(none)" sorts first, so "**bold**" is the positive class of the threshold panel.
            "kind": np.where(x + rng.normal(scale=0.5, size=rows) > 0, BOLD, "(none)"),
        }
    )


def markdown_texts(at: AppTest) -> list[str]:
    """Every Markdown string the page sends: element bodies, and widget labels and help."""
    found = []
    for kind in BODIES:
        found += [str(element.value) for element in [*at.get(kind), *at.sidebar.get(kind)]]
    for metric in at.metric:  # a metric's value and delta are Markdown as well
        found += [str(metric.value), str(metric.delta or "")]
    for kind in WIDGETS:
        for element in [*at.get(kind), *at.sidebar.get(kind)]:
            proto = getattr(element, "proto", None)
            found += [str(getattr(element, "label", "") or "")]
            found += [str(getattr(proto, "help", "") or "")] if proto is not None else []
    return [text for text in found if text]


def assert_shown_literally(at: AppTest, *escaped: str) -> None:
    texts = markdown_texts(at)
    for text in texts:
        for raw in RAW:
            assert raw not in text, f"{raw!r} reached Markdown unescaped in {text!r}"
    joined = "\n".join(texts)
    for form in escaped:
        assert form in joined, f"{form!r} not shown"


def test_names_from_a_table_are_shown_literally_on_every_page(at):
    data = hostile_table().to_csv(index=False).encode()
    at.file_uploader(key=_state.TRAIN_UPLOAD).set_value((FILE, data, "text/csv")).run()
    no_trouble(at)
    by_label(at.selectbox, "Target column").set_value("kind").run()
    by_label(at.selectbox, "Model").set_value("logistic_regression").run()
    assert_shown_literally(at, literal(FILE))
    finish_jobs(at.button(key=_state.TRAIN_BUTTON).click().run())
    no_trouble(at)
    current = at.session_state[_state.MODEL]
    assert list(current.info.classes) == ["(none)", BOLD]
    assert_shown_literally(at, literal(FILE))

    at.switch_page("pages/predict.py").run()
    at.file_uploader(key=_state.PREDICT_UPLOAD).set_value((FILE, data, "text/csv")).run()
    no_trouble(at)
    assert_shown_literally(at, literal(current.name), f"Decision threshold for '{literal(BOLD)}'")
    assert at.download_button(key=_state.DOWNLOAD_PREDICTIONS_RAW).label == (
        "Download raw CSV (for code)"
    )
    # The What-if tab labels one input per column, with the column's name.
    at.session_state[_state.EXPLORE_TAB] = "What-if"
    at.run()
    no_trouble(at)
    assert_shown_literally(at, literal(IMAGE), literal(FORMULA))
    assert {metric.value for metric in at.metric} & {literal(BOLD), literal("(none)")}

    at.switch_page("pages/save.py").run()
    no_trouble(at)
    card = next(text for text in markdown_texts(at) if "Model card" in text and "Inputs" in text)
    assert literal(IMAGE) in card and literal(FORMULA) in card and literal(BOLD) in card
    assert_shown_literally(at, literal(current.name))

    # AppTest keeps sidebar elements of the first run only: a new session with both.
    fresh = AppTest.from_file(APP, default_timeout=TIMEOUT)
    fresh.session_state[_state.MODEL] = current
    fresh.session_state[_state.TABLE] = at.session_state[_state.TABLE]
    fresh.run()
    no_trouble(fresh)
    assert_shown_literally(fresh, f"**{literal(current.name)}**", f"**{literal(FILE)}**")
