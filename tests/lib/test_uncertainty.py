"""95 % intervals of the validation figures (lib.uncertainty): on real data, by simulation
against a known truth, and at the edges (tiny or one-class holdouts)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from lib import uncertainty
from lib.display import cv_table
from lib.metrics import score
from lib.training import Options, TrainingResult, train
from lib.uncertainty import cv_interval, difference_intervals, metric_intervals


def _frame(loader) -> pd.DataFrame:
    data = loader(as_frame=True)
    return data.frame.rename(columns={"target": "y"})


@pytest.fixture(scope="module")
def diabetes() -> TrainingResult:
    return train(_frame(load_diabetes), "y", model="ridge", options=Options(cv_folds=0))


@pytest.fixture(scope="module")
def cancer() -> TrainingResult:
    frame = _frame(load_breast_cancer)
    return train(frame, "y", task="classification", model="logistic_regression",
                 options=Options(cv_folds=0))  # fmt: skip


@pytest.fixture(params=["diabetes", "cancer"])
def result(request) -> TrainingResult:
    return request.getfixturevalue(request.param)


def _intervals(result: TrainingResult, rows: slice = slice(None), **kwargs):
    h = result.holdout
    assert h is not None
    proba = None if h.proba is None else h.proba[rows]
    return metric_intervals(result.task, h.y_true[rows], h.y_pred[rows], proba, h.classes,
                            **kwargs)  # fmt: skip


def test_every_holdout_figure_has_an_interval_around_it(result):
    assert result.metric_intervals.keys() == result.metrics.keys()
    for name, (low, high) in result.metric_intervals.items():
        assert low <= result.metrics[name] <= high, name
        assert low < high, name  # these holdouts are not so easy that every resample agrees
    figures = result.metadata.figures
    assert figures is not None
    assert figures.intervals == {k: tuple(v) for k, v in result.metric_intervals.items()}


def test_intervals_are_narrower_on_more_rows(result):
    h = result.holdout
    half = slice(0, len(h.y_true) // 2)
    full, fewer = _intervals(result), _intervals(result, half)
    for name, (low, high) in full.items():
        assert high - low < fewer[name][1] - fewer[name][0], name


def test_the_same_seed_gives_the_same_intervals(result):
    assert _intervals(result, seed=3) == _intervals(result, seed=3)
    assert _intervals(result, seed=3) != _intervals(result, seed=4)
    assert _intervals(result, seed=result.metadata.validation["random_state"]) == {
        name: tuple(bounds) for name, bounds in result.metric_intervals.items()
    }


def test_resampled_figures_are_the_metrics_own(cancer, diabetes):
    """The vectorised figures of each resample equal lib.metrics.score on its rows."""
    rng = np.random.default_rng(0)
    n_classes = 3  # a multiclass holdout too: ROC AUC one-vs-rest, macro averages
    truth = np.repeat(np.arange(n_classes), 40)
    proba = rng.dirichlet(np.ones(n_classes), size=len(truth))
    proba = np.round(proba, 2) / np.round(proba, 2).sum(axis=1, keepdims=True)  # some ties
    holdouts = [
        (cancer.holdout.y_true, cancer.holdout.y_pred, cancer.holdout.proba,
         cancer.holdout.classes),
        (truth, proba.argmax(axis=1), proba, np.arange(n_classes)),
    ]  # fmt: skip
    for y_true, y_pred, proba, classes in holdouts:
        codes = pd.Categorical(y_true, categories=list(classes)).codes.astype(np.int64)
        idx = uncertainty._stratified_draws(codes, 5, rng)
        pred_codes = pd.Categorical(y_pred, categories=list(classes)).codes.astype(np.int64)
        draws = uncertainty._classification_draws(idx, codes, pred_codes, proba, len(classes))
        for b, rows in enumerate(idx):
            expected = score("classification", y_true[rows], y_pred[rows], proba[rows], classes)
            assert {name: values[b] for name, values in draws.items()} == pytest.approx(expected)
    h = diabetes.holdout
    idx = uncertainty._draws(len(h.y_true), 5, rng)
    columns = uncertainty.regression_columns(h.y_true[idx].T, h.y_pred[idx].T)
    for b, rows in enumerate(idx):
        expected = score("regression", h.y_true[rows], h.y_pred[rows])
        assert {name: values[b] for name, values in columns.items()} == pytest.approx(expected)


def _coverage(simulate, truth: float, metric: str, repetitions: int = 200) -> int:
    """How many of ``repetitions`` simulated holdouts' intervals contain ``truth``."""
    covered = 0
    for seed in range(repetitions):
        task, y_true, y_pred = simulate(np.random.default_rng(seed))
        bounds = metric_intervals(task, y_true, y_pred, n_boot=500, seed=seed)[metric]
        covered += bounds[0] <= truth <= bounds[1]
    return covered


def _sign_rule(n: int):
    """y is the sign of x plus as much noise; the rule guesses the sign of x. Its accuracy is
    1 - arccos(corr) / pi = 1 - (pi / 4) / pi = 0.75 exactly."""

    def simulate(rng):
        x = rng.normal(size=n)
        y = (x + rng.normal(size=n) > 0).astype(int)
        return "classification", y, (x > 0).astype(int)

    return simulate


def _guess_zero(n: int):
    """y ~ N(0, 1) and the guess is always 0: the mean absolute error is sqrt(2 / pi)."""

    def simulate(rng):
        return "regression", rng.normal(size=n), np.zeros(n)

    return simulate


@pytest.mark.parametrize(
    ("simulate", "truth", "metric"),
    [
        (_sign_rule(200), 0.75, "accuracy"),
        (_sign_rule(200), 0.75, "balanced_accuracy"),
        (_guess_zero(200), math.sqrt(2 / math.pi), "mae"),
    ],
)
def test_the_95_percent_interval_covers_the_truth_about_95_percent_of_the_time(
    simulate, truth, metric
):
    assert 180 <= _coverage(simulate, truth, metric) <= 198  # 90 % to 99 % of 200


def test_large_holdouts_resampled_m_out_of_n_still_cover_the_truth(monkeypatch):
    # Holdouts larger than MAX_RESAMPLE_ROWS are resampled that many rows at a time and the
    # spread shrunk by sqrt(m / n); the same check on a smaller scale (100 of 1,000 rows).
    monkeypatch.setattr(uncertainty, "MAX_RESAMPLE_ROWS", 100)
    assert 180 <= _coverage(_sign_rule(1000), 0.75, "accuracy") <= 198
    assert 180 <= _coverage(_guess_zero(1000), math.sqrt(2 / math.pi), "mae") <= 198


def test_too_few_rows_or_one_class_give_no_interval():
    assert metric_intervals("regression", np.array([1.0, 2.0]), np.array([1.5, 2.5])) == {}
    one_class = np.array(["yes"] * 30)
    proba = np.tile([0.2, 0.8], (30, 1))
    assert metric_intervals("classification", one_class, one_class, proba, ["no", "yes"]) == {}


def test_a_metric_undefined_on_the_holdout_has_no_interval():
    # A class the model knows but the holdout lacks: no ROC AUC, so no interval for it.
    y = np.array([0, 1] * 10)
    proba = np.tile([0.5, 0.3, 0.2], (20, 1))
    found = metric_intervals("classification", y, y, proba, [0, 1, 2])
    assert "roc_auc" not in found and {"accuracy", "log_loss"} <= found.keys()


def test_cv_interval_is_the_t_interval_of_the_fold_mean():
    low, high = cv_interval([0.80, 0.82, 0.84, 0.86, 0.88])
    half = 2.7764451 * np.std([0.80, 0.82, 0.84, 0.86, 0.88], ddof=1) / math.sqrt(5)
    assert (low, high) == pytest.approx((0.84 - half, 0.84 + half))
    assert cv_interval([0.8]) is None and cv_interval([0.8, math.nan]) is None


def test_without_a_holdout_the_intervals_come_from_the_folds():
    frame = _frame(load_diabetes)
    result = train(frame, "y", model="ridge", options=Options(test_size=0.0, cv_folds=5))
    assert result.metrics == {} and result.holdout is None
    for name, folds in result.cv_scores.items():
        low, high = result.metric_intervals[name]
        assert low < np.mean(folds) < high
    shown = cv_table(result.cv_scores, result.metric_intervals)  # the Train page's table
    low, high = result.metric_intervals["r2"]
    assert shown.loc[shown["metric"] == "R²", "95 % interval"].item() == f"{low:.3f}–{high:.3f}"


# --- paired differences between two models on the same rows -----------------------------------


def _noisy(truth: np.ndarray, scale: float, seed: int) -> np.ndarray:
    return truth + np.random.default_rng(seed).normal(0, scale, size=truth.shape)


def test_a_clearly_better_model_gets_a_difference_interval_on_its_side():
    truth = np.random.default_rng(0).normal(10, 3, size=400)
    worse, better = _noisy(truth, 2.0, 1), _noisy(truth, 1.0, 2)
    change, intervals = difference_intervals("regression", truth, worse, better)
    scores_worse = score("regression", truth, worse)
    scores_better = score("regression", truth, better)
    assert change["mae"] == pytest.approx(scores_better["mae"] - scores_worse["mae"])
    low, high = intervals["mae"]
    assert low <= change["mae"] <= high < 0  # lower error, and not by chance
    assert intervals["r2"][0] > 0


def test_equally_good_models_rarely_look_different():
    """Two models with errors of the same size: the 95 % paired interval holds 0 in about
    95 % of repeated samples (at least 85 % of 60 here, a deterministic sequence of seeds)."""
    held = 0
    for seed in range(60):
        truth = np.random.default_rng(seed).normal(0, 1, size=150)
        a, b = _noisy(truth, 1.0, 1000 + seed), _noisy(truth, 1.0, 2000 + seed)
        _, intervals = difference_intervals("regression", truth, a, b, n_boot=300, seed=seed)
        low, high = intervals["rmse"]
        held += low <= 0 <= high
    assert held >= 51


def test_paired_intervals_are_narrower_than_the_separate_ones():
    """Both models err alike on most rows: pairing cancels that shared error."""
    truth = np.random.default_rng(3).normal(0, 1, size=300)
    shared = _noisy(truth, 1.0, 4)
    a, b = _noisy(shared, 0.1, 5), _noisy(shared, 0.1, 6)
    _, paired = difference_intervals("regression", truth, a, b)
    separate = metric_intervals("regression", truth, a)
    assert paired["mae"][1] - paired["mae"][0] < 0.5 * (separate["mae"][1] - separate["mae"][0])


def test_classification_differences_use_probabilities_only_when_both_have_them(cancer):
    holdout = cancer.holdout
    y, pred, proba, classes = holdout.y_true, holdout.y_pred, holdout.proba, holdout.classes
    flipped = pred.copy()
    flipped[:20] = np.where(pred[:20] == classes[0], classes[1], classes[0])
    change, _ = difference_intervals("classification", y, pred, flipped, proba, None, classes)
    assert "roc_auc" not in change and "accuracy" in change
    same, same_intervals = difference_intervals(
        "classification", y, pred, pred, proba, proba, classes
    )
    assert same["roc_auc"] == 0 and same_intervals["accuracy"] == (0.0, 0.0)


def test_too_few_rows_give_the_change_but_no_interval():
    truth = np.arange(5.0)
    change, intervals = difference_intervals("regression", truth, truth + 1, truth)
    assert change["mae"] == pytest.approx(-1.0) and intervals == {}
