"""What the self-check costs: recording check rows at training, and its share of the file.

On the generated table of ``bench/parallel_training.py`` (10 numeric, 3 categorical columns,
3 classes) with 5 % of the values of x0 and c1 missing: a logistic regression is fitted once,
then ``lib.self_check.build`` (picking the rows, blanking text-like columns, predicting) is
timed (median of 5), and the file is dumped with and without the record. Prints the figures.

    PYTHONPATH=. .venv/bin/python bench/self_check.py
    PYTHONPATH=. .venv/bin/python bench/self_check.py --rows 100000
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.pipeline import Pipeline

from bench.parallel_training import table
from lib import catalog, self_check
from lib.persistence import dump_model
from lib.problem import prepare
from lib.training import Options, make_pipeline


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    frame = table(args.rows)
    rng = np.random.default_rng(1)
    for name in ("x0", "c1"):
        frame.loc[rng.random(len(frame)) < 0.05, name] = None
    problem = prepare(frame, "target")
    spec = catalog.get_model(problem.task, "logistic_regression")
    pipeline: Pipeline = make_pipeline(problem, spec, Options())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        pipeline.fit(problem.X, problem.y)
        fit_s = time.perf_counter() - started
    times = []
    for _ in range(5):
        started = time.perf_counter()
        check = self_check.build(
            pipeline, problem.X, problem.y, problem.task, problem.groups, seed=0
        )
        times.append(time.perf_counter() - started)
    assert check is not None
    without = len(dump_model(pipeline, {"format": "x"}))
    with_check = len(dump_model(pipeline, {"format": "x", "self_check": check.to_plain()}))
    rows_with_gaps = sum(
        any(column[i] is None for column in check.values) for i in range(check.n_rows)
    )
    classes = sorted(set(check.predictions))
    print(f"{args.rows:,} rows x {problem.X.shape[1]} features, {check.n_rows} check rows "
          f"({rows_with_gaps} with missing values, predicted classes {classes})")  # fmt: skip
    print(f"final fit {fit_s:.2f} s; self_check.build median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f})")  # fmt: skip
    print(f"file {without:,} bytes without the record, {with_check:,} with it "
          f"(+{with_check - without:,})")  # fmt: skip


if __name__ == "__main__":
    main()
