"""Training on one worker against two: compare_models and train's cross-validation.

A generated 100,000-row classification table (10 numeric, 3 categorical Arrow-string columns)
is trained with ``MODEL_STUDIO_TRAIN_JOBS=1`` and ``=2`` in one run; times, the ratio and
whether the figures are identical are printed. compare_models samples
``COMPARE_SAMPLE_ROWS`` (20,000) rows, as in the app. Also prints what one fold task's data
costs to pickle.

    PYTHONPATH=. .venv/bin/python bench/parallel_training.py
    PYTHONPATH=. .venv/bin/python bench/parallel_training.py --rows 20000 \
        --compare decision_tree,logistic_regression --train logistic_regression
"""

from __future__ import annotations

import argparse
import os
import pickle
import time
import warnings

import numpy as np
import pandas as pd

from lib import catalog, parallel, training
from lib.problem import prepare
from lib.schema import CLASSIFICATION


def table(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """``n_rows`` rows: x0..x9 numeric, c0..c2 categorical (str), a 3-class target."""
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n_rows, 10))
    frame = pd.DataFrame(numeric, columns=[f"x{i}" for i in range(10)])
    levels = [["red", "green", "blue", "grey"], [f"city {i}" for i in range(20)], ["a", "b"]]
    codes = [rng.integers(0, len(values), n_rows) for values in levels]
    for i, (values, code) in enumerate(zip(levels, codes, strict=True)):
        frame[f"c{i}"] = pd.array(np.asarray(values, dtype=object)[code], dtype="str")
    signal = numeric[:, 0] + 0.5 * numeric[:, 1] - numeric[:, 2] * numeric[:, 3] + (codes[0] == 1)
    signal += rng.normal(scale=1.0, size=n_rows)
    frame["target"] = np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3])).astype(str)
    return frame


def timed(func, *args, **kwargs):
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = func(*args, **kwargs)
    return result, time.perf_counter() - started


def on_jobs(n: int, func, *args, **kwargs):
    os.environ[parallel.JOBS_VARIABLE] = str(n)
    return timed(func, *args, **kwargs)


def transfer_cost(frame: pd.DataFrame) -> None:
    """What sending the prepared problem to one fold task costs (pickle, as joblib does)."""
    problem = prepare(frame, "target")
    for label, rows in (("train", len(frame)), ("compare", training.COMPARE_SAMPLE_ROWS)):
        part = problem.X.iloc[:rows]
        _, seconds = timed(pickle.dumps, part, protocol=pickle.HIGHEST_PROTOCOL)
        size = len(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
        print(f"pickle X ({label}, {len(part):,} rows): {size / 1e6:.1f} MB in {seconds:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--compare", default="", help="comma-separated keys (default: all)")
    parser.add_argument("--train", default="logistic_regression,random_forest")
    args = parser.parse_args()
    frame = table(args.rows)
    print(f"{args.rows:,} rows, {parallel.usable_cores()} usable cores")
    transfer_cost(frame)

    keys = [k for k in args.compare.split(",") if k] or [
        spec.key for spec in catalog.models_for(CLASSIFICATION)
    ]
    boards, seconds = one_and_two(training.compare_models, frame, "target", model_keys=keys)
    same = boards[0].drop(columns="seconds").equals(boards[1].drop(columns="seconds"))
    report(f"compare_models ({len(keys)} models x 5 folds)", seconds, f"leaderboard {same}")

    for key in args.train.split(","):
        options = training.Options(cv_folds=5)
        results, seconds = one_and_two(training.train, frame, "target", model=key, options=options)
        same = results[0].cv_scores == results[1].cv_scores
        report(f"train {key} (5-fold CV + holdout + refit)", seconds, f"cv_scores {same}")


def one_and_two(func, *args, **kwargs) -> tuple[list, list[float]]:
    """``func(*args, **kwargs)`` on 1 then 2 workers: both results and both times."""
    runs = [on_jobs(n, func, *args, **kwargs) for n in (1, 2)]
    return [result for result, _ in runs], [seconds for _, seconds in runs]


def report(label: str, seconds: list[float], identical: str) -> None:
    print(f"{label}: 1 worker {seconds[0]:.2f} s, 2 workers {seconds[1]:.2f} s")
    print(f"  ratio {seconds[0] / seconds[1]:.2f}x; identical {identical}", flush=True)


if __name__ == "__main__":
    main()
