"""Tests for lib/training.py on real tables shipped by scikit-learn and plotly."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from lib import catalog, problem, training
from lib.errors import TrainingError, UserError
from lib.schema import CLASSIFICATION, REGRESSION
from lib.training import Options, compare_models, train

REGRESSION_SAMPLES = ["diabetes", "tips", "gapminder"]
CLASSIFICATION_SAMPLES = ["iris", "wine", "breast_cancer"]
REGRESSION_KEYS = {"r2", "mae", "rmse", "mape"}
CLASSIFICATION_KEYS = {"accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss"}
# Every model on one table per task runs in `make test-fast`; the other tables only in the
# full suite (marked slow).
FAST_SAMPLES = {"tips", "iris"}
CASES = [
    pytest.param(
        key, spec.key, id=f"{key}-{spec.key}", marks=() if key in FAST_SAMPLES else pytest.mark.slow
    )
    for task, keys in ((REGRESSION, REGRESSION_SAMPLES), (CLASSIFICATION, CLASSIFICATION_SAMPLES))
    for key in keys
    for spec in catalog.models_for(task)
]


def _expected_metrics(task: str, holdout) -> dict[str, float]:
    """The holdout figures recomputed straight from scikit-learn's metric functions."""
    y_true, y_pred = holdout.y_true, holdout.y_pred
    if task == REGRESSION:
        expected = {
            "r2": skm.r2_score(y_true, y_pred),
            "mae": skm.mean_absolute_error(y_true, y_pred),
            "rmse": math.sqrt(skm.mean_squared_error(y_true, y_pred)),
        }
        if np.all(y_true != 0):
            expected["mape"] = skm.mean_absolute_percentage_error(y_true, y_pred)
        return expected
    proba, classes = holdout.proba, holdout.classes
    if len(classes) == 2:
        roc_auc = skm.roc_auc_score(y_true, proba[:, 1])
    else:
        roc_auc = skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes)
    return {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        "f1_macro": skm.f1_score(y_true, y_pred, average="macro"),
        "roc_auc": roc_auc,
        "log_loss": skm.log_loss(y_true, proba, labels=classes),
    }


# --- every catalog model ----------------------------------------------------------------------


@pytest.mark.parametrize(("sample_key", "model_key"), CASES)
def test_every_model_trains_and_reports_honest_figures(
    sample_key, model_key, trained, sample_frames
):
    result = trained(sample_key, model_key)
    frame = sample_frames[sample_key]
    task = REGRESSION if sample_key in REGRESSION_SAMPLES else CLASSIFICATION
    assert result.task == task and result.model_key == model_key
    assert result.n_rows == len(frame)
    expected_keys = REGRESSION_KEYS if task == REGRESSION else CLASSIFICATION_KEYS
    if task == REGRESSION and (frame[result.target] == 0).any():
        expected_keys = expected_keys - {"mape"}  # undefined when a true value is 0
    assert set(result.metrics) == expected_keys
    assert set(result.baseline_metrics) == expected_keys
    assert set(result.cv_scores) == expected_keys
    assert all(len(values) == 3 for values in result.cv_scores.values())
    assert all(math.isfinite(v) for values in result.cv_scores.values() for v in values)

    holdout = result.holdout
    assert len(holdout.y_true) == len(holdout.y_pred) == math.ceil(0.2 * len(frame))
    expected = _expected_metrics(task, holdout)
    assert result.metrics == pytest.approx(expected, rel=1e-12, abs=1e-12)
    if task == CLASSIFICATION:
        assert list(holdout.classes) == sorted(frame[result.target].unique())
        np.testing.assert_allclose(holdout.proba.sum(axis=1), 1.0)

    # The final model is fitted on all rows and predicts every one of them.
    predictions = result.pipeline.predict(frame.drop(columns=[result.target]))
    assert len(predictions) == len(frame)
    if task == REGRESSION:
        assert np.isfinite(predictions.astype(float)).all()
    else:
        assert set(predictions) <= set(frame[result.target])


@pytest.mark.parametrize(
    "sample_key", ["iris", pytest.param("breast_cancer", marks=pytest.mark.slow)]
)
@pytest.mark.parametrize("model_key", [spec.key for spec in catalog.CLASSIFIERS])
def test_models_beat_the_baseline_on_easy_data(sample_key, model_key, trained):
    result = trained(sample_key, model_key)
    for name in ("balanced_accuracy", "accuracy"):
        assert result.metrics[name] > result.baseline_metrics[name] + 0.2, name
    assert result.baseline_metrics["balanced_accuracy"] == pytest.approx(
        0.5 if sample_key == "breast_cancer" else 1 / 3
    )
    assert not any("no better than always guessing" in w for w in result.warnings)


@pytest.mark.parametrize("model_key", ["linear_regression", "random_forest", "svr"])
def test_regression_beats_the_baseline(model_key, trained):
    result = trained("gapminder", model_key)
    assert result.metrics["r2"] > result.baseline_metrics["r2"] + 0.5
    assert result.metrics["rmse"] < result.baseline_metrics["rmse"]
    assert result.baseline_metrics["r2"] <= 0.0


# --- which rows and columns are used ----------------------------------------------------------


def test_rows_with_a_missing_target_are_dropped_and_counted(sample):
    tips = sample("tips")
    tips.loc[[3, 50, 51, 200], "tip"] = np.nan
    result = train(tips, "tip", model="ridge", options=Options(cv_folds=3))
    assert result.n_dropped_missing_target == 4
    assert result.n_rows == len(tips) - 4
    assert result.metadata.training_data.rows == len(tips) - 4
    assert result.metadata.training_data.rows_dropped_missing_target == 4
    assert any("4 rows with no value in 'tip'" in w for w in result.warnings)


def test_identifier_and_free_text_columns_are_left_out(sample):
    tips = sample("tips")
    rng = np.random.default_rng(0)
    words = np.array(["great", "slow", "friendly", "cold", "warm", "service", "food", "noisy"])
    tips["order_id"] = rng.permutation(len(tips)) + 10_000
    tips["review"] = [" ".join(rng.choice(words, 8)) + f" visit {i}" for i in range(len(tips))]
    result = train(tips, "tip", model="ridge", options=Options(cv_folds=3))
    assert "order_id" not in result.features and "review" not in result.features
    assert "identifier" in result.left_out["order_id"]
    assert "free text" in result.left_out["review"]
    assert set(result.features) == {"total_bill", "sex", "smoker", "day", "time", "size"}
    assert result.metadata.left_out == result.left_out


def test_chosen_features_are_used_and_unusable_ones_refused(sample):
    tips = sample("tips")
    tips["order_id"] = np.arange(len(tips))
    result = train(tips, "tip", features=["total_bill", "size"], model="ridge")
    assert result.features == ["total_bill", "size"]
    assert [f.name for f in result.metadata.features] == ["total_bill", "size"]
    with pytest.raises(TrainingError, match="'order_id' cannot be a feature"):
        train(tips, "tip", features=["total_bill", "order_id"], model="ridge")
    with pytest.raises(TrainingError, match="not in the table"):
        train(tips, "tip", features=["total_bill", "tipp"], model="ridge")


def _weekly_sales(n_days: int = 364) -> pd.DataFrame:
    dates = pd.date_range("2022-01-03", periods=n_days, freq="D")
    rng = np.random.default_rng(0)
    weekend = dates.day_of_week >= 5
    return pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),  # ISO strings, as read from a CSV
            "promo": rng.integers(0, 2, n_days),
            "sales": 100 + 50 * weekend + rng.normal(0, 2, n_days),
        }
    )


@pytest.mark.parametrize("model_key", ["hist_gradient_boosting", "ridge"])
def test_dates_are_used_and_predict_from_iso_strings(model_key):
    frame = _weekly_sales()
    result = train(frame, "sales", model=model_key, options=Options(cv_folds=3))
    assert "date" in result.features
    assert result.metadata.features[0].kind == "datetime"
    assert result.metrics["r2"] > 0.9  # only the weekday explains the sales
    future = pd.DataFrame(
        {"date": ["2023-06-03", "2023-06-07", "2023-06-11 10:30:00"], "promo": [0, 0, 1]}
    )  # Saturday, Wednesday, Sunday
    saturday, wednesday, sunday = result.pipeline.predict(future)
    assert saturday == pytest.approx(150, abs=10)
    assert sunday == pytest.approx(150, abs=10)
    assert wednesday == pytest.approx(100, abs=10)
    as_datetimes = future.assign(date=pd.to_datetime(future["date"], format="ISO8601"))
    np.testing.assert_allclose(
        result.pipeline.predict(as_datetimes), [saturday, wednesday, sunday], rtol=1e-9
    )


def test_missing_dates_do_not_crash():
    frame = _weekly_sales()
    frame.loc[::10, "date"] = None
    result = train(frame, "sales", model="ridge", options=Options(cv_folds=3))
    predictions = result.pipeline.predict(pd.DataFrame({"date": [None, "2023-01-01"], "promo": 1}))
    assert np.isfinite(predictions).all()


@pytest.mark.parametrize("model_key", ["hist_gradient_boosting", "ridge", "random_forest"])
def test_unseen_categories_at_predict_time(model_key, trained, sample_frames):
    result = trained("tips", model_key)
    rows = sample_frames["tips"].drop(columns=["tip"]).head(4).copy()
    rows["day"] = ["Mon", "Tue", "Sat", None]
    rows["smoker"] = ["Maybe", "Yes", "No", "No"]
    predictions = result.pipeline.predict(rows)
    assert np.isfinite(predictions).all() and len(predictions) == 4


def test_hist_gradient_boosting_uses_native_categories(trained):
    result = trained("tips", "hist_gradient_boosting")
    model = result.pipeline.named_steps["model"]
    preprocess = result.pipeline.named_steps["preprocess"]
    categorical = preprocess.named_transformers_["categorical"]
    assert type(categorical.named_steps["encode"]).__name__ == "OrdinalEncoder"
    n_categorical = len(categorical.feature_names_in_)
    assert n_categorical == 4  # sex, smoker, day, time
    assert model.is_categorical_.tolist() == [True] * n_categorical + [False] * 2
    # The one-hot models widen instead.
    ridge = trained("tips", "ridge").pipeline.named_steps["preprocess"]
    assert type(ridge.named_transformers_["categorical"].named_steps["encode"]).__name__ == (
        "OneHotEncoder"
    )


# --- warnings ---------------------------------------------------------------------------------


def test_a_leaked_feature_is_flagged(sample):
    diabetes = sample("diabetes")
    rng = np.random.default_rng(0)
    diabetes["follow_up"] = diabetes["progression"] + rng.normal(0, 0.5, len(diabetes))
    result = train(diabetes, "progression", model="ridge", options=Options(cv_folds=3))
    leaks = [w for w in result.warnings if "almost perfectly" in w]
    assert len(leaks) == 1 and "'follow_up'" in leaks[0]
    assert result.metadata.warnings == result.warnings


def test_a_leaked_label_copy_is_flagged_in_classification(sample):
    iris = sample("iris")
    iris["label_code"] = iris["species"].map({"setosa": 1, "versicolor": 2, "virginica": 3})
    result = train(iris, "species", model="logistic_regression", options=Options(cv_folds=3))
    assert any("'label_code' alone predicts 'species'" in w for w in result.warnings)


def test_no_leakage_warning_on_honest_data(trained):
    for key, model in (("diabetes", "ridge"), ("tips", "ridge"), ("wine", "random_forest")):
        assert not any("almost perfectly" in w for w in trained(key, model).warnings)


def test_useless_features_warn(sample):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"noise": rng.normal(size=300), "y": rng.normal(size=300)})
    result = train(frame, "y", model="decision_tree", options=Options(cv_folds=3))
    assert result.metrics["r2"] < result.baseline_metrics["r2"]
    assert any("no better than always guessing" in w for w in result.warnings)


# --- progress and reproducibility -------------------------------------------------------------


def test_progress_fractions_increase_to_one(sample):
    calls = []
    train(
        sample("iris"),
        "species",
        model="decision_tree",
        options=Options(cv_folds=4),
        progress=lambda fraction, message: calls.append((fraction, message)),
    )
    fractions = [fraction for fraction, _ in calls]
    assert len(calls) >= 6  # 4 folds, the holdout, the final fit, done
    assert fractions[0] >= 0.0 and fractions[-1] == 1.0
    assert all(a < b for a, b in itertools.pairwise(fractions))
    assert all(isinstance(message, str) and message for _, message in calls)


@pytest.mark.slow
@pytest.mark.parametrize("model_key", ["random_forest", "mlp"])
def test_fixed_random_state_gives_identical_predictions(model_key, sample, fast_options):
    frame = sample("wine")
    options = fast_options(catalog.get_model(CLASSIFICATION, model_key), random_state=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = train(frame, "cultivar", model=model_key, options=options)
        second = train(frame, "cultivar", model=model_key, options=options)
    X = frame.drop(columns=["cultivar"])
    np.testing.assert_array_equal(first.pipeline.predict(X), second.pipeline.predict(X))
    np.testing.assert_array_equal(first.pipeline.predict_proba(X), second.pipeline.predict_proba(X))
    assert first.metrics == second.metrics and first.cv_scores == second.cv_scores
    assert first.metadata.validation["random_state"] == 7


@pytest.mark.parametrize(
    ("sample_key", "model_key"), [("gapminder", "random_forest"), ("wine", "random_forest")]
)
def test_a_trained_model_predicts_the_same_every_time(sample_key, model_key, trained, sample):
    # Parallel forests sum tree outputs in thread order; the final model must not.
    pipeline = trained(sample_key, model_key).pipeline
    X = pd.concat([sample(sample_key)] * 3, ignore_index=True)
    method = pipeline.predict if sample_key == "gapminder" else pipeline.predict_proba
    first = method(X)
    for _ in range(5):
        np.testing.assert_array_equal(method(X), first)


def test_options_skip_holdout_and_cross_validation(sample):
    result = train(sample("iris"), "species", model="k_neighbors", options=Options(0, 0))
    assert result.metrics == {} and result.holdout is None and result.cv_scores == {}
    assert result.pipeline.predict(sample("iris").drop(columns=["species"])).shape == (150,)


# --- refusals ---------------------------------------------------------------------------------


def _training_error(*args, **kwargs) -> str:
    with pytest.raises(TrainingError) as caught:
        train(*args, **kwargs)
    assert isinstance(caught.value, UserError)
    return str(caught.value)


def test_target_with_one_class(sample):
    iris = sample("iris")
    iris["species"] = "setosa"
    message = _training_error(iris, "species", task=CLASSIFICATION)
    assert "only one value" in message and "'setosa'" in message


def test_constant_numeric_target(sample):
    diabetes = sample("diabetes")
    diabetes["progression"] = 3.5
    message = _training_error(diabetes, "progression", task=REGRESSION)
    assert "same value in every row" in message


def test_target_with_no_values(sample):
    iris = sample("iris")
    iris["species"] = None
    message = _training_error(iris, "species")
    assert "'species' has no values" in message


def test_fewer_rows_than_folds(sample):
    small = sample("diabetes").head(8)
    message = _training_error(small, "progression", options=Options(test_size=0, cv_folds=10))
    assert "8 training rows" in message and "10 cross-validation folds" in message


def test_a_class_with_fewer_rows_than_folds(sample):
    iris = sample("iris")
    extra = iris.head(3).assign(species="hybrid")
    iris = pd.concat([iris, extra], ignore_index=True)
    message = _training_error(iris, "species", options=Options(cv_folds=5))
    assert "'hybrid'" in message and "5 cross-validation folds" in message


def test_a_class_with_a_single_row(sample):
    iris = sample("iris")
    iris.loc[0, "species"] = "hybrid"
    message = _training_error(iris, "species", options=Options(cv_folds=0))
    assert "'hybrid' has only one row" in message


def test_regression_on_a_text_target(sample):
    message = _training_error(sample("iris"), "species", task=REGRESSION)
    assert "numeric target" in message and "'species'" in message


def test_too_many_classes_for_classification(sample):
    message = _training_error(sample("gapminder"), "country", task=CLASSIFICATION)
    assert "too many classes" in message


def test_no_usable_features():
    frame = pd.DataFrame(
        {"id": range(100), "constant": ["x"] * 100, "y": np.random.default_rng(0).normal(size=100)}
    )
    message = _training_error(frame, "y")
    assert "No usable feature columns" in message and "'y'" in message


def test_unknown_target_column(sample):
    message = _training_error(sample("iris"), "Species")
    assert "no column 'Species'" in message


def test_unknown_model(sample):
    message = _training_error(sample("iris"), "species", model="ridge")
    assert "no classification model called 'ridge'" in message


def test_unknown_param(sample):
    message = _training_error(sample("iris"), "species", options=Options(params={"depth": 3}))
    assert "no setting named depth" in message


def test_unfittable_data_becomes_a_training_error():
    # Mixed text in a numeric feature is profiled categorical, so force a numeric failure:
    # GaussianNB cannot take the infinite values the imputer leaves alone.
    frame = pd.DataFrame({"x": [1.0, np.inf, 2.0, 3.0] * 10, "y": ["a", "b"] * 20})
    message = _training_error(frame, "y", model="gaussian_nb", options=Options(cv_folds=0))
    assert "could not be fitted" in message


# --- comparing models -------------------------------------------------------------------------


@pytest.mark.slow
def test_compare_models_ranks_best_first(sample):
    board = compare_models(sample("iris"), "species", options=Options(cv_folds=3))
    assert set(board["model"]) == {spec.key for spec in catalog.CLASSIFIERS}
    scores = board["balanced_accuracy mean"].tolist()
    assert scores == sorted(scores, reverse=True)
    assert board.attrs["primary"] == "balanced_accuracy" and board.attrs["sampled"] == 0
    assert {"balanced_accuracy std", "accuracy", "log_loss", "seconds", "name"} <= set(board)
    assert board.loc[0, "balanced_accuracy mean"] > 0.9


@pytest.mark.slow
def test_compare_models_samples_large_data(sample, monkeypatch):
    diabetes = sample("diabetes")
    keys = ["ridge", "decision_tree", "k_neighbors"]
    monkeypatch.setattr(training, "COMPARE_SAMPLE_ROWS", 120)
    board = compare_models(diabetes, "progression", model_keys=keys)
    assert board.attrs["sampled"] == 120 and board.attrs["primary"] == "r2"
    assert board["r2 mean"].is_monotonic_decreasing
    # Exactly the figures of the same models on a 120-row random sample.
    subset = diabetes.sample(120, random_state=0).reset_index(drop=True)
    monkeypatch.setattr(training, "COMPARE_SAMPLE_ROWS", 10_000)
    expected = compare_models(subset, "progression", model_keys=keys)
    assert expected.attrs["sampled"] == 0
    pd.testing.assert_frame_equal(board.drop(columns="seconds"), expected.drop(columns="seconds"))


@pytest.mark.slow
def test_compare_models_ranks_lower_is_better_correctly(sample):
    # Ranking is by R² for regression: the best R² first even though MAE is lower-is-better.
    board = compare_models(
        sample("gapminder"), "lifeExp", model_keys=["linear_regression", "random_forest"]
    )
    assert board["model"].tolist() == ["random_forest", "linear_regression"]
    assert board.loc[0, "mae"] < board.loc[1, "mae"]


def test_a_model_that_stops_before_converging_says_so(sample_frames):
    result = train(
        sample_frames["diabetes"],
        "progression",
        model="mlp",
        options=Options(cv_folds=0, params={"max_iter": 50}),
    )
    assert any("stopped before it converged" in note for note in result.warnings)


def test_the_training_rows_are_recognised_and_other_rows_are_not(sample_frames):
    tips = sample_frames["tips"]
    result = train(tips, "tip", model="ridge", options=Options(cv_folds=0))
    assert problem.is_training_data(tips, result.metadata)
    assert not problem.is_training_data(tips.head(100), result.metadata)
    assert not problem.is_training_data(tips.assign(tip=tips["tip"] + 0.01), result.metadata)
    assert not problem.is_training_data(tips, None)  # a model saved elsewhere


def test_a_number_class_is_named_as_written(sample):
    tips = sample("tips")
    message = _training_error(tips, "size", options=Options(cv_folds=5))
    assert "The class 1 has only" in message and "np." not in message
