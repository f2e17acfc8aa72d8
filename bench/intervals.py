"""Seconds ``lib.uncertainty.metric_intervals`` takes on a large holdout (1,000 resamples).

    .venv/bin/python bench/intervals.py [--rows 200000]

Synthetic holdouts: regression, binary and 3-class classification with probabilities; the
point figures are passed in, as ``lib.training.train`` does. Prints the best of 3 runs each.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lib.metrics import score
from lib.uncertainty import metric_intervals


def holdouts(n: int, rng: np.random.Generator):
    y = rng.normal(size=n)
    yield "regression", "regression", y, y + rng.normal(size=n), None, None
    for k in (2, 3):
        truth = rng.integers(0, k, n)
        logits = rng.normal(size=(n, k))
        logits[np.arange(n), truth] += 1.5
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        yield f"{k} classes", "classification", truth, proba.argmax(axis=1), proba, np.arange(k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for name, task, y_true, y_pred, proba, classes in holdouts(args.rows, rng):
        point = score(task, y_true, y_pred, proba, classes)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            metric_intervals(task, y_true, y_pred, proba, classes, point=point)
            best = min(best, time.perf_counter() - started)
        print(f"{name:>12}, {args.rows:,} rows: {best:.3f} s")


if __name__ == "__main__":
    main()
