"""Tuning hyperparameters by successive halving within a time budget (lib.tuning)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib import catalog
from lib.errors import TrainingError
from lib.training import Options
from lib.tuning import search_space, tune


def _table(rows: int = 3_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 5)), columns=list("abcde"))
    frame["colour"] = rng.choice(["red", "green", "blue"], rows)
    frame["y"] = ((frame.a + frame.b * frame.c > 0) ^ (frame.colour == "red")).astype(int)
    return frame


OPTIONS = Options(test_size=0.2, cv_folds=3, random_state=0)


def test_a_search_ranks_settings_and_trains_the_best():
    found = tune(_table(), "y", model="decision_tree", options=OPTIONS, budget_s=600,
                 n_candidates=9)  # fmt: skip
    board = found.leaderboard
    assert not found.stopped_early
    assert len(board) == 9 and board["candidate"].is_unique
    # The last round scored one setting on every searched row: the 80 % not held out.
    assert board.iloc[0]["round"] == board["round"].max() and board.iloc[0]["rows"] == 2_400
    assert board["rows"].min() < 2_400  # the first rounds used fewer rows
    best = found.best_params
    assert found.result.metadata is not None and found.result.model_key == "decision_tree"
    assert (
        found.result.pipeline.named_steps["model"].get_params()["min_samples_leaf"]
        == (best["min_samples_leaf"])
    )
    # The final model's figures come from the held-out 20 %, which the search never used.
    assert len(found.result.holdout.y_true) == 600


def test_the_same_seed_gives_the_same_search():
    first = tune(_table(), "y", model="k_neighbors", options=OPTIONS, budget_s=600, n_candidates=6)
    again = tune(_table(), "y", model="k_neighbors", options=OPTIONS, budget_s=600, n_candidates=6)
    pd.testing.assert_frame_equal(first.leaderboard, again.leaderboard)
    assert first.best_params == again.best_params
    assert first.result.metrics == again.result.metrics


def test_a_spent_budget_stops_the_search_and_keeps_what_finished():
    found = tune(_table(), "y", model="decision_tree", options=OPTIONS, budget_s=0.0,
                 n_candidates=9)  # fmt: skip
    assert found.stopped_early
    assert len(found.leaderboard) == 1  # the defaults, scored before the budget was looked at
    defaults = {
        p.name: p.default for p in catalog.get_model("classification", "decision_tree").params
    }
    assert found.best_params == defaults
    assert found.result.metrics  # the final model is still trained


@pytest.mark.parametrize("key", ["hist_gradient_boosting", "random_forest", "mlp", "svc"])
def test_candidates_stay_within_the_catalogs_ranges(key):
    from sklearn.model_selection import ParameterSampler

    spec = catalog.get_model("classification", key)
    by_name = {p.name: p for p in spec.params}
    for candidate in ParameterSampler(search_space(spec), n_iter=50, random_state=0):
        for name, value in candidate.items():
            param = by_name[name]
            if param.kind == "choice":
                assert value in param.choices
            else:
                assert param.low <= value <= param.high, (name, value)
                if param.kind == "int":
                    assert float(value).is_integer()


def test_a_model_without_settings_cannot_be_tuned():
    with pytest.raises(TrainingError, match="no settings to tune"):
        tune(_table(300), "y", model="gaussian_nb", options=OPTIONS, budget_s=10)


def test_two_workers_find_what_one_finds(monkeypatch):
    from lib import parallel

    found = {}
    for workers in (1, 2):
        monkeypatch.setenv(parallel.JOBS_VARIABLE, str(workers))
        found[workers] = tune(_table(), "y", model="decision_tree", options=OPTIONS,
                              budget_s=600, n_candidates=6)  # fmt: skip
    pd.testing.assert_frame_equal(found[1].leaderboard, found[2].leaderboard)
    assert found[1].best_params == found[2].best_params
