"""Family 8: genuine fitted estimators whose parameters hold a dangerous callable.

Nothing runs at load time; the callable runs when the app calls ``predict``. The files are
written by ``joblib.dump`` of real objects (dumping stores function *references*; nothing is
called). Each estimator is fitted with a harmless function first, then the parameter is swapped.
"""

from __future__ import annotations

import builtins
import functools
import operator
import os
import subprocess

import numpy as np

from .helpers import joblib_bytes
from .registry import Target, payload

F = "delayed"

X = np.arange(40, dtype=float).reshape(20, 2)
Y = np.arange(20, dtype=float)


def _pipeline_with(func, kw_args=None, compress=None) -> bytes:
    """A fitted FunctionTransformer -> LinearRegression pipeline, then ``func`` swapped in."""
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(np.log1p, validate=True), LinearRegression())
    pipe.fit(X, Y)
    pipe[0].func = func
    if kw_args is not None:
        pipe[0].kw_args = kw_args
    return joblib_bytes(pipe, compress=compress)


@payload("delayed-FunctionTransformer-os.system", F, mentions=("system",))
def ft_os_system(t: Target) -> bytes:
    """Pipeline whose FunctionTransformer has ``func=os.system`` (called with X at predict)."""
    return _pipeline_with(os.system)


@payload("delayed-FunctionTransformer-exec", F, mentions=("exec",))
def ft_exec(t: Target) -> bytes:
    """Pipeline whose FunctionTransformer has ``func=builtins.exec``."""
    return _pipeline_with(builtins.exec, compress="zlib")


@payload("delayed-FunctionTransformer-partial-os.system", F, mentions=("system",))
def ft_partial_system(t: Target) -> bytes:
    """``func=functools.partial(os.system, 'touch MARKER')``."""
    return _pipeline_with(functools.partial(os.system, t.touch))


@payload("delayed-FunctionTransformer-methodcaller-tofile", F, mentions=("methodcaller",))
def ft_methodcaller(t: Target) -> bytes:
    """``func=operator.methodcaller('tofile', MARKER)``: predict would run
    ``X.tofile(MARKER)`` (X is a validated ndarray) and create the marker."""
    return _pipeline_with(operator.methodcaller("tofile", str(t.marker)))


@payload("delayed-FunctionTransformer-partial-numpy.save", F, mentions=("save",))
def ft_partial_save(t: Target) -> bytes:
    """``func=functools.partial(numpy.save, MARKER)``: predict would run
    ``numpy.save(MARKER, X)`` and create the marker."""
    return _pipeline_with(functools.partial(np.save, str(t.marker)), compress="bz2")


@payload("delayed-FunctionTransformer-numpy.save-sandbox", F, sandbox=True)
def ft_partial_save_sandbox(t: Target) -> bytes:
    """``func=functools.partial(numpy.save, MARKER)`` in an xz file, loaded with the sandbox."""
    return _pipeline_with(functools.partial(np.save, str(t.marker)), compress="xz")


@payload("delayed-FunctionTransformer-kw_args-Popen", F, mentions=("Popen",))
def ft_kw_args(t: Target) -> bytes:
    """FunctionTransformer with a genuine ``func`` but ``kw_args={'hook': subprocess.Popen}``."""
    return _pipeline_with(np.log1p, kw_args={"hook": subprocess.Popen, "argv": t.argv})


@payload("delayed-Scorer-score_func-os.system", F, mentions=("system",))
def scorer(t: Target) -> bytes:
    """LogisticRegressionCV whose ``scoring`` is ``_Scorer(os.system, ...)``: scoring would
    call ``os.system(y_true, y_pred)``."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics._scorer import _Scorer

    model = LogisticRegressionCV(
        cv=2, Cs=2, l1_ratios=(0.0,), scoring="accuracy", use_legacy_attributes=False
    ).fit(X, (Y > 9).astype(int))
    model.scoring = _Scorer(os.system, 1, {}, "predict")
    return joblib_bytes(model)


@payload("delayed-KNeighbors-metric-os.system", F, mentions=("system",))
def knn_metric(t: Target) -> bytes:
    """Brute-force KNeighborsClassifier whose metric is ``os.system`` (called per pair)."""
    from sklearn.neighbors import KNeighborsClassifier

    model = KNeighborsClassifier(n_neighbors=1, algorithm="brute").fit(X, (Y > 9).astype(int))
    model.metric = os.system
    model.effective_metric_ = os.system
    return joblib_bytes(model, compress="lzma")


@payload("delayed-TransformedTargetRegressor-eval", F, mentions=("eval",))
def ttr_eval(t: Target) -> bytes:
    """TransformedTargetRegressor with ``func=inverse_func=builtins.eval``."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.linear_model import LinearRegression

    model = TransformedTargetRegressor(
        regressor=LinearRegression(), func=np.log1p, inverse_func=np.expm1
    ).fit(X, Y)
    model.func = builtins.eval
    model.inverse_func = builtins.eval
    return joblib_bytes(model)


@payload("delayed-partial-getattr-__globals__", F)
def ft_partial_getattr(t: Target) -> bytes:
    """``func=functools.partial(getattr, check_array, '__globals__')``: the getattr the loader
    guards at load time, deferred to predict time, where it would hand a module's globals
    (``np``, ``joblib``...) to the next step. Only allow-listed names appear in the file."""
    from sklearn.utils.validation import check_array

    return _pipeline_with(functools.partial(getattr, check_array, "__globals__"))


@payload("delayed-partial-_codecs.encode-rot13", F, modules=("encodings.rot_13",))
def ft_partial_value_kwargs(t: Target) -> bytes:
    """``func=functools.partial(_codecs.encode, encoding='rot13')``: a guarded callable (only
    'latin1' is allowed when loading) stored for later, where any codec would be looked up."""
    import _codecs

    return _pipeline_with(functools.partial(_codecs.encode, encoding="rot13"))
