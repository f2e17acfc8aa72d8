"""Benchmark: plain ``joblib.load`` vs the safe loader on a 200-tree random forest.

Run: ``.venv/bin/python bench/safe_load.py`` from the repository root. Prints the median of
alternating repeats for plain joblib.load, load_model(sandbox=False) and load_model(sandbox=True),
uncompressed and zlib-3, with the ratios (target: in-process safe / plain <= 1.5).
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import joblib
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from lib.safe_load import load_model
from lib.worker import warm_up

REPEATS = 5


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    X, y = make_classification(n_samples=5000, n_features=20, n_informative=10, random_state=0)
    model = RandomForestClassifier(n_estimators=200, random_state=0, n_jobs=1).fit(X, y)
    warm_up()
    print(f"RandomForestClassifier(200 trees) fitted on {X.shape[0]} x {X.shape[1]}")
    for compress in (0, 3):
        buf = io.BytesIO()
        joblib.dump(model, buf, compress=compress)
        data = buf.getvalue()
        # Sanity: same predictions.
        safe = load_model(data, sandbox=False).model
        np.testing.assert_array_equal(safe.predict(X[:50]), model.predict(X[:50]))
        runs: dict[str, list[float]] = {"plain": [], "safe": [], "sandbox": []}
        for _ in range(REPEATS):
            runs["plain"].append(_timed(lambda d=data: joblib.load(io.BytesIO(d))))
            runs["safe"].append(_timed(lambda d=data: load_model(d, sandbox=False)))
            runs["sandbox"].append(_timed(lambda d=data: load_model(d, sandbox=True)))
        med = {k: statistics.median(v) for k, v in runs.items()}
        label = "uncompressed" if compress == 0 else "zlib 3"
        print(f"\n{label}: {len(data) / 1e6:.1f} MB file, median of {REPEATS} alternating runs")
        print(f"  joblib.load (unsafe)      {med['plain'] * 1000:8.1f} ms")
        print(
            f"  load_model(sandbox=False) {med['safe'] * 1000:8.1f} ms"
            f"   ratio {med['safe'] / med['plain']:.2f}x (target <= 1.5)"
        )
        print(
            f"  load_model(sandbox=True)  {med['sandbox'] * 1000:8.1f} ms"
            f"   ratio {med['sandbox'] / med['plain']:.2f}x"
        )


if __name__ == "__main__":
    main()
