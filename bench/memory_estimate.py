"""Peak memory of train and compare jobs, measured, against ``lib.budget.estimate_memory``.

Each case runs in a fresh Python process (as a job does): it builds a generated mixed table
(bench/parallel_training.py's: 10 numeric, 3 categorical columns of 4, 20 and 2 levels, a
3-class target, or a numeric one for regression), trains or compares, and reports its peak
resident memory: ``ru_maxrss`` of the process with one worker, the sampled sum over the
process and its loky workers with more. Printed per model and size: the estimate, the
measurement and their ratio (estimate / measured; the aim is 1 to 2, never below 0.5).

    PYTHONPATH=. .venv/bin/python bench/memory_estimate.py
    PYTHONPATH=. .venv/bin/python bench/memory_estimate.py --rows 20000,100000 \
        --models random_forest,k_neighbors --kind train --jobs 1

Train runs use 2 cross-validation folds (the folds run one after another on one worker, so
their number does not change the peak, only the time).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
import warnings

CHILD_FLAG = "--child"


def _tree_rss() -> int:
    """Resident bytes of this process plus its descendants (the loky workers)."""
    import psutil

    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


def _child(case: dict) -> None:
    """Run one case here and print its peak resident bytes as JSON."""
    os.environ["MODEL_STUDIO_TRAIN_JOBS"] = str(case["jobs"])
    sys.path.insert(0, os.getcwd())
    from bench.parallel_training import table
    from lib import training

    peak = {"tree": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak["tree"] = max(peak["tree"], _tree_rss())
            done.wait(0.05)

    frame = table(case["rows"])
    if case["task"] == "regression":
        frame["target"] = frame["x0"] * 2 + frame["x1"] ** 2
    sampler = threading.Thread(target=sample, daemon=True)
    if case["jobs"] > 1:
        sampler.start()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case["kind"] == "compare":
            training.compare_models(frame, "target", model_keys=case["models"])
        else:
            options = training.Options(cv_folds=2)
            training.train(frame, "target", model=case["models"][0], options=options)
    done.set()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KB on Linux
    print(json.dumps({"peak": max(own, peak["tree"]), "seconds": time.perf_counter() - started}))


def measure(case: dict) -> dict:
    """Run ``case`` in a fresh process: {"peak": bytes, "seconds": s}."""
    out = subprocess.run(
        [sys.executable, __file__, CHILD_FLAG, json.dumps(case)],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": "."},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def estimate(case: dict) -> int:
    from lib import budget

    shape = budget.TableShape(n_numeric=10, n_categorical=3, n_levels=26, text_chars=7)
    return budget.estimate_memory(
        case["rows"], shape, case["task"], case["models"], kind=case["kind"],
        n_jobs=case["jobs"], n_classes=3 if case["task"] == "classification" else 0,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="20000,100000,300000")
    parser.add_argument("--models", default="", help="comma-separated keys (default: all)")
    parser.add_argument("--task", default="classification")
    parser.add_argument("--kind", default="train,compare")
    parser.add_argument("--jobs", default="1")
    parser.add_argument("--raw", action="store_true", help="measure only, print no estimate")
    args = parser.parse_args()
    from lib import catalog

    keys = [k for k in args.models.split(",") if k] or [
        spec.key for spec in catalog.models_for(args.task)
    ]
    for jobs in (int(j) for j in args.jobs.split(",")):
        for kind in args.kind.split(","):
            for rows in (int(r) for r in args.rows.split(",")):
                for models in [keys] if kind == "compare" else [[key] for key in keys]:
                    case = {"rows": rows, "models": models, "kind": kind, "task": args.task,
                            "jobs": jobs}  # fmt: skip
                    _report(case, measure(case), args.raw)


def _report(case: dict, found: dict, raw: bool) -> None:
    label = "compare" if case["kind"] == "compare" else case["models"][0]
    line = (
        f"{case['kind']:7} {label:24} {case['rows']:>9,} rows, {case['jobs']} job(s): "
        f"measured {found['peak'] / 2**20:7,.0f} MB ({found['seconds']:.0f} s)"
    )
    if not raw:
        guess = estimate(case)
        line += f", estimate {guess / 2**20:7,.0f} MB, ratio {guess / found['peak']:.2f}"
    print(line, flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == CHILD_FLAG:
        _child(json.loads(sys.argv[2]))
    else:
        main()
