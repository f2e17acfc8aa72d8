"""Fixtures for the safe loader tests."""

from __future__ import annotations

import io
import warnings

import joblib
import pytest

from .corpus import build_one

REPRESENTATIVE = [
    "pipe-column-rf",
    "hgb-early-stopping-scorer",
    "hgb-categorical-from-dtype",
    "knn-kd_tree",
    "gb-string-labels",
    "search-grid",
]


@pytest.fixture(scope="session")
def representative() -> dict[str, tuple[object, object]]:
    """``{id: (fitted_model, X)}`` for a few models that exercise most of the format."""
    return {cid: build_one(cid) for cid in REPRESENTATIVE}


@pytest.fixture
def dump():
    """``dump(model, compress=0, protocol=None) -> bytes`` via joblib.dump into memory."""

    def _dump(model: object, compress: object = 0, protocol: int | None = None) -> bytes:
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            joblib.dump(model, buf, compress=compress, protocol=protocol)
        return buf.getvalue()

    return _dump


@pytest.fixture(scope="session", autouse=True)
def _single_threaded_native_code():
    """Keep OpenMP/BLAS to one thread: the machine is shared and the models are tiny."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
