"""Memory estimates, free memory and the advice built from them (lib.budget)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from lib import budget, catalog
from lib.budget import TableShape, estimate_memory, memory_advice
from lib.schema import CLASSIFICATION, REGRESSION

SHAPE = TableShape(n_numeric=10, n_categorical=3, n_levels=26, text_chars=7)
GB = 2**30


def _estimate(rows=100_000, shape=SHAPE, keys=("random_forest",), kind="train", jobs=1):
    return estimate_memory(rows, shape, CLASSIFICATION, list(keys), kind=kind, n_jobs=jobs,
                           n_classes=3)  # fmt: skip


@pytest.mark.parametrize("key", [spec.key for spec in catalog.CLASSIFIERS])
def test_the_estimate_grows_with_rows_and_columns(key):
    wider = TableShape(n_numeric=40, n_categorical=6, n_levels=90, text_chars=7)
    assert (
        _estimate(20_000, keys=[key])
        < _estimate(100_000, keys=[key])
        < _estimate(300_000, keys=[key])
    )
    assert _estimate(keys=[key], shape=wider) > _estimate(keys=[key])


def test_compare_needs_more_than_one_cheap_model_and_workers_add():
    every = [spec.key for spec in catalog.CLASSIFIERS]
    assert _estimate(keys=every, kind="compare") > _estimate(keys=["gaussian_nb"], kind="train")
    assert _estimate(jobs=2) > _estimate(jobs=1)
    assert _estimate(keys=every, kind="compare", jobs=2) > _estimate(keys=every, kind="compare")


def test_a_forest_of_more_trees_needs_more():
    few = estimate_memory(50_000, SHAPE, REGRESSION, ["random_forest"],
                          params={"n_estimators": 20})  # fmt: skip
    assert few < estimate_memory(50_000, SHAPE, REGRESSION, ["random_forest"])


def test_advice_is_none_when_the_job_fits():
    assert memory_advice(1 * GB, 4 * GB, 100_000) is None


def _rows_named(advice: str) -> int:
    found = re.search(r"Sample the table to ([\d,]+) rows", advice)
    assert found, advice
    return int(found.group(1).replace(",", ""))


def test_advice_names_a_sample_size_that_fits():
    # A train job on one worker: memory_advice's own scaling is enough.
    estimate = _estimate(1_000_000)
    available = estimate // 3
    advice = memory_advice(estimate, available, 1_000_000)
    assert advice is not None and "MODEL_STUDIO_DASK_SCHEDULER" in advice
    rows = _rows_named(advice)
    assert 0 < rows < 1_000_000 and len(str(rows).rstrip("0")) <= 2  # a friendly number
    assert memory_advice(_estimate(rows), available, rows) is None


@pytest.mark.parametrize(("kind", "jobs"), [("train", 2), ("compare", 1), ("compare", 2)])
def test_job_advice_names_a_sample_size_that_fits_any_job(kind, jobs):
    keys = [spec.key for spec in catalog.CLASSIFIERS] if kind == "compare" else ["random_forest"]
    available = _estimate(200_000, keys=keys, kind=kind, jobs=jobs)
    advice = budget.job_advice(1_000_000, SHAPE, CLASSIFICATION, keys, kind=kind, n_jobs=jobs,
                               n_classes=3, available=available)  # fmt: skip
    assert advice is not None
    rows = _rows_named(advice)
    assert 0 < rows < 200_000
    assert memory_advice(_estimate(rows, keys=keys, kind=kind, jobs=jobs), available, rows) is None
    fits = budget.job_advice(1_000, SHAPE, CLASSIFICATION, keys, kind=kind, n_jobs=jobs,
                             n_classes=3, available=available)  # fmt: skip
    assert fits is None


def test_when_no_sample_fits_the_advice_says_to_choose_a_lighter_model():
    advice = memory_advice(8 * GB, 100 * 2**20, 1_000_000)
    assert advice is not None and "Choose a lighter model" in advice


def test_sizes_in_the_advice_read_as_a_person_writes_them():
    advice = memory_advice(int(3.1 * GB), int(2.4 * GB), 500_000)
    assert advice is not None and advice.startswith("This job needs about 3.1 GB; 2.4 GB is free.")


def test_available_memory_is_positive_and_within_the_machine():
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < budget.available_memory() <= total


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        _estimate(kind="predict")


_CHILD = textwrap.dedent(
    """
    import json, os, sys, warnings
    import numpy as np, pandas as pd
    from lib import training

    rng = np.random.default_rng(0)
    n = 25_000
    frame = pd.DataFrame(rng.normal(size=(n, 10)), columns=[f"x{i}" for i in range(10)])
    for i, levels in enumerate((4, 20, 2)):
        frame[f"c{i}"] = pd.array([f"level {v}" for v in rng.integers(0, levels, n)], dtype="str")
    frame["target"] = np.where(frame["x0"] + rng.normal(size=n) > 0, "yes", "no")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        training.train(frame, "target", model=sys.argv[1],
                       options=training.Options(cv_folds=2, params=json.loads(sys.argv[2])))
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a big pytest
    # worker would report the worker's peak.
    status = open("/proc/self/status").read()
    print(int(status.split("VmHWM:")[1].split()[0]) * 1024)
    """
)


@pytest.mark.parametrize(
    ("key", "params"), [("random_forest", {"n_estimators": 30}), ("k_neighbors", {})]
)
def test_a_real_training_run_stays_under_its_estimate(key, params):
    env = {**os.environ, "PYTHONPATH": ".", "MODEL_STUDIO_TRAIN_JOBS": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD, key, json.dumps(params)],
                         capture_output=True, text=True, check=True, env=env)  # fmt: skip
    measured = int(out.stdout.strip().splitlines()[-1])
    shape = TableShape(n_numeric=10, n_categorical=3, n_levels=26, text_chars=8)
    estimate = estimate_memory(25_000, shape, CLASSIFICATION, [key], params=params)
    # Memory, not time: the same on a busy machine. The estimate errs high, within reason.
    assert measured < estimate < 4 * measured


def test_the_jobs_memory_setting_caps_what_counts_as_free(monkeypatch):
    from lib import budget

    monkeypatch.setenv(budget.JOB_MEMORY_VARIABLE, "300")
    assert budget.available_memory() <= 300 * budget.MB
    monkeypatch.setenv(budget.JOB_MEMORY_VARIABLE, "lots")
    with pytest.raises(ValueError, match="MODEL_STUDIO_JOB_MEMORY_MB"):
        budget.available_memory()
