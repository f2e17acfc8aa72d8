"""How often the stored prediction intervals and sets hold the truth on rows never trained on.

For each case, ``--seeds`` random outer splits: ``lib.training.train`` (default validation: 20 %
holdout, 5-fold CV) on 70 % of the table, then the calibration stored in the model file is
applied to the final model's predictions on the other 30 %. Prints the mean coverage at each
level (and its spread over splits), the mean width or set size at 90 %, and the seconds taken.

    PYTHONPATH=. .venv/bin/python bench/conformal_coverage.py
    PYTHONPATH=. .venv/bin/python bench/conformal_coverage.py --seeds 5 --cases gapminder-hgb
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

from lib import conformal, training
from lib.metadata import read_metadata
from lib.samples import load_sample

CASES = {
    "diabetes-ridge": ("diabetes", "progression", "ridge", None),
    "gapminder-ridge": ("gapminder", "lifeExp", "ridge", None),
    "gapminder-ridge-no-country": (
        "gapminder", "lifeExp", "ridge", ["continent", "year", "pop", "gdpPercap"],
    ),
    "gapminder-hgb": ("gapminder", "lifeExp", "hist_gradient_boosting", None),
    "digits-logistic": ("digits", "target", "logistic_regression", None),
    "breast_cancer-logistic": ("breast_cancer", "diagnosis", "logistic_regression", None),
    "wine-logistic": ("wine", "cultivar", "logistic_regression", None),
}  # fmt: skip
LEVELS = (0.5, 0.8, 0.9, 0.95)


def coverage(name, target, model, features, seeds):
    frame = datasets.load_digits(as_frame=True).frame if name == "digits" else load_sample(name)
    shares = {level: [] for level in LEVELS}
    sizes = []
    for seed in range(seeds):
        inner, outer = train_test_split(frame, test_size=0.3, random_state=seed)
        options = training.Options(random_state=seed, check_leakage=False)
        result = training.train(inner, target, model=model, features=features, options=options)
        calibration = read_metadata(result.pipeline).metadata.prediction_intervals
        pipeline = result.pipeline
        for level in LEVELS:
            if result.task == "regression":
                found = conformal.coverage(calibration, level, outer[target],
                                           pipeline.predict(outer))  # fmt: skip
            else:
                found = conformal.coverage(calibration, level, outer[target],
                                           proba=pipeline.predict_proba(outer),
                                           classes=pipeline.classes_)  # fmt: skip
            shares[level].append(found.share)
            if level == 0.9:
                sizes.append(found.mean_width if found.mean_width is not None
                             else found.mean_set_size)  # fmt: skip
    return shares, float(np.mean(sizes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    for case in args.cases.split(","):
        started = time.perf_counter()
        shares, size = coverage(*CASES[case], args.seeds)
        figures = "  ".join(
            f"{level:.0%}: {np.mean(v):.1%} (sd {np.std(v):.1%})" for level, v in shares.items()
        )
        print(f"{case:28s} {figures}  at 90 % mean width/set size {size:.3g}  "
              f"[{time.perf_counter() - started:.0f} s]", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
