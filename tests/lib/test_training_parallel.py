"""Training on several worker processes gives exactly the figures of a sequential run.

``MODEL_STUDIO_TRAIN_JOBS`` is 1 for the rest of the suite (tests/conftest.py); here it is set
to 1 and to 2 and the results compared with ``==``: every fold fits a fresh clone with a fixed
random state, and results are collected in fold order.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import pandas as pd
import pytest

from lib import catalog, parallel
from lib.errors import TrainingError
from lib.schema import CLASSIFICATION, REGRESSION
from lib.training import Options, compare_models, train

# tips: numeric (total_bill, size) and categorical (sex, smoker, day, time) columns.
CASES = [("tips", "day", CLASSIFICATION), ("tips", "tip", REGRESSION)]


@pytest.fixture
def jobs(monkeypatch):
    """``jobs(n)`` sets the number of training workers."""
    return lambda n: monkeypatch.setenv(parallel.JOBS_VARIABLE, str(n))


def _quietly(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of small tables
        return func(*args, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(("sample_key", "target", "task"), CASES)
def test_compare_models_gives_the_same_leaderboard_on_two_workers(
    sample_key, target, task, sample, jobs
):
    frame = sample(sample_key)
    boards = []
    for n in (1, 2):
        jobs(n)
        boards.append(_quietly(compare_models, frame, target, options=Options(cv_folds=3)))
    sequential, pooled = (board.drop(columns="seconds") for board in boards)
    assert len(sequential) == len(catalog.models_for(task))
    pd.testing.assert_frame_equal(sequential, pooled, check_exact=True)
    assert boards[0].attrs == boards[1].attrs


@pytest.mark.slow
@pytest.mark.parametrize(("sample_key", "target", "task"), CASES)
@pytest.mark.parametrize("model_key", ["random_forest", "hist_gradient_boosting", "mlp"])
def test_train_gives_the_same_figures_on_two_workers(
    sample_key, target, task, model_key, sample, jobs, fast_options
):
    frame = sample(sample_key)
    options = dataclasses.replace(fast_options(catalog.get_model(task, model_key)), cv_folds=4)
    results = []
    for n in (1, 2):
        jobs(n)
        results.append(_quietly(train, frame, target, model=model_key, options=options))
    sequential, pooled = results
    assert len(sequential.cv_scores[next(iter(sequential.cv_scores))]) == 4
    assert sequential.cv_scores == pooled.cv_scores
    assert sequential.metrics == pooled.metrics
    assert sequential.baseline_metrics == pooled.baseline_metrics
    assert sequential.metadata.figures == pooled.metadata.figures


def _fold_error(frame, n_jobs, monkeypatch) -> TrainingError:
    monkeypatch.setenv(parallel.JOBS_VARIABLE, str(n_jobs))
    # scikit-learn refuses 0 trees when the first fold is fitted (a ValueError inside _fit).
    options = Options(cv_folds=3, params={"n_estimators": 0})
    with pytest.raises(TrainingError) as caught:
        train(frame, "day", model="random_forest", options=options)
    return caught.value


def test_an_error_in_a_fold_reaches_the_caller_as_in_a_sequential_run(sample, monkeypatch):
    frame = sample("tips")
    sequential = _fold_error(frame, 1, monkeypatch)
    pooled = _fold_error(frame, 2, monkeypatch)
    assert type(pooled) is type(sequential) is TrainingError
    assert str(pooled) == str(sequential)
    assert "could not be fitted" in str(pooled)


def _fails_on_two(i: int) -> int:
    if i == 2:
        raise ValueError(f"task {i} failed")
    return i


def test_in_order_raises_a_task_error_with_its_type_and_message():
    assert list(parallel.in_order(_fails_on_two, [(0,), (1,)], jobs=2)) == [0, 1]
    with pytest.raises(ValueError, match=re.escape("task 2 failed")):
        list(parallel.in_order(_fails_on_two, [(i,) for i in range(4)], jobs=2))


def test_progress_on_two_workers_is_in_fold_order_and_ends_at_one(sample, jobs):
    jobs(2)
    calls: list[tuple[float, str]] = []
    train(
        sample("iris"),
        "species",
        model="decision_tree",
        options=Options(cv_folds=4),
        progress=lambda fraction, message: calls.append((fraction, message)),
    )
    fractions = [fraction for fraction, _ in calls]
    assert fractions == sorted(set(fractions)) and fractions[-1] == 1.0
    fold_messages = [m for _, m in calls if m.startswith("Cross-validation fold")]
    assert fold_messages == [f"Cross-validation fold {i} of 4" for i in range(1, 5)]


def test_compare_models_progress_on_two_workers_ends_at_one(sample, jobs):
    jobs(2)
    calls: list[tuple[float, str]] = []
    keys = ["decision_tree", "logistic_regression"]
    compare_models(
        sample("iris"),
        "species",
        model_keys=keys,
        options=Options(cv_folds=3),
        progress=lambda fraction, message: calls.append((fraction, message)),
    )
    fractions = [fraction for fraction, _ in calls]
    assert fractions == sorted(set(fractions)) and fractions[-1] == 1.0
    assert len(calls) == 2 * 3 + 1


def test_n_jobs_reads_the_variable_and_defaults_to_usable_cores(monkeypatch):
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "3")
    assert parallel.n_jobs() == 3
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "0")
    assert parallel.n_jobs() == 1
    monkeypatch.delenv(parallel.JOBS_VARIABLE)
    assert parallel.n_jobs() == parallel.usable_cores() >= 1
