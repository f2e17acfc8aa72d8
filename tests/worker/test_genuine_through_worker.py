"""Every genuine model of the safe loader's corpus predicts through its worker exactly as it
does in process: predictions and, where it has them, probabilities, bit for bit."""

from __future__ import annotations

import io
import warnings

import joblib
import numpy as np
import pytest

from lib.safe_load import Limits
from lib.worker import SandboxedRunner
from tests.safe_load.corpus import build_one, corpus_ids

pytestmark = pytest.mark.slow  # ~200 models, each fitted and opened in a worker
GENEROUS = Limits(call_timeout_s=240, call_cpu_s=240, child_timeout_s=240)


def _in_process(model: object, X: object) -> tuple[np.ndarray, np.ndarray | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = np.asarray(model.predict(X))
        try:
            proba = np.asarray(model.predict_proba(X), dtype=float)
        except (AttributeError, NotImplementedError, ValueError, TypeError):
            proba = None
    return y, proba


@pytest.mark.parametrize("corpus_id", corpus_ids())
def test_the_worker_predicts_like_the_process(corpus_id: str) -> None:
    model, X = build_one(corpus_id)
    if not hasattr(model, "predict"):
        pytest.skip("a transformer: the app only asks models to predict")
    try:
        expected, expected_proba = _in_process(model, X)
    except (ValueError, TypeError, AttributeError, NotImplementedError):
        pytest.skip("it cannot predict on new rows (it only labels its training data)")
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    runner = SandboxedRunner(buffer.getvalue(), GENEROUS)
    try:
        if expected_proba is not None and expected_proba.ndim != 2:  # one table per target
            with pytest.raises(ValueError, match="several targets at once"):
                runner.run("predict", X=X, proba=True)
            return
        got = runner.run("predict", X=X, proba=expected_proba is not None)
    finally:
        runner.close()
    y = expected.ravel() if expected.ndim == 2 and expected.shape[1] == 1 else expected
    np.testing.assert_array_equal(got["y"], y)
    if expected_proba is not None:
        np.testing.assert_array_equal(got["proba"], expected_proba)
