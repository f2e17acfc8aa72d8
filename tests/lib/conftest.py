"""Shared fixtures for the lib tests: real sample tables and cached, fast training runs.

Training every catalog model is the slow part of this suite, so ``trained`` caches results
per (sample, model) for the whole session; tests that mutate a result must copy first.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from lib import catalog, samples, training
from lib.catalog import ModelSpec
from lib.training import Options, TrainingResult

# One native thread per test process: HistGradientBoosting's OpenMP threads otherwise fight
# over the shared cores (and pytest-xdist workers) and run 100x slower.
_THREAD_LIMIT = threadpool_limits(limits=1)

# Small settings so every catalog model fits in well under a second on the sample tables.
FAST_PARAMS = {"n_estimators": 10, "max_iter": 30}


def fast_params(spec: ModelSpec) -> dict:
    """The FAST_PARAMS that ``spec`` accepts (MLP keeps enough epochs to be sensible)."""
    names = {p.name for p in spec.params}
    params = {name: value for name, value in FAST_PARAMS.items() if name in names}
    if spec.key == "mlp":
        params["max_iter"] = 100
    return params


@pytest.fixture(scope="session")
def sample_frames() -> dict[str, pd.DataFrame]:
    """Every bundled sample table, loaded once (use ``sample`` for a private copy)."""
    return {key: samples.load_sample(key) for key in samples.SAMPLES}


@pytest.fixture
def sample(sample_frames) -> Callable[[str], pd.DataFrame]:
    """A fresh copy of sample table ``key``, safe to modify."""
    return lambda key: sample_frames[key].copy()


@pytest.fixture(scope="session")
def fast_options() -> Callable[..., Options]:
    """Options with 3 folds and the fast parameters for ``spec``."""

    def make(spec: ModelSpec, **overrides) -> Options:
        return Options(cv_folds=3, params=fast_params(spec), **overrides)

    return make


@pytest.fixture(scope="session")
def trained(sample_frames, fast_options) -> Callable[[str, str], TrainingResult]:
    """``trained(sample_key, model_key)``: a cached fast training run on a sample table."""
    cache: dict[tuple[str, str], TrainingResult] = {}

    def get(sample_key: str, model_key: str) -> TrainingResult:
        if (sample_key, model_key) not in cache:
            frame = sample_frames[sample_key]
            target = samples.SAMPLES[sample_key].target
            task = catalog.infer_task(frame[target])
            spec = catalog.get_model(task, model_key)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence warnings of the tiny settings
                cache[(sample_key, model_key)] = training.train(
                    frame, target, model=model_key, options=fast_options(spec)
                )
        return cache[(sample_key, model_key)]

    return get
