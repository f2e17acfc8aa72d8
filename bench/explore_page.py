"""How the Predict & plot page scales: 300 labelled rows against 300,000, in AppTest.

For each task (regression, binary classification) a HistGradientBoosting model is trained with
``lib.training.train`` on synthetic data (8 numeric and 2 categorical columns), put in the
session as the current model, and the page is driven like a person would:

- upload: the run that reads the uploaded CSV, predicts and draws the default tab;
- rerun: the next run (predictions and everything derived are cached);
- each other tab opened once (its first, computing run), then the Performance tab again.

It prints the times, the number and JSON size of the plotly figures sent, and the 300k/300
ratios. One process, one run:

    .venv/bin/python bench/explore_page.py               # 300 and 300,000 rows
    .venv/bin/python bench/explore_page.py --large 100000

Target: the rerun after predicting stays within a few seconds at 300,000 rows, and no figure
grows with the rows (builders cap drawn points at 50,000).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from lib import training  # noqa: E402
from lib.model_info import describe_model  # noqa: E402
from lib.records import CurrentModel  # noqa: E402
from pages import _state  # noqa: E402

APP = str(ROOT / "app.py")
TRAIN_ROWS = 10_000
TABS = ["Drivers", "What-if", "Drift", "Distribution", "Performance"]


def synthetic(rows: int, task: str, seed: int) -> pd.DataFrame:
    """8 numeric columns, 2 categorical ones and a target that depends on both."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 8))
    frame = pd.DataFrame(X, columns=[f"n{i}" for i in range(8)]).round(4)
    frame["colour"] = rng.choice(["red", "green", "blue", "grey"], size=rows)
    frame["size"] = rng.choice(["S", "M", "L"], size=rows, p=[0.5, 0.3, 0.2])
    signal = X[:, 0] * 2 + np.sin(X[:, 1]) + X[:, 2] * X[:, 3]
    signal += (frame["colour"] == "red") * 1.5 - (frame["size"] == "L").to_numpy()
    noisy = signal + rng.normal(scale=0.7, size=rows)
    frame["target"] = noisy.round(4) if task == "regression" else np.where(noisy > 0.5, "yes", "no")
    return frame


def model_for(task: str) -> CurrentModel:
    result = training.train(
        synthetic(TRAIN_ROWS, task, seed=1), "target", model="hist_gradient_boosting",
        options=training.Options(cv_folds=0, source_name="synthetic.csv"),
    )  # fmt: skip
    info = describe_model(result.pipeline)
    return CurrentModel(model=result.pipeline, info=info, source="bench", name=f"{task} HGB")


def figures(at: AppTest) -> tuple[int, int]:
    """How many plotly figures the last run sent, and their total JSON size in bytes."""
    charts = at.get("plotly_chart")
    return len(charts), sum(len(chart.proto.spec) for chart in charts)


def timed(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def measure(current: CurrentModel, task: str, rows: int) -> dict[str, float]:
    data = synthetic(rows, task, seed=2).to_csv(index=False).encode()
    at = AppTest.from_file(APP, default_timeout=900)
    at.run()
    at.session_state[_state.MODEL] = current  # as _ui.set_model does
    at.switch_page("pages/predict.py").run()
    uploader = at.file_uploader(key=_state.PREDICT_UPLOAD)
    result = {"upload": timed(lambda: uploader.set_value(("rows.csv", data, "text/csv")).run())}
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    result["figures"], result["figure_bytes"] = figures(at)
    result["rerun"] = timed(at.run)
    for tab in TABS:
        at.session_state[_state.EXPLORE_TAB] = tab
        result[f"tab {tab}"] = timed(at.run)
        assert not at.exception and not at.error, (tab, [e.value for e in at.error])
        count, size = figures(at)
        result["figures"] = max(result["figures"], count)
        result["figure_bytes"] = max(result["figure_bytes"], size)
    result["rerun again"] = timed(at.run)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=300)
    parser.add_argument("--large", type=int, default=300_000)
    args = parser.parse_args()
    for task in ("regression", "classification"):
        current = model_for(task)
        small = measure(current, task, args.small)
        large = measure(current, task, args.large)
        print(f"\n{task}: {args.small:,} vs {args.large:,} labelled rows")
        print(f"{'step':<22}{args.small:>12,}{args.large:>12,}{'ratio':>9}")
        for name in small:
            a, b = small[name], large[name]
            unit = "" if "figure" in name else " s"
            fmt = (lambda v: f"{v:,.0f}") if "figure" in name else (lambda v: f"{v:.2f}")
            ratio = b / a if a else float("nan")
            print(f"{name + unit:<22}{fmt(a):>12}{fmt(b):>12}{ratio:>8.1f}x")
        print("(figures, figure_bytes: the largest tab's count and total JSON size)")


if __name__ == "__main__":
    main()
