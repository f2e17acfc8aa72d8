"""Tuning a catalog model's hyperparameters by successive halving, within a time budget.

``tune`` samples candidate settings from the model's ranges in the catalog (the defaults
first), scores them all by cross-validation on a small share of the rows, keeps the best third
and scores those on three times the rows, and so on up to every searched row. Before each round
it checks the time budget (when the next round would not fit, it stops), and no candidate
starts once the budget is spent: the search keeps what finished.
The search never sees the held-out rows: the best settings then train the final model with
``lib.training.train``, whose holdout is those same rows, so its figures are honest.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.model_selection import ParameterSampler

from lib import catalog, parallel
from lib.catalog import ModelSpec, ParamSpec
from lib.errors import TrainingError
from lib.metrics import PRIMARY_METRIC
from lib.problem import prepare, subset
from lib.profile import ColumnProfile
from lib.sampling import shuffled_indices
from lib.training import (
    Options,
    Progress,
    TrainingResult,
    _fold_results,
    _folds,
    _holdout_split,
    make_pipeline,
    train,
)

FACTOR = 3  # each round keeps a third of the candidates and gives them three times the rows
MIN_ROWS = 200  # the first round's rows, at the least (or every searched row when fewer)


@dataclass(frozen=True)
class TuningResult:
    """What a search found: ``leaderboard`` (one row per candidate, best first: its settings,
    the round it reached, the rows it was scored on, the primary metric's mean and std over
    folds), the ``best_params`` and the final model trained with them (``result``).
    ``stopped_early`` says the time budget ended the search before its last round."""

    leaderboard: pd.DataFrame
    best_params: dict[str, Any]
    primary: str
    result: TrainingResult
    stopped_early: bool
    seconds: float


def search_space(spec: ModelSpec) -> dict[str, Any]:
    """The distributions ``ParameterSampler`` draws ``spec``'s settings from (its catalog
    ranges: log-uniform where the catalog says log, uniform otherwise, lists of choices)."""
    return {param.name: _distribution(param) for param in spec.params}


def tune(
    df: pd.DataFrame,
    target: str,
    *,
    features: list[str] | None = None,
    task: str | None = None,
    model: str = catalog.DEFAULT_MODEL,
    options: Options | None = None,
    profiles: list[ColumnProfile] | None = None,
    budget_s: float = 60.0,
    n_candidates: int = 18,
    progress: Progress | None = None,
) -> TuningResult:
    """Search ``model``'s settings to predict ``target`` (see the module docstring)."""
    started = time.perf_counter()
    options = options or Options()
    report = progress or (lambda fraction, message: None)
    problem = prepare(df, target, features, task, profiles)
    spec = catalog.get_model(problem.task, model)
    if not spec.params:
        raise TrainingError(f"{spec.label} has no settings to tune. Choose another model.")
    primary = PRIMARY_METRIC[problem.task]
    searched = (
        subset(problem, _holdout_split(problem, options)[0]) if options.test_size else problem
    )
    candidates = _candidates(spec, n_candidates, options.random_state)
    rounds = _round_rows(len(searched.y), len(candidates))
    order = shuffled_indices(len(searched.y), len(searched.y), options.random_state)

    scores: Scores = {}
    alive = list(range(len(candidates)))
    stopped_early, last_round_s = False, 0.0
    for number, rows in enumerate(rounds):
        elapsed = time.perf_counter() - started
        if number and elapsed + last_round_s > budget_s:
            stopped_early = True
            break
        step = f"Round {number + 1} of {len(rounds)}: {len(alive)} settings on {rows:,} rows"
        report(0.8 * number / len(rounds), step)
        round_started = time.perf_counter()
        part = subset(searched, np.sort(order[:rows]))
        try:
            folds = _folds(part, replace(options, test_size=0.0, cv_folds=max(options.cv_folds, 2)))
        except TrainingError:
            if number == len(rounds) - 1:
                raise
            continue  # too few rows of some class for the folds yet: the next round has more
        scored: list[int] = []
        # Candidates go a batch at a time (one per worker, each batch's folds in parallel),
        # so the budget is looked at before every batch.
        for batch in _batches(alive, parallel.n_jobs()):
            if scores and time.perf_counter() - started > budget_s:
                stopped_early = True  # no new candidate once the budget is spent
                break
            tasks = [
                (make_pipeline(part, spec, replace(options, params=candidates[i])), part, tr, te)
                for i in batch
                for tr, te in folds
            ]
            results = iter(_fold_results(tasks))
            for index in batch:
                values = [next(results)[0][primary] for _ in folds]
                scores[index] = (number, rows, float(np.mean(values)), float(np.std(values)))
                scored.append(index)
        last_round_s = time.perf_counter() - round_started
        if stopped_early:
            break
        ranked = sorted(scored, key=lambda i: scores[i][2], reverse=True)
        alive = ranked[: max(1, math.ceil(len(ranked) / FACTOR))]

    board = _leaderboard(candidates, scores, primary)
    best = candidates[int(board.iloc[0]["candidate"])]
    report(0.8, "Training the final model with the best settings")
    result = train(
        df, target, features=features, task=problem.task, model=spec.key,
        options=replace(options, params=best), profiles=profiles,
        progress=lambda fraction, message: report(0.8 + 0.2 * fraction, message),
    )  # fmt: skip
    return TuningResult(board, best, primary, result, stopped_early, time.perf_counter() - started)


def _batches(items: list[int], size: int) -> list[list[int]]:
    return [items[start : start + max(size, 1)] for start in range(0, len(items), max(size, 1))]


def _candidates(spec: ModelSpec, n: int, seed: int) -> list[dict[str, Any]]:
    """The defaults, then ``n - 1`` settings drawn from the search space (distinct)."""
    defaults = {param.name: param.default for param in spec.params}
    drawn = ParameterSampler(search_space(spec), n_iter=max(n - 1, 0), random_state=seed)
    found = [defaults]
    for candidate in drawn:
        plain = {name: _plain(value) for name, value in candidate.items()}
        if plain not in found:
            found.append(plain)
    return found


def _round_rows(n_rows: int, n_candidates: int) -> list[int]:
    """Rows of each round, growing by ``FACTOR`` up to ``n_rows`` (the last round)."""
    n_rounds = 1 + max(0, math.ceil(math.log(max(n_candidates, 1), FACTOR)))
    rows = [n_rows // FACTOR ** (n_rounds - 1 - k) for k in range(n_rounds)]
    return sorted({min(n_rows, max(MIN_ROWS, r)) for r in rows})


Scores = dict[int, tuple[int, int, float, float]]  # candidate -> round, rows, mean, std


def _leaderboard(candidates: list[dict[str, Any]], scores: Scores, primary: str) -> pd.DataFrame:
    rows = [
        {"candidate": index, **{k: str(v) for k, v in candidates[index].items()},
         "round": number + 1, "rows": n, f"{primary} mean": mean, f"{primary} std": std}
        for index, (number, n, mean, std) in scores.items()
    ]  # fmt: skip
    board = pd.DataFrame(rows).sort_values(
        ["round", f"{primary} mean", "candidate"], ascending=[False, False, True],
        ignore_index=True,
    )  # fmt: skip
    board.attrs["primary"] = primary
    return board


class _LogInt:
    """Integers drawn log-uniformly from [low, high] (scipy has no such distribution)."""

    def __init__(self, low: float, high: float) -> None:
        self._float = stats.loguniform(low, high + 1)

    def rvs(self, random_state: Any = None) -> int:
        return int(self._float.rvs(random_state=random_state))


def _distribution(param: ParamSpec) -> Any:
    if param.kind == "choice":
        return list(param.choices)
    low, high = float(param.low or 0), float(param.high or 0)
    if param.kind == "int":
        return _LogInt(low, high) if param.log and low > 0 else stats.randint(low, high + 1)
    return stats.loguniform(low, high) if param.log and low > 0 else stats.uniform(low, high - low)


def _plain(value: Any) -> Any:
    """A drawn value as plain Python (numpy numbers become int or float, rounded floats)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(f"{float(value):.4g}")
    return value
