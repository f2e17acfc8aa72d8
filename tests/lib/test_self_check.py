"""Tests for lib/self_check.py: model files that check themselves where they are opened.

App-made files are opened the way the app opens them, in the sandboxed worker. Files "altered
after saving" are made here by loading this test's own bytes with joblib (never the app's way
of opening a file) and changing a fitted number.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import math
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from lib import samples, self_check, training
from lib.metadata import METADATA_ATTR, library_versions, read_metadata
from lib.model_info import describe_model
from lib.persistence import dump_model
from lib.profile import profile_table
from lib.safe_load import Limits
from lib.schema import CLASSIFICATION, REGRESSION
from lib.self_check import N_ROWS, check_positions, check_rows, record, rows_frame, verify
from lib.worker import SandboxedRunner

# Backstops only, as in tests/worker: no test waits for them.
QUICK = Limits(call_timeout_s=120, call_cpu_s=120, child_timeout_s=120)


def orders(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """A mixed table: a datetime column, categories and numbers with gaps, a binary target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "ordered": pd.date_range("2024-01-01", periods=n, freq="37h"),
            "shop": rng.choice(["north", "south", "east"], n),
            "amount": rng.normal(50, 10, n).round(2),
            "items": rng.integers(1, 9, n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "amount"] = np.nan
    frame.loc[rng.random(n) < 0.1, "shop"] = np.nan
    score = frame["amount"].fillna(50) + 3 * frame["items"] + rng.normal(0, 5, n)
    frame["big"] = np.where(score > 65, "yes", "no")
    return frame


def fit(frame: pd.DataFrame, target: str, model: str) -> training.TrainingResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of the quick settings
        return training.train(frame, target, model=model, options=training.Options(cv_folds=0))


def open_in_sandbox(data: bytes) -> self_check.Verdict:
    runner = SandboxedRunner(data, QUICK)
    try:
        return verify(runner, runner.info)
    finally:
        runner.close()


def edited(data: bytes, change) -> bytes:
    """``data`` (a file this test made) loaded with joblib, changed by ``change`` and dumped
    again with its metadata as it was."""
    model = joblib.load(io.BytesIO(data))
    change(model)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


CASES = {
    "regression with categories": (lambda: samples.load_sample("tips"), "tip", "ridge"),
    "binary": (lambda: samples.load_sample("breast_cancer"), "diagnosis", "logistic_regression"),
    "multiclass forest": (lambda: samples.load_sample("iris"), "species", "random_forest"),
    "dates, gaps, native categories": (orders, "big", "hist_gradient_boosting"),
    "dates, gaps, imputed and encoded": (orders, "big", "logistic_regression"),
}


@pytest.fixture(scope="module")
def app_files() -> dict[str, tuple[training.TrainingResult, bytes]]:
    files = {}
    for case, (table, target, model) in CASES.items():
        result = fit(table(), target, model)
        files[case] = (result, dump_model(result.pipeline))
    return files


@pytest.mark.parametrize("case", list(CASES))
def test_app_files_pass_in_the_sandbox(app_files, case):
    result, data = app_files[case]
    check = result.metadata.self_check
    assert check is not None and check.n_rows == N_ROWS
    verdict = open_in_sandbox(data)
    assert verdict.status == "passed", verdict
    assert verdict.message == (
        "Self-check passed: it predicts its 20 check rows here exactly as where it was saved."
    )
    assert verdict.n_agree == N_ROWS and verdict.details == []
    if result.task == CLASSIFICATION:
        assert check.probabilities is not None and verdict.max_probability_difference == 0.0
    else:
        assert verdict.max_prediction_difference == 0.0


def test_in_process_model_passes_too(app_files):
    result, _ = app_files["binary"]
    verdict = verify(result.pipeline, describe_model(result.pipeline))
    assert verdict.passed


def test_rows_round_trip_exactly_with_dates_and_gaps(app_files):
    result, data = app_files["dates, gaps, imputed and encoded"]
    check = read_metadata(joblib.load(io.BytesIO(data))).metadata.self_check
    assert check == result.metadata.self_check  # missing values are None: equal after a trip
    assert None in check.values[check.columns.index("amount")]
    rows = rows_frame(check)
    assert str(rows["ordered"].dtype).startswith("datetime64")
    assert rows.isna().any(axis=None), "rows with missing values are part of the check"
    problem_rows = check_rows(*_problem(orders(), "big"), seed=0)
    pd.testing.assert_frame_equal(rows, problem_rows)
    again = rows_frame(record(result.pipeline, rows))
    pd.testing.assert_frame_equal(again, rows)


def _problem(frame: pd.DataFrame, target: str):
    from lib.problem import prepare

    problem = prepare(frame, target)
    return problem.X, problem.y, problem.task, problem.groups


def test_check_rows_cover_every_class_and_some_gaps():
    frame = orders(2_000)
    X, y, task, _ = _problem(frame, "big")
    positions = check_positions(X, y, task, seed=3)
    assert len(positions) == N_ROWS == len(set(positions))
    assert set(y.iloc[positions]) == {"yes", "no"}
    assert X.iloc[positions].isna().any(axis=1).sum() >= 1
    assert positions == check_positions(X, y, task, seed=3)  # deterministic
    assert positions != check_positions(X, y, task, seed=4)
    # A rare class (3 rows in 2,000) is still covered.
    rare = y.copy()
    rare.iloc[[5, 900, 1500]] = "rare"
    assert set(rare.iloc[check_positions(X, rare, task, seed=3)]) == {"yes", "no", "rare"}


def test_more_classes_than_rows_gives_twenty_rows_of_twenty_classes():
    X = pd.DataFrame({"x": np.arange(300.0)})
    y = pd.Series([f"c{i % 30:02d}" for i in range(300)])
    positions = check_positions(X, y, CLASSIFICATION, seed=0)
    assert len(set(y.iloc[positions])) == N_ROWS


def test_small_table_gives_every_row():
    X = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0, 5.0]})
    assert check_positions(X, pd.Series([1.0, 2, 3, 4, 5]), REGRESSION, seed=0) == [0, 1, 2, 3, 4]


def test_free_text_is_not_copied_into_the_file():
    rng = np.random.default_rng(1)
    n = 80  # small enough that the profile keeps a mostly distinct column as categories
    frame = pd.DataFrame(
        {
            "note": [
                f"Told us about visit {i} and the {rng.choice(['soup', 'cake'])}"
                for i in rng.integers(0, 60, n)
            ],
            "shop": rng.choice(["north", "south"], n),
            "amount": rng.normal(size=n),
        }
    )
    frame["y"] = frame["amount"] * 2 + rng.normal(size=n)
    assert next(p for p in profile_table(frame) if p.name == "note").usable
    result = fit(frame, "y", "ridge")
    check = result.metadata.self_check
    notes = check.values[check.columns.index("note")]
    counts = frame["note"].value_counts()
    assert len(set(notes)) == 1 and counts[notes[0]] == counts.max()
    assert len(set(check.values[check.columns.index("shop")])) == 2  # categories stay as they are
    assert open_in_sandbox(dump_model(result.pipeline)).passed


def test_altered_classifier_fails_with_figures_and_reason(app_files):
    _, data = app_files["binary"]
    verdict = open_in_sandbox(edited(data, _nudge_binary))
    assert verdict.status == "failed"
    assert verdict.message.startswith("Self-check failed: this model does not predict its 20 ")
    assert verdict.n_agree < N_ROWS
    assert verdict.max_probability_difference > 1e-3
    assert verdict.version_differences == {}
    text = " ".join(verdict.details)
    assert f"{verdict.n_agree} of 20 check rows agree." in text
    assert "Largest difference in a probability:" in text
    assert "the file was changed after it was saved, or it was made by different code" in text
    if verdict.n_class_changes:
        assert f"{verdict.n_class_changes} of 20 rows change class." in verdict.details


def test_altered_regressor_says_how_far_off(app_files):
    _, data = app_files["regression with categories"]

    def shift(model):
        model[-1].intercept_ += 0.25

    verdict = open_in_sandbox(edited(data, shift))
    assert verdict.status == "failed" and verdict.n_agree == 0
    assert verdict.max_prediction_difference == pytest.approx(0.25)
    assert "Largest difference in a prediction: 0.25." in verdict.details


def test_altered_tree_threshold_fails(app_files):
    _, data = app_files["multiclass forest"]
    result, _ = app_files["multiclass forest"]
    rows = rows_frame(result.metadata.self_check)

    def flip(model):
        # Every split of every tree sends every row left: the forest forgets what it learned.
        for tree in model[-1].estimators_:
            tree.tree_.threshold[:] = np.where(tree.tree_.feature >= 0, np.inf, -2.0)

    altered = edited(data, flip)
    assert not np.allclose(
        joblib.load(io.BytesIO(altered)).predict_proba(rows), result.pipeline.predict_proba(rows)
    )
    verdict = open_in_sandbox(altered)
    assert verdict.status == "failed" and verdict.n_class_changes > 0
    assert f"{verdict.n_class_changes} of 20 rows change class." in verdict.details


def _versions(saved: dict[str, str]):
    def change(model):
        getattr(model, METADATA_ATTR)["versions"].update(saved)

    return change


def test_a_version_difference_with_equal_predictions_passes_and_says_so(app_files):
    _, data = app_files["regression with categories"]
    verdict = open_in_sandbox(edited(data, _versions({"sklearn": "1.8.0", "numpy": "2.3.0"})))
    assert verdict.status == "passed"
    running = library_versions()
    assert verdict.details == [
        f"It was saved with scikit-learn 1.8.0 ({running['sklearn']} here), numpy 2.3.0 "
        f"({running['numpy']} here); the predictions agree all the same."
    ]


def test_a_version_difference_is_the_likely_reason_of_a_failure(app_files):
    _, data = app_files["binary"]

    def both(model):
        _versions({"sklearn": "1.8.0"})(model)
        model[-1].intercept_ += 1.0

    verdict = open_in_sandbox(edited(data, both))
    assert verdict.status == "failed"
    assert verdict.version_differences == {"sklearn": ("1.8.0", library_versions()["sklearn"])}
    assert (
        f"Likely reason: it was saved with scikit-learn 1.8.0 ({library_versions()['sklearn']} "
        "here)." in verdict.details[-1]
    )
    assert "changed after it was saved" not in " ".join(verdict.details)


def test_a_model_saved_elsewhere_has_no_check():
    model = LinearRegression().fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), [1.0, 2.0, 3.5])
    verdict = open_in_sandbox(dump_model(model))
    assert verdict.status == "unavailable"
    assert verdict.message.startswith("No self-check: this file carries no check rows")


def test_a_model_that_refuses_its_own_rows_is_an_error(app_files):
    _, data = app_files["binary"]

    def spoil(model):
        plain = getattr(model, METADATA_ATTR)["self_check"]
        plain["dtypes"][0] = "str"
        plain["values"][0] = ["not a number"] * len(plain["values"][0])

    verdict = open_in_sandbox(edited(data, spoil))
    assert verdict.status == "error"
    assert "refused to predict its own check rows" in verdict.message
    assert verdict.details[0].startswith("The model said:")


@pytest.mark.parametrize(
    "dtype, values",
    [
        ("int64", [1.5]),
        ("datetime64[us]", ["not a date"]),
        ("datetime64[us, Mars/Olympus]", ["2024-01-01T00:00:00+00:00"]),
        ("Int8", [10**6]),
    ],
)
def test_unreadable_check_rows_are_unavailable_never_an_exception(app_files, dtype, values):
    result, _ = app_files["binary"]
    plain = result.metadata.to_plain()
    check = plain["self_check"]
    check.update(
        columns=["x"], dtypes=[dtype], values=[values * N_ROWS], probabilities=None, classes=None
    )
    meta = read_metadata(type("M", (), {METADATA_ATTR: plain})()).metadata
    assert meta.self_check is not None  # well-formed plain data, values that do not fit
    info = describe_model(result.pipeline)
    verdict = verify(result.pipeline, dataclasses.replace(info, metadata=meta))
    assert verdict.status == "unavailable"
    assert "check rows could not be read" in verdict.message


# --- the README's notebook snippet, in a clean Python -------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"
# Installed first in the clean interpreter: only the standard library, scikit-learn, joblib,
# pandas and their declared dependencies (joblib needs cloudpickle, scikit-learn narwhals) may
# be imported, so the snippet provably needs no app code and nothing else.
IMPORT_BLOCKER = textwrap.dedent(
    """
    import os
    import sys

    ALLOWED = {"sklearn", "joblib", "pandas", "numpy", "scipy", "threadpoolctl", "dateutil",
               "pytz", "tzdata", "six", "cloudpickle", "narwhals"}
    STDLIB = os.path.dirname(os.__file__)

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if top in sys.stdlib_module_names or top in ALLOWED:
                return None
            for finder in sys.meta_path:  # stdlib files not listed (_sysconfigdata_...)
                spec = finder is not self and finder.find_spec(name, path, target)
                if spec and (spec.origin or "").startswith(STDLIB + os.sep) and (
                    "site-packages" not in spec.origin
                ):
                    return spec
            raise ModuleNotFoundError(f"blocked import: {name}")

    sys.meta_path.insert(0, Blocker())
    try:
        import lib  # noqa: F401
        sys.exit("the project is importable")
    except ImportError:
        pass
    """
)


def readme_snippet() -> str:
    text = README.read_text()
    start = text.index("<!-- self-check snippet: start -->")
    end = text.index("<!-- self-check snippet: end -->")
    code = text[start:end].split("```python\n", 1)[1].split("```", 1)[0]
    return code


def run_snippet(tmp_path: Path, data: bytes) -> str:
    (tmp_path / "model.joblib").write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_BLOCKER + readme_snippet()],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_readme_snippet_passes_on_app_files_in_a_clean_python(app_files, tmp_path):
    for case in ("dates, gaps, imputed and encoded", "regression with categories"):
        out = run_snippet(tmp_path, app_files[case][1])
        assert "Self-check passed: 20 of 20 check rows agree." in out, out
        assert "'sklearn': " in out


def test_readme_snippet_fails_on_an_altered_file(app_files, tmp_path):
    _, data = app_files["binary"]
    verdict = open_in_sandbox(edited(data, _nudge_binary))
    out = run_snippet(tmp_path, edited(data, _nudge_binary))
    assert f"Self-check FAILED: {verdict.n_agree} of 20 check rows agree." in out, out


def _nudge_binary(model) -> None:
    model[-1].coef_[0, :3] += 2.0


def test_the_import_blocker_refuses_other_packages(tmp_path):
    done = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_BLOCKER + "import pandas\nimport streamlit\n"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0 and "blocked import: streamlit" in done.stderr


def test_random_mutations_of_a_record_never_raise(app_files):
    """300 seeded mutations of a real record (values, dtypes, predictions, probabilities
    swapped for other plain values): each is dropped by the schema or gives a verdict."""
    result, _ = app_files["dates, gaps, imputed and encoded"]
    info = describe_model(result.pipeline)
    original = result.metadata.to_plain()
    rng = np.random.default_rng(0)
    odd = [None, 0, -1, 1.5, math.nan, math.inf, "", "x", True, 2**63, "2024-13-45", [], {}, "str",
           "datetime64[ns]", "category", "Int64", "float32", "object", [1, 2]]  # fmt: skip
    statuses = set()
    for _ in range(300):
        plain = copy.deepcopy(original)
        check = plain["self_check"]
        for _ in range(int(rng.integers(1, 4))):
            key = ["values", "dtypes", "predictions", "probabilities", "classes"][
                int(rng.integers(5))
            ]
            new = odd[int(rng.integers(len(odd)))]
            target = check[key]
            if isinstance(target, list) and target and rng.random() < 0.8:
                i = int(rng.integers(len(target)))
                if isinstance(target[i], list) and target[i] and rng.random() < 0.7:
                    target[i][int(rng.integers(len(target[i])))] = new
                else:
                    target[i] = new
            else:
                check[key] = new
        meta = read_metadata(type("M", (), {METADATA_ATTR: plain})()).metadata
        verdict = verify(result.pipeline, dataclasses.replace(info, metadata=meta))
        assert verdict.status in {"passed", "failed", "unavailable", "error"}
        assert verdict.message
        statuses.add(verdict.status)
    assert {"failed", "unavailable"} <= statuses


def test_a_check_that_cannot_be_made_is_left_out(caplog):
    X, y, task, groups = _problem(orders(), "big")
    unfitted = LinearRegression()  # predict raises NotFittedError
    assert self_check.build(unfitted, X, y, task, groups, seed=0) is None
    assert "no self-check rows recorded: NotFittedError" in caplog.text


def test_a_thresholded_model_checks_the_decisions_it_was_saved_with():
    """With a tuned threshold the check rows hold the wrapper's decisions, not the inner
    pipeline's 0.5 ones, and the saved file passes."""
    decision = {"goal": "cost", "fp_cost": 1.0, "fn_cost": 20.0, "positive": "malignant"}
    cancer = samples.load_sample("breast_cancer")
    result = training.train(cancer, "diagnosis", model="logistic_regression",
                            options=training.Options(decision=decision))  # fmt: skip
    check = result.metadata.self_check
    assert check is not None
    rows = self_check.rows_frame(check)
    assert list(result.pipeline.predict(rows)) == list(check.predictions)
    assert open_in_sandbox(dump_model(result.pipeline)).passed
