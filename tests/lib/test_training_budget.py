"""Time budgets for train and compare_models: stop starting work, keep what finished.

No test here measures wall-clock time: a budget of 0 is spent before anything starts, and a
fake clock (``lib.training._clock``) jumps past the budget at a chosen point, so which folds
or candidates run is exact on any machine.
"""

from __future__ import annotations

import pandas as pd
import pytest

from lib import training
from lib.errors import TrainingError
from lib.training import Options, compare_models, train

KEYS = ["decision_tree", "logistic_regression", "gaussian_nb"]


@pytest.fixture
def clock(monkeypatch):
    """A fake clock for the budget, at 0 s until ``clock.jump()`` moves it 1,000 s on."""

    class Clock:
        now = 0.0

        def jump(self) -> None:
            self.now += 1_000.0

    fake = Clock()
    monkeypatch.setattr(training, "_clock", lambda: fake.now)
    return fake


def _after(count: int, clock, starts_with: str):
    """A progress callback that moves ``clock`` past any budget at the ``count``-th report
    whose message starts with ``starts_with``."""
    seen = []

    def progress(fraction: float, message: str) -> None:
        if message.startswith(starts_with):
            seen.append(message)
            if len(seen) == count:
                clock.jump()

    return progress


def test_an_ample_budget_gives_the_same_figures_as_none(sample):
    frame = sample("iris")
    options = Options(cv_folds=4)
    plain = train(frame, "species", model="decision_tree", options=options)
    budgeted = train(frame, "species", model="decision_tree", options=options, budget_s=3_600)
    assert budgeted.cv_scores == plain.cv_scores and len(plain.cv_scores["accuracy"]) == 4
    assert budgeted.metrics == plain.metrics
    assert budgeted.warnings == plain.warnings
    assert not any("time budget" in note for note in plain.warnings)


def test_folds_stop_starting_when_the_budget_runs_out_and_the_finished_ones_are_kept(sample, clock):
    frame = sample("iris")
    options = Options(cv_folds=5)
    full = train(frame, "species", model="decision_tree", options=options)
    # The report "fold 4 of 5" comes once fold 3 is scored: the budget is spent from then on.
    progress = _after(4, clock, "Cross-validation fold")
    cut = train(frame, "species", model="decision_tree", options=options, budget_s=60,
                progress=progress)  # fmt: skip
    assert {name: values[:3] for name, values in full.cv_scores.items()} == cut.cv_scores
    assert (
        "The time budget of 60 s ran out after 3 of 5 cross-validation folds; the figures use "
        "those 3." in cut.warnings
    )
    # The holdout and the final fit always run.
    assert cut.metrics == full.metrics
    assert cut.metadata.figures.cv["accuracy"].folds == full.cv_scores["accuracy"][:3]


def test_a_spent_budget_skips_cross_validation_but_still_trains(sample):
    result = train(sample("iris"), "species", model="decision_tree",
                   options=Options(cv_folds=5), budget_s=0)  # fmt: skip
    assert result.cv_scores == {}
    assert any(
        "ran out after 0 of 5 cross-validation folds" in note and "skipped" in note
        for note in result.warnings
    )
    assert result.metrics and result.metadata is not None


def test_one_finished_fold_is_too_few_to_report(sample, clock):
    progress = _after(2, clock, "Cross-validation fold")  # fold 1 scored, then the budget ends
    result = train(sample("iris"), "species", model="decision_tree",
                   options=Options(cv_folds=5), budget_s=10, progress=progress)  # fmt: skip
    assert result.cv_scores == {}
    assert any("after 1 of 5" in note for note in result.warnings)


def test_compare_keeps_the_candidates_that_finished(sample, clock):
    frame = sample("iris")
    options = Options(cv_folds=3)
    full = compare_models(frame, "species", model_keys=KEYS, options=options)
    assert full.attrs["stopped_early"] is False and full.attrs["skipped"] == []
    # With one worker a batch is one candidate: its 3 folds report, then the clock jumps.
    progress = _after(1, clock, "Cross-validating Logistic")
    cut = compare_models(frame, "species", model_keys=KEYS, options=options, budget_s=30,
                         progress=progress)  # fmt: skip
    assert cut["model"].tolist() == ["decision_tree"]
    assert cut.attrs["stopped_early"] is True
    assert cut.attrs["skipped"] == ["logistic_regression", "gaussian_nb"]
    expected = full[full["model"] == "decision_tree"].reset_index(drop=True)
    pd.testing.assert_frame_equal(cut.drop(columns="seconds"), expected.drop(columns="seconds"))


def test_compare_with_an_ample_budget_runs_every_candidate(sample):
    frame = sample("iris")
    plain = compare_models(frame, "species", model_keys=KEYS, options=Options(cv_folds=3))
    budgeted = compare_models(frame, "species", model_keys=KEYS, options=Options(cv_folds=3),
                              budget_s=3_600)  # fmt: skip
    pd.testing.assert_frame_equal(plain.drop(columns="seconds"), budgeted.drop(columns="seconds"))
    assert budgeted.attrs == plain.attrs


def test_compare_with_no_time_for_one_candidate_says_so(sample):
    with pytest.raises(TrainingError, match="time budget of 0 s was spent before the first"):
        compare_models(sample("iris"), "species", model_keys=KEYS, budget_s=0)


def test_budgets_on_two_workers_keep_whole_batches(sample, clock, monkeypatch):
    from lib import parallel

    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    progress = _after(1, clock, "Cross-validation fold 2")  # once fold 1 of the first batch is in
    result = train(sample("iris"), "species", model="decision_tree",
                   options=Options(cv_folds=5), budget_s=60, progress=progress)  # fmt: skip
    # The first batch held two folds, both finished; the next batch never started.
    assert len(result.cv_scores["accuracy"]) == 2
    assert any("after 2 of 5" in note for note in result.warnings)
