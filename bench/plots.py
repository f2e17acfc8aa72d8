"""What each figure builder costs on 300 rows and on 300,000 rows of the same models.

Three models (regression, binary and 3-class classification) are trained once on 2,000 synthetic
rows; every builder of ``lib.plots`` then draws the predictions for 300 and for 300,000 new rows
(the same generator, numeric columns shifted a little so the drift plots have something to
show). For each builder: build time (best of 2), drawn points (x/y values of all traces,
heatmap cells) and JSON size (``len(fig.to_json())``, what Streamlit sends), and the
300k / 300 ratios.

    .venv/bin/python bench/plots.py                 # 300 vs 300,000 rows, about 15 s
    .venv/bin/python bench/plots.py --large 1000000

Target: no figure above 50,000 points (``lib.plots.MAX_POINTS``) at any size.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib import explain, plots, training
from lib.training import Options, TrainingResult

FEATURES = ["x1", "x2", "x3", "income", "region", "city"]


def make_frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """``n`` synthetic rows: 4 numeric and 2 categorical features and three targets."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(shift, 1, n), rng.normal(0, 1, n), rng.uniform(0, 10, n)
    income = rng.lognormal(10 + shift, 0.8, n)
    region = rng.choice(list("ABCDEFGH"), n, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05])
    city = np.char.add("city", rng.zipf(1.3, n).clip(1, 500).astype(str))
    score = 2 * x1 + np.sin(x2 * 2) + 0.3 * x3 + (region == "A") + 0.5 * np.log(income / 2e4)
    multi = np.stack([x1, x2, (region == "B") + 0.2 * x3 - 1], axis=1)
    multi += rng.gumbel(size=multi.shape)
    return pd.DataFrame(
        {
            "x1": x1, "x2": x2, "x3": x3, "income": income, "region": region, "city": city,
            "amount": score * 10 + rng.normal(0, 5, n) + 100,
            "churn": np.where(rng.random(n) < 1 / (1 + np.exp(-score + 2)), "yes", "no"),
            "grade": np.array(["low", "mid", "high"])[multi.argmax(axis=1)],
        }
    )  # fmt: skip


def train(frame: pd.DataFrame, target: str) -> TrainingResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return training.train(
            frame[[*FEATURES, target]], target,
            options=Options(cv_folds=0, test_size=0, params={"max_iter": 50}),
        )  # fmt: skip


def builders(
    models: dict[str, TrainingResult], new: pd.DataFrame, explained: dict
) -> list[tuple[str, str, Callable]]:
    """(task, builder name, zero-argument function) for every figure on the rows ``new``."""
    X = new[FEATURES]
    reg, binary, multi = models["amount"], models["churn"], models["grade"]
    pred = reg.pipeline.predict(X)
    y = new["amount"].to_numpy()
    error = np.abs(y - pred)
    p_bin = binary.pipeline.predict_proba(X)
    y_bin, c_bin = new["churn"].to_numpy(), binary.pipeline.classes_
    p_multi = multi.pipeline.predict_proba(X)
    y_multi, c_multi = new["grade"].to_numpy(), multi.pipeline.classes_
    pred_multi = c_multi[p_multi.argmax(axis=1)]
    schema = {summary.name: summary for summary in reg.metadata.features}
    return [
        ("regression", "predicted_vs_actual", lambda: plots.predicted_vs_actual(y, pred)),
        ("regression", "residuals_vs_predicted", lambda: plots.residuals_vs_predicted(y, pred)),
        ("regression", "residual_distribution", lambda: plots.residual_distribution(y, pred)),
        ("regression", "error_by_feature (numeric)",
         lambda: plots.error_by_feature(X["income"], error, feature="income")),
        ("regression", "error_by_feature (500 cities)",
         lambda: plots.error_by_feature(X["city"], error, feature="city")),
        ("regression", "prediction_distribution", lambda: plots.prediction_distribution(pred)),
        ("regression", "importance_bars", lambda: plots.importance_bars(explained["imp"])),
        ("regression", "partial_dependence_plot (numeric)",
         lambda: plots.partial_dependence_plot(explained["pd_x1"], target="amount")),
        ("regression", "partial_dependence_plot (categorical)",
         lambda: plots.partial_dependence_plot(explained["pd_region"], target="amount")),
        ("both", "drift_overlay (numeric)", lambda: plots.drift_overlay(schema["x1"], X["x1"])),
        ("both", "drift_overlay (categorical)",
         lambda: plots.drift_overlay(schema["city"], X["city"])),
        ("binary", "confusion_matrix",
         lambda: plots.confusion_matrix(y_bin, c_bin[p_bin.argmax(axis=1)], labels=c_bin)),
        ("binary", "roc_curves", lambda: plots.roc_curves(y_bin, p_bin, c_bin)),
        ("binary", "precision_recall_curves",
         lambda: plots.precision_recall_curves(y_bin, p_bin, c_bin)),
        ("binary", "calibration", lambda: plots.calibration(y_bin, p_bin, c_bin)),
        ("binary", "probability_distributions",
         lambda: plots.probability_distributions(p_bin, c_bin)),
        ("binary", "threshold_curve",
         lambda: plots.threshold_curve(y_bin, p_bin[:, 1], pos_label=c_bin[1], threshold=0.4)),
        ("3-class", "confusion_matrix (normalised)",
         lambda: plots.confusion_matrix(y_multi, pred_multi, labels=c_multi, normalize=True)),
        ("3-class", "roc_curves", lambda: plots.roc_curves(y_multi, p_multi, c_multi)),
        ("3-class", "precision_recall_curves",
         lambda: plots.precision_recall_curves(y_multi, p_multi, c_multi)),
        ("3-class", "calibration", lambda: plots.calibration(y_multi, p_multi, c_multi)),
        ("3-class", "probability_distributions",
         lambda: plots.probability_distributions(p_multi, c_multi)),
    ]  # fmt: skip


def measure(build: Callable, repeat: int = 2) -> dict[str, float]:
    """The best of ``repeat`` build times, the drawn points and the JSON size of the figure."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        fig = build()
        seconds.append(time.perf_counter() - started)
    return {"s": min(seconds), "points": plots.drawn_points(fig), "json": len(fig.to_json())}


def ratios(a: dict, b: dict) -> str:
    return " ".join(f"{b[key] / a[key]:6.1f}" for key in ("s", "points", "json"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=300)
    parser.add_argument("--large", type=int, default=300_000)
    args = parser.parse_args()
    started = time.perf_counter()
    threadpool_limits(limits=1)  # a fair single-core figure on a shared machine

    training_rows = make_frame(2_000, seed=0)
    models = {target: train(training_rows, target) for target in ("amount", "churn", "grade")}
    reg = models["amount"].pipeline
    X_train = training_rows[FEATURES]
    explained = {  # lib.explain subsamples its rows itself; the figures only draw the result
        "imp": explain.feature_importance(reg, X_train, training_rows["amount"], "regression"),
        "pd_x1": explain.partial_dependence_data(reg, X_train, "x1"),
        "pd_region": explain.partial_dependence_data(reg, X_train, "region", categorical=True),
    }
    print(f"models trained on 2,000 rows in {time.perf_counter() - started:.1f} s")

    results = {}
    for n in (args.small, args.large):
        new = make_frame(n, seed=1, shift=0.3)
        for task, name, build in builders(models, new, explained):
            results.setdefault((task, name), {})[n] = measure(build)

    small, large = args.small, args.large
    head = (
        f"{'task':10s} {'builder':38s} | {f'{small:,} rows':>24s} | {f'{large:,} rows':>24s} | "
        f"{f'{large:,} / {small:,}':>22s}"
    )
    print(f"\n{head}")
    sub = f"{'':10s} {'':38s} | " + f"{'ms':>7s} {'points':>7s} {'JSON KB':>8s} | " * 2
    print(sub + f"{'time':>6s} {'points':>6s} {'JSON':>6s}")
    print("-" * len(head))
    totals = {n: {"s": 0.0, "points": 0, "json": 0} for n in (small, large)}
    worst = 0
    for (task, name), by_n in results.items():
        cells = []
        for n in (small, large):
            r = by_n[n]
            cells.append(f"{r['s'] * 1e3:7.1f} {r['points']:7,d} {r['json'] / 1e3:8.1f}")
            for key in totals[n]:
                totals[n][key] += r[key]
        a, b = by_n[small], by_n[large]
        ratio = (
            f"{b['s'] / a['s']:6.1f} {b['points'] / a['points']:6.1f} {b['json'] / a['json']:6.1f}"
        )
        print(f"{task:10s} {name:38s} | {cells[0]} | {cells[1]} | {ratio}")
        worst = max(worst, b["points"])
    print("-" * len(head))
    cells = [
        f"{t['s'] * 1e3:7.0f} {t['points']:7,d} {t['json'] / 1e3:8.1f}" for t in totals.values()
    ]
    a, b = totals[small], totals[large]
    total = f"{len(results)} figures"
    print(f"{'total':10s} {total:38s} | {cells[0]} | {cells[1]} | {ratios(a, b)}")
    verdict = "within" if worst <= plots.MAX_POINTS else "ABOVE"
    print(
        f"\nlargest figure at {large:,} rows: {worst:,} points ({verdict} the "
        f"{plots.MAX_POINTS:,} cap); whole run {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
