"""Model Studio: the entrypoint. Page config, navigation over the four pages, shared sidebar."""

import gc
import logging
import threading

import streamlit as st

from lib.safe_load import warm_up
from pages import _auth, _jobs, _state, _ui

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

st.set_page_config(page_title="Model Studio", page_icon="📈", layout="wide")


@st.cache_resource(show_spinner=False)
def start_model_checker() -> bool:
    """Once per server: prepare the safe loader in the background (its allow-list and its
    checker process import scikit-learn, about a second), so nobody's first upload waits."""
    threading.Thread(target=warm_up, name="loader-warm-up", daemon=True).start()
    return True


@st.cache_resource(show_spinner=False)
def freeze_imported_objects() -> bool:
    """Once per server: import what the pages use, then move every object alive to the
    garbage collector's permanent generation. Streamlit collects garbage after each script
    run; without this every collection walks all of scikit-learn, pandas and plotly again
    (0.1 to 0.5 s a run, whatever the rows; bench/predict_page_browser.py)."""
    import lib.exploration
    import lib.plots  # noqa: F401

    gc.collect()
    gc.freeze()
    return True


start_model_checker()
freeze_imported_objects()
# With sign-in configured, nobody gets past this line without signing in (the run stops on
# the sign-in screen); without it, the app is a single-user tool and this is None.
_ui.set_person(_auth.signed_in_person())

PAGES = [
    st.Page("pages/train.py", title="Train", url_path="train", default=True,
            icon=":material/model_training:"),
    st.Page("pages/save.py", title="Save & download", url_path="save", icon=":material/save:"),
    st.Page("pages/load.py", title="Upload model", url_path="load",
            icon=":material/upload_file:"),
    st.Page("pages/predict.py", title="Predict & plot", url_path="predict",
            icon=":material/insights:"),
]  # fmt: skip
page = st.navigation(PAGES, position="sidebar")
_ui.mark_app_frame()
with _ui.guard("looking at your training jobs"):
    _jobs.workspace()  # in the URL; a reload finds its jobs and their results
    _jobs.take_in_finished()
with st.sidebar:
    st.caption("Model Studio: train, save, load and use scikit-learn models without code.")
    _auth.account_box(st.session_state.get(_state.PERSON))
_ui.sidebar(st.sidebar.empty())  # redrawn when a page changes the current model or table
with st.sidebar, _ui.guard("showing your jobs"):
    st.markdown("#### Jobs")
    _jobs.job_list(limit=_jobs.SIDEBAR_JOBS, key="sidebar")

_ui.show_unloaded()
with _ui.guard("showing this page"):
    page.run()
