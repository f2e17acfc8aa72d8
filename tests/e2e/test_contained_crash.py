"""A model that crashes its worker takes down only itself: two sessions on one server.

Session B predicts with a genuine model. Session A uploads a crafted model whose ``predict``
crashes compiled scikit-learn code (SIGSEGV) and predicts: A sees the crash explained and its
model unloaded; B goes on predicting, before, during and after; the server stays up.

The server runs with ``MODEL_STUDIO_TESTS_SKIP_MODEL_CHECKS=1`` (pages/_ui.py): the loader's
defence-in-depth checks would refuse the crafted model, and this test is about what happens
when a model gets past them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

from tests.e2e.server import (
    CHROMIUM,
    LAUNCH_ARGS,
    LONG,
    WAIT,
    running_app_process,
    settle,
)

pytestmark = pytest.mark.e2e
if not os.environ.get("CI") and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.e2e.steps import (  # noqa: E402
    chart_titled,
    download,
    go_to,
    open_session,
    open_tab,
    upload,
)

SKIP_CHECKS = {"MODEL_STUDIO_TESTS_SKIP_MODEL_CHECKS": "1"}
# Screenshots of both sessions go here (default: the test's tmp_path).
SHOTS_DIR = "MODEL_STUDIO_E2E_SHOTS"
# The crafted model's poisoned training point. Far from the rows the worker predicts on when it
# opens a model (lib/worker/_smoke.py: (v, v) for v in 0, ±0.5, ±1, ±10, ±1000), so the
# model opens; a row near it makes predict read the poisoned label and crash.
FAR = (5000.0, -5000.0)
COLUMNS = ["a", "b"]
NO_CURRENT_MODEL = re.compile(r"Current model\s*None yet\.")


# --- the files ------------------------------------------------------------------------------


def crashing_model(path: Path) -> Path:
    """A 1-nearest-neighbour classifier whose last training label is an index far out of range.

    With C-ordered float rows, brute-force Manhattan ``predict`` goes through compiled code
    (``ArgKminClassMode``) that uses each neighbour's label as an index without a bounds check:
    a row nearest to the last training point reads 8 TiB past an array and dies by SIGSEGV.
    A DataFrame or an F-ordered array takes a pure-Python path that only raises IndexError,
    so the neighbours come after ``PolynomialFeatures(degree=1)``, which hands on a C-ordered
    copy of the columns unchanged; the pipeline keeps the column names (``feature_names_in_``).
    """
    train = pd.DataFrame(
        {"a": [0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, FAR[0]],
         "b": [0.0, 1.0, 0.0, 1.0, 2.0, 3.0, 1.0, FAR[1]]}
    )  # fmt: skip
    model = make_pipeline(
        PolynomialFeatures(degree=1, include_bias=False),
        KNeighborsClassifier(n_neighbors=1, algorithm="brute", metric="manhattan"),
    ).fit(train, [0, 1, 0, 1, 0, 1, 0, 1])
    neighbours = model[-1]
    neighbours._y = neighbours._y.copy()
    neighbours._y[-1] = 2**40
    joblib.dump(model, path)
    return path


def genuine_model(path: Path) -> tuple[Path, LogisticRegression]:
    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.uniform(0, 10, size=(200, 2)), columns=COLUMNS)
    model = LogisticRegression().fit(train, (train["a"] > train["b"]).astype(int))
    joblib.dump(model, path)
    return path, model


def rows_file(path: Path, rows: list[tuple[float, float]], **extra: list[str]) -> Path:
    pd.DataFrame(rows, columns=COLUMNS).assign(**extra).to_csv(path, index=False)
    return path


def predict_in_subprocess(model: Path, rows: Path) -> int:
    """Plain ``joblib.load`` and ``predict`` in a fresh Python; its exit code (-N: signal N)."""
    script = textwrap.dedent(
        """
        import resource, sys, joblib, pandas as pd
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        joblib.load(sys.argv[1]).predict(pd.read_csv(sys.argv[2]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(model), str(rows)], capture_output=True, timeout=300
    )
    return done.returncode


# --- the sessions ---------------------------------------------------------------------------


def load_model(page: Page, path: Path) -> None:
    go_to(page, "Upload model")
    upload(page, path)
    loaded = f"Loaded '{path.name}'. It is now the current model."
    expect(page.get_by_text(loaded)).to_be_visible(timeout=LONG)
    settle(page)


def expect_predictions(page: Page) -> None:
    """The predict page shows predictions (its "Predictions" section only follows a
    successful predict) and no error.

    The rest is looked at once the run is over: while it runs, elements of the previous run
    can still be on the page next to their new copies (two download buttons), and a locator
    that matches two elements fails at once.
    """
    expect(page.get_by_role("heading", name="Predictions", level=2)).to_be_visible(timeout=LONG)
    settle(page)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=WAIT)
    download_button = page.get_by_test_id("stDownloadButton")
    expect(download_button.filter(has_text="Download predictions (CSV)")).to_be_visible(
        timeout=WAIT
    )
    expect(page.get_by_test_id("stAlert").filter(has_text="crashed")).to_have_count(0, timeout=WAIT)
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)


def expect_downloaded_predictions(page: Page, model, rows: Path, saved: Path) -> None:
    """The predictions the page offers are ``model``'s on ``rows``, row for row."""
    download(page, "Download predictions (CSV)", saved)
    got = pd.read_csv(saved)
    wanted = pd.read_csv(rows)
    assert list(got.columns[:2]) == COLUMNS
    np.testing.assert_allclose(got[COLUMNS].to_numpy(), wanted[COLUMNS].to_numpy())
    np.testing.assert_array_equal(got["predicted target"], model.predict(wanted[COLUMNS]))


def test_a_crashing_model_is_unloaded_and_no_one_else_notices(tmp_path: Path):
    crash_model = crashing_model(tmp_path / "crash_model.joblib")
    crash_rows = rows_file(tmp_path / "crash_rows.csv", [(1.0, 1.0), (4999.0, -5000.0)])
    genuine, model = genuine_model(tmp_path / "genuine.joblib")
    rows_b = rows_file(tmp_path / "rows_b.csv", [(1.0, 2.0), (7.0, 3.0), (4.5, 4.0)])
    # An extra column: the page names it in a notice, which only this file's predictions show.
    more_rows_b = rows_file(
        tmp_path / "more_rows_b.csv",
        [(9.0, 1.0), (2.0, 8.0), (6.0, 5.5), (3.0, 3.5)],
        note=["first", "second", "third", "fourth"],
    )
    shots = Path(os.environ.get(SHOTS_DIR) or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    # The crafted file does what this test says, outside the app: plain scikit-learn dies by a
    # signal on the crash rows, and does not on rows like those the worker opens a model with.
    smoke_like = rows_file(tmp_path / "smoke_like.csv", [(v, v) for v in (0, 1, -1, 1000, -1000)])
    assert predict_in_subprocess(crash_model, smoke_like) == 0
    assert predict_in_subprocess(crash_model, crash_rows) == -signal.SIGSEGV

    with (
        running_app_process(tmp_path / "library", tmp_path / "streamlit.log", env=SKIP_CHECKS)
        as (url, server),
        sync_playwright() as p,
    ):  # fmt: skip
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        b = open_session(browser, url)
        a = open_session(browser, url)

        # B predicts with a genuine model.
        load_model(b, genuine)
        go_to(b, "Predict & plot")
        upload(b, rows_b)
        expect_predictions(b)

        # A loads the crafted model and predicts rows that crash it. While A's run goes on,
        # B switches tabs (a rerun of its own on the same server).
        load_model(a, crash_model)
        go_to(a, "Predict & plot")
        a.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
            str(crash_rows)
        )
        open_tab(b, "Distribution")
        expect(chart_titled(b, "Predicted classes (3 rows)")).to_be_visible(timeout=LONG)

        crash = a.get_by_test_id("stAlert").filter(has_text="crashed")
        expect(crash).to_be_visible(timeout=LONG)
        expect(crash).to_contain_text("while predicting these rows", timeout=WAIT)
        expect(crash).to_contain_text("Nothing else was affected", timeout=WAIT)
        expect(crash).to_contain_text("The model was unloaded", timeout=WAIT)
        settle(a)
        expect(a.get_by_role("heading", name="Predictions", level=2)).to_have_count(0, timeout=WAIT)
        expect(a.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
        a.screenshot(path=shots / "a_crash.png", full_page=True)
        assert server.poll() is None, "the app's server process died with the model"

        # A has no current model any more, on every page. The sidebar says so at once, drawn
        # cleanly: nothing of the model's lines is left below (a model and a table, each
        # "None yet.").
        sidebar_a = a.get_by_test_id("stSidebar")
        expect(sidebar_a).to_contain_text(NO_CURRENT_MODEL, timeout=WAIT)
        expect(sidebar_a.get_by_text("None yet.")).to_have_count(2, timeout=WAIT)
        go_to(a, "Upload model")
        expect(sidebar_a).to_contain_text(NO_CURRENT_MODEL, timeout=WAIT)
        expect(sidebar_a).not_to_contain_text("crash_model", timeout=WAIT)
        go_to(a, "Predict & plot")
        expect(a.get_by_text("No model yet")).to_be_visible(timeout=WAIT)
        expect(sidebar_a).to_contain_text(NO_CURRENT_MODEL, timeout=WAIT)
        a.screenshot(path=shots / "a_after.png", full_page=True)

        # B still predicts: new rows go to its model's worker after A's crashed.
        expect(b.get_by_test_id("stSidebar")).to_contain_text("genuine", timeout=WAIT)
        open_tab(b, "Drivers")
        upload(b, more_rows_b)
        # The old file's predictions are still on the page until this run ends: wait for
        # what only the new file's run draws.
        ignored = "Columns the model does not use were ignored: note."
        expect(b.get_by_text(ignored)).to_be_visible(timeout=LONG)
        expect_predictions(b)
        expect_downloaded_predictions(b, model, more_rows_b, tmp_path / "b_predictions.csv")
        go_to(b, "Upload model")
        go_to(b, "Predict & plot")
        using = "Using the rows uploaded earlier: more_rows_b.csv"
        expect(b.get_by_text(using)).to_be_visible(timeout=WAIT)
        expect_predictions(b)
        b.screenshot(path=shots / "b_after.png", full_page=True)

        assert server.poll() is None, "the app's server process died"
        browser.close()

    # The worker really died by a signal, and nothing else went wrong on the way.
    log = (tmp_path / "streamlit.log").read_text(errors="replace")
    assert "model worker stopped (crash a memory fault, SIG" in log, log[-3000:]
    assert "Unexpected error" not in log, log[-3000:]
