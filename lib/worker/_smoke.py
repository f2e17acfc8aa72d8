"""The first predictions a model from outside makes: on rows the app builds itself.

The rows come from the parsed description (column names and kinds) and from fixed values
chosen here, never from values stored in the file, so a crafted file cannot steer them away
from a path that crashes. They exercise ``predict`` and, for a classifier, ``predict_proba``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from lib.model_info import ModelInfo
from lib.model_ops import predict

NUMBERS = (0.0, 1.0, -1.0, 0.5, 10.0, -10.0, 1000.0, -1000.0)
TEXTS = ("a", "", "0", "other", "A", "b", "x y", "1")
DATES = pd.to_datetime(["2000-01-01", "2024-06-30", "1970-01-01", "2038-01-19"] * 2)
MAX_SMOKE_FEATURES = 100_000


def smoke_rows(info: ModelInfo) -> pd.DataFrame | np.ndarray | None:
    """Eight rows for the model (a frame for named columns, an array for positional ones), or
    None when it does not say what it expects."""
    if info.features is None or len(info.features) > MAX_SMOKE_FEATURES:
        return None
    if not info.named_features:
        return np.tile(np.asarray(NUMBERS)[:, None], (1, len(info.features)))
    columns: dict[str, Any] = {}
    for feature in info.features:
        if feature.kind == "categorical":
            columns[feature.name] = list(TEXTS)
        elif feature.kind == "datetime":
            columns[feature.name] = DATES
        else:
            columns[feature.name] = list(NUMBERS)
    return pd.DataFrame(columns)


def smoke_failure(model: object, info: ModelInfo) -> str | None:
    """Predict on ``smoke_rows``; what went wrong in plain words, or None.

    Only a model whose columns' kinds are known (the app's record) can be blamed for an
    error: a model saved elsewhere may rightly refuse invented values (an encoder that rejects
    unknown categories), so its errors are not reported. A crash is caught by the caller: it
    kills the worker process.
    """
    rows = smoke_rows(info)
    if rows is None or not hasattr(model, "predict"):
        return None
    try:
        # Eight rows need no threads: on a busy machine each of a boosted model's many small
        # parallel sections waits for a free core (425 ms with two threads, 62 ms with one).
        with threadpool_limits(limits=1):
            predict(model, rows, proba=info.has_proba)
    except Exception as error:
        if info.metadata is None:
            return None
        return f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
    return None
