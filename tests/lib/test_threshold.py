"""A binary classifier's decision threshold tuned to costs or a minimum precision/recall
(``lib.threshold`` through ``lib.training.train``), saved so a notebook decides the same."""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import FixedThresholdClassifier, StratifiedKFold, cross_val_predict

from lib import explain, threshold
from lib.errors import TrainingError
from lib.metadata import read_metadata_plain
from lib.model_ops import describe, own_importance
from lib.persistence import dump_model
from lib.safe_load import Limits, load_model
from lib.schema import ModelMetadata
from lib.training import Options, train
from lib.worker import SandboxedRunner

TARGET, POSITIVE = "diagnosis", "malignant"
COSTS = {"goal": "cost", "fp_cost": 1.0, "fn_cost": 10.0, "positive": POSITIVE}


def _train(frame: pd.DataFrame, decision: dict, model: str = "logistic_regression",
           target: str = TARGET, **options) -> object:  # fmt: skip
    settings = {"cv_folds": 3, "check_leakage": False} | options
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train(frame, target, model=model, options=Options(decision=decision, **settings))


@pytest.fixture(scope="module")
def cancer(sample_frames) -> pd.DataFrame:
    return sample_frames["breast_cancer"]


@pytest.fixture(scope="module")
def costly(cancer):
    """Logistic regression on breast cancer, where a missed malignancy costs 10 false alarms."""
    return _train(cancer, COSTS)


def test_a_tuned_threshold_lowers_the_cost_on_held_out_rows(cancer):
    # Naive Bayes is overconfident, so 0.5 misses many malignant biopsies; averaged over seeds
    # the threshold tuned on the training part costs less on rows it never saw.
    tuned, default, thresholds = [], [], []
    for seed in range(8):
        record = _train(cancer, COSTS, model="gaussian_nb", cv_folds=0,
                        random_state=seed).metadata.decision  # fmt: skip
        tuned.append(record.holdout_cost_at_threshold)
        default.append(record.holdout_cost_at_default)
        thresholds.append(record.threshold)
    assert np.mean(tuned) < 0.85 * np.mean(default)
    assert np.mean(thresholds) < 0.5  # misses cost more: say "malignant" more readily


def test_the_record_says_the_threshold_and_the_cost_curve(costly):
    record = costly.metadata.decision
    assert record.goal == "cost" and record.positive == POSITIVE
    assert (record.fp_cost, record.fn_cost) == (1.0, 10.0)
    assert 0.0 < record.threshold < 0.5
    assert len(record.curve_thresholds) == len(record.curve_objective) == len(threshold.THRESHOLDS)
    at = record.curve_thresholds.index(record.threshold)
    assert record.curve_objective[at] == pytest.approx(record.cost_at_threshold)
    assert record.cost_at_threshold == min(record.curve_objective)
    assert record.cost_at_threshold < record.cost_at_default
    default = record.curve_thresholds.index(0.5)
    assert record.cost_at_default == pytest.approx(record.curve_objective[default])


def test_a_notebook_decides_as_the_app(costly, cancer, tmp_path):
    path = tmp_path / "cancer.joblib"
    path.write_bytes(dump_model(costly.pipeline))
    model = joblib.load(path)  # what a notebook does, with scikit-learn, joblib and pandas only
    rows = cancer.drop(columns=TARGET)
    t = model.studio_metadata_["decision"]["threshold"]
    proba = model.predict_proba(rows)[:, list(model.classes_).index(POSITIVE)]
    expected = np.where(proba >= t, POSITIVE, "benign")
    np.testing.assert_array_equal(model.predict(rows), expected)
    assert isinstance(model, FixedThresholdClassifier)
    # The threshold changes decisions: the pipeline alone (at 0.5) says otherwise on some rows.
    inner = threshold.inner_pipeline(model)
    assert (inner.predict(rows) != expected).sum() > 0
    assert model.studio_metadata_ == costly.metadata.to_plain()


def test_the_file_opens_in_the_safe_loader_and_the_sandboxed_worker(costly, cancer):
    data = dump_model(costly.pipeline)
    rows = cancer.drop(columns=TARGET).iloc[::7]
    expected = costly.pipeline.predict(rows)
    loaded = load_model(data, sandbox=False)
    assert loaded.warnings == []
    np.testing.assert_array_equal(loaded.model.predict(rows), expected)
    runner = SandboxedRunner(data, Limits(call_timeout_s=120, call_cpu_s=120, child_timeout_s=120))
    try:
        got = runner.run("predict", X=rows, proba=True)
        info = runner.info
    finally:
        runner.close()
    np.testing.assert_array_equal(got["y"], expected)
    np.testing.assert_array_equal(got["proba"], costly.pipeline.predict_proba(rows))
    assert info.metadata.decision.threshold == costly.metadata.decision.threshold
    assert info.estimator == "LogisticRegression"
    assert info.steps[-1].startswith("threshold: FixedThresholdClassifier")


def test_importance_partial_dependence_and_description_see_through_the_threshold(costly, cancer):
    model, rows = costly.pipeline, cancer.drop(columns=TARGET)
    facts = describe(model)
    assert facts["estimator"] == "LogisticRegression"
    assert facts["steps"][:2] == ["preprocess: ColumnTransformer", "model: LogisticRegression"]
    assert facts["classes"] == ["benign", "malignant"] and facts["has_predict_proba"]
    assert facts["feature_names"] == list(rows.columns)
    own = own_importance(model)
    assert len(own["names"]) == len(own["values"]) and own["names"][0].endswith("mean radius")
    permuted = explain.feature_importance(model, rows, cancer[TARGET].to_numpy(), "classification")
    assert permuted.table["importance"].max() > 0
    curve = explain.partial_dependence_data(model, rows, "worst radius", class_label=POSITIVE)
    assert curve.class_label == POSITIVE
    assert curve.average[-1] > curve.average[0]  # larger cells: more likely malignant


def test_a_minimum_precision_holds_in_every_fold(cancer):
    goal = {"goal": "min_precision", "value": 0.97, "positive": POSITIVE}
    result = _train(cancer, goal, test_size=0.0, cv_folds=5)
    record = result.metadata.decision
    assert record.reached and record.fp_cost is None and record.value == 0.97
    # Out-of-fold probabilities on the folds the tuning used: precision at the threshold.
    X, y = cancer.drop(columns=TARGET), cancer[TARGET]
    inner = threshold.inner_pipeline(result.pipeline)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    proba = cross_val_predict(inner, X, y, cv=folds, method="predict_proba")[:, 1]
    for _, test in folds.split(X, y):
        said = proba[test] >= record.threshold
        assert (y.to_numpy()[test][said] == POSITIVE).mean() >= 0.97
    # And it is the most sensitive such threshold on the curve: recall only falls above it.
    reached = [o for o in record.curve_objective if o is not None]
    assert max(reached) == pytest.approx(record.curve_objective[
        record.curve_thresholds.index(record.threshold)])  # fmt: skip


def test_an_unreachable_minimum_is_said_plainly(sample_frames):
    goal = {"goal": "min_precision", "value": 0.99, "positive": "Yes"}
    result = _train(sample_frames["tips"], goal, target="smoker", cv_folds=0)
    assert result.metadata.decision.reached is False
    assert any("No threshold reached a precision of 0.99 for 'Yes'" in w for w in result.warnings)


def test_a_minimum_met_only_by_calling_every_row_positive_is_said(cancer):
    # Naive Bayes is sure of some malignant biopsies being benign: only threshold 0 (every row
    # "malignant") catches all of them in every fold.
    goal = {"goal": "min_recall", "value": 1.0, "positive": POSITIVE}
    result = _train(cancer, goal, model="gaussian_nb", cv_folds=0)
    assert result.metadata.decision.threshold == 0.0
    assert any("calls every row positive" in w for w in result.warnings)
    sensible = _train(cancer, goal | {"value": 0.8}, model="gaussian_nb", cv_folds=0)
    assert 0.0 < sensible.metadata.decision.threshold < 1.0
    assert not any("decides nothing" in w for w in sensible.warnings)


@pytest.mark.parametrize(
    ("sample_key", "target", "decision", "words"),
    [
        ("iris", "species", COSTS, "two classes"),
        ("tips", "tip", COSTS, "only for classification"),
        ("breast_cancer", TARGET, COSTS | {"positive": "healthy"}, "not one of the target"),
        ("breast_cancer", TARGET, COSTS | {"fn_cost": -1}, "from 0 to"),
        ("breast_cancer", TARGET, COSTS | {"fn_cost": 0, "fp_cost": 0}, "Both mistakes cost 0"),
        ("breast_cancer", TARGET, {"goal": "min_recall", "value": 1.5, "positive": POSITIVE},
         "above 0 and at most 1"),
        ("breast_cancer", TARGET, {"goal": "accuracy", "positive": POSITIVE}, "Unknown"),
    ],
)  # fmt: skip
def test_a_goal_that_cannot_apply_says_what_to_do(sample_frames, sample_key, target, decision,
                                                  words):  # fmt: skip
    with pytest.raises(TrainingError, match=words):
        # A decision tree exists for both tasks, so the goal is what is refused.
        _train(sample_frames[sample_key], decision, "decision_tree", target=target, cv_folds=0)


def test_a_model_without_probabilities_is_refused():
    # Every catalog classifier gives probabilities; a model that did not could not be tuned.
    with pytest.raises(TrainingError, match="no probabilities"):
        threshold.Decision.parse(COSTS, ["benign", POSITIVE], has_proba=False)


def test_the_positive_class_matches_numbers_given_as_text():
    decision = threshold.Decision.parse(
        {"goal": "cost", "fp_cost": 1, "fn_cost": 2, "positive": "1"}, [np.int64(0), np.int64(1)],
        has_proba=True,
    )  # fmt: skip
    assert decision.positive == 1 and decision.to_plain()["positive"] == 1


def test_the_record_round_trips(costly):
    record, warnings_ = ModelMetadata.from_plain(costly.metadata.to_plain())
    assert warnings_ == [] and record.decision == costly.metadata.decision


@pytest.mark.parametrize(
    "damage",
    [
        {"threshold": 1.5},
        {"threshold": float("nan")},
        {"goal": "maximise profit"},
        {"positive": {"a": 1}},
        {"reached": "yes"},
        {"fn_cost": "ten"},
        {"fn_cost": None},
        {"fp_cost": -1.0},
        {"goal": "min_recall", "value": None},
        {"goal": "min_precision", "value": 7.0},
        {"curve": {"thresholds": [0.1, 0.2], "objective": [1.0], "label": ""}},
        {"curve": {"thresholds": [0.5] * 5_000, "objective": [0.1] * 5_000, "label": ""}},
        {"curve": {"thresholds": [0.1], "objective": ["x"], "label": ""}},
        {"curve": {"thresholds": [0.1], "objective": [0.2], "label": "x" * 10_000}},
        {"curve": "a curve"},
    ],
)
def test_a_malformed_decision_is_dropped_with_a_warning(costly, damage):
    plain = costly.metadata.to_plain()
    plain["decision"] = plain["decision"] | damage
    read = read_metadata_plain(plain)
    assert read.metadata is not None and read.metadata.decision is None
    assert read.metadata.figures == costly.metadata.figures  # the rest of the record stands
    assert any("decision" in w for w in read.warnings)
    plain["decision"] = ["not", "a", "mapping"]
    assert read_metadata_plain(plain).metadata.decision is None


def test_the_curve_figure_marks_the_tuned_and_the_default_thresholds(costly):
    from lib import plots

    record = costly.metadata.decision
    fig = plots.decision_threshold_curve(
        record.curve_thresholds, record.curve_objective, label=record.curve_label,
        tuned=record.threshold, positive=POSITIVE,
    )  # fmt: skip
    line, tuned, default = fig.data
    np.testing.assert_allclose(np.asarray(line.y, dtype=float), record.curve_objective)
    assert tuned.y[0] == pytest.approx(record.cost_at_threshold)
    assert default.y[0] == pytest.approx(record.cost_at_default)
    assert tuned.y[0] < default.y[0]
    gappy = plots.decision_threshold_curve([0.0, 0.5, 1.0], [None, 0.8, 0.7], label="Recall",
                                           tuned=0.5, default=0.25)  # fmt: skip
    assert np.isnan(np.asarray(gappy.data[0].y, dtype=float)[0])
    assert gappy.data[1].y[0] == 0.8
    assert gappy.data[2].y[0] is None  # 0.25 lies in a gap (the minimum failed at 0): no value


def test_a_soaring_end_of_the_cost_curve_does_not_flatten_the_marked_part():
    from lib import plots

    thresholds = np.linspace(0, 1, 101)
    cost = 0.2 + 0.1 * thresholds
    cost[-3:] = [2.0, 5.0, 7.4]  # every positive missed near 1.0
    fig = plots.decision_threshold_curve(thresholds, cost, label="Expected cost per row",
                                         tuned=0.1, default=0.5)  # fmt: skip
    low, high = fig.layout.yaxis.range
    assert low == 0.0 and high == pytest.approx(3 * 0.25)
    calm = plots.decision_threshold_curve(thresholds, 0.2 + 0.1 * thresholds, label="Cost",
                                          tuned=0.1, default=0.5)  # fmt: skip
    assert calm.layout.yaxis.range is None  # nothing soars: plotly's own range


def test_the_model_card_states_the_threshold(costly):
    from lib.model_card import model_card

    card = model_card("cancer", costly.metadata)
    record = costly.metadata.decision
    assert "## Decision threshold" in card
    assert f"At **{record.threshold:.3g}** the expected cost is" in card
    assert "a false negative 10" in card


@pytest.mark.parametrize(
    "partial",
    [
        {"cost_at_default": None, "holdout_cost_at_default": None},
        {"cost_at_threshold": None, "curve": {"thresholds": [], "objective": []}},
        {"goal": "min_recall", "value": 0.9, "reached": False, "curve": None},
        {"goal": "min_precision", "value": 0.9, "fp_cost": None, "fn_cost": None},
    ],
)
def test_a_valid_record_with_parts_missing_still_reads_and_draws(costly, partial):
    from lib import plots

    plain = costly.metadata.to_plain()["decision"] | partial
    read = read_metadata_plain(costly.metadata.to_plain() | {"decision": plain})
    record = read.metadata.decision
    assert record is not None and read.warnings == []
    lines = threshold.summary_lines(record)
    assert lines and "joblib.load(path).predict(df)" in lines[-1]
    fig = plots.decision_threshold_curve(
        record.curve_thresholds, record.curve_objective, label=record.curve_label,
        tuned=record.threshold,
    )  # fmt: skip
    assert len(fig.data) == 3


def test_wrapping_refits_nothing(costly, cancer):
    inner = threshold.inner_pipeline(costly.pipeline)
    before = inner.named_steps["model"].coef_.copy()
    decision = threshold.Decision.parse(COSTS, ["benign", POSITIVE], has_proba=True)
    few = cancer.iloc[:40]  # other rows: a refit on them would change the weights
    wrapped = threshold.wrap(inner, decision, 0.3, few.drop(columns=TARGET), few[TARGET])
    np.testing.assert_array_equal(inner.named_steps["model"].coef_, before)
    assert threshold.inner_pipeline(wrapped) is inner
    assert list(wrapped.feature_names_in_) == list(cancer.drop(columns=TARGET).columns)
