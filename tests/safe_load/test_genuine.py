"""Genuine scikit-learn files load through load_model and predict exactly like joblib.load.

Also: limits (bombs, huge declared sizes), damaged input, crafted tree state and the sandbox.
"""

from __future__ import annotations

import io
import os
import pickle
import random
import struct
import tracemalloc
import warnings
import zlib

import joblib
import numpy as np
import pytest
import sklearn
import sklearn.base

from lib.errors import ModelFileError, UnsafeModelError
from lib.safe_load import Limits, LoadedModel, load_model
from lib.safe_load._sandbox import check_in_child

from .conftest import REPRESENTATIVE
from .corpus import COLUMN_SELECTORS, build_one, corpus_ids, model_output

COMPRESSIONS = [0, 3, ("zlib", 3), ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3), ("lz4", 3)]
COMPRESSION_NAMES = ["none", "zlib", "zlib", "gzip", "bz2", "lzma", "xz", "lz4"]


def assert_same_predictions(data: bytes, X: object) -> LoadedModel:
    """Load ``data`` safely and plainly; assert every output is identical."""
    loaded = load_model(data, sandbox=False)
    reference = joblib.load(io.BytesIO(data))  # our own file, made by this test
    got, expected = model_output(loaded.model, X), model_output(reference, X)
    assert len(got) == len(expected) > 0
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    return loaded


@pytest.mark.slow
@pytest.mark.parametrize("corpus_id", corpus_ids())
def test_corpus_default_joblib_dump(corpus_id: str, dump) -> None:
    model, X = build_one(corpus_id)
    loaded = assert_same_predictions(dump(model), X)
    assert loaded.compression == "none"
    assert loaded.file_sklearn_version == sklearn.__version__
    assert loaded.running_sklearn_version == sklearn.__version__
    assert loaded.warnings == []


@pytest.mark.parametrize("corpus_id", REPRESENTATIVE)
@pytest.mark.parametrize(
    ("compress", "name"), list(zip(COMPRESSIONS, COMPRESSION_NAMES, strict=True)), ids=str
)
def test_compressions(corpus_id: str, compress: object, name: str, representative, dump) -> None:
    model, X = representative[corpus_id]
    loaded = assert_same_predictions(dump(model, compress=compress), X)
    assert loaded.compression == name


@pytest.mark.parametrize("corpus_id", REPRESENTATIVE)
@pytest.mark.parametrize("protocol", range(6))
def test_plain_pickle_protocols(corpus_id: str, protocol: int, representative) -> None:
    model, X = representative[corpus_id]
    loaded = assert_same_predictions(pickle.dumps(model, protocol=protocol), X)
    assert loaded.pickle_protocol == (protocol if protocol >= 2 else None)


@pytest.mark.parametrize("protocol", range(6))
def test_joblib_dump_protocols(protocol: int, representative, dump) -> None:
    """joblib.dump(protocol=0 or 1) writes its array headers with copyreg._reconstructor."""
    model, X = representative["pipe-column-rf"]
    loaded = assert_same_predictions(dump(model, protocol=protocol), X)
    assert loaded.pickle_protocol == (protocol if protocol >= 2 else None)


@pytest.mark.slow
def test_joblib_tutorial_linear_regression(tmp_path) -> None:
    from sklearn.linear_model import LinearRegression

    X = np.array([[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 3.0]])
    model = LinearRegression().fit(X, X @ np.array([1.0, 2.0]) + 3.0)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = load_model(path.read_bytes())  # sandbox on: the default
    np.testing.assert_array_equal(loaded.model.predict(X), model.predict(X))
    assert loaded.pickle_protocol == pickle.DEFAULT_PROTOCOL


def test_sandboxed_load_of_pipeline(representative, dump) -> None:
    model, X = representative["pipe-column-rf"]
    loaded = load_model(dump(model, compress=3), sandbox=True)
    np.testing.assert_array_equal(loaded.model.predict(X), model.predict(X))


def test_other_sklearn_version_warns(monkeypatch, dump) -> None:
    model, _ = build_one("pipe-column-rf")
    monkeypatch.setattr(sklearn.base, "__version__", "1.5.2")
    data = dump(model)
    monkeypatch.undo()
    loaded = load_model(data, sandbox=False)
    assert loaded.file_sklearn_version == "1.5.2"
    assert loaded.warnings == [
        f"This file was written with scikit-learn 1.5.2; this app runs {sklearn.__version__}. "
        "Predictions may differ or fail; re-train or re-save the model with "
        f"{sklearn.__version__} if you can."
    ]


# ---- limits ------------------------------------------------------------------------------------

SMALL = Limits(max_inflated_bytes=1 << 20, max_item_bytes=1 << 20)


def _refused_cheaply(data: bytes, limits: Limits = SMALL) -> ModelFileError:
    """Refused without ever holding what the file declares (peak memory, not time, is checked:
    time depends on how busy the machine is)."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as info:
            load_model(data, limits=limits, sandbox=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * (1 << 20)
    return info.value


@pytest.mark.slow
@pytest.mark.parametrize("method", ["zlib", "gzip", "lzma", "xz", "bz2", "lz4"])
def test_decompression_bomb_refused(method: str) -> None:
    raw = b"\x00" * (64 << 20)
    buf = io.BytesIO()
    joblib.dump(raw, buf, compress=(method, 3))
    error = _refused_cheaply(buf.getvalue())
    assert "too big" in str(error)


def test_huge_declared_array_refused() -> None:
    from joblib.numpy_pickle import NumpyArrayWrapper

    wrapper = NumpyArrayWrapper(np.ndarray, (10**6, 10**6), "C", np.dtype("f8"))
    error = _refused_cheaply(pickle.dumps(wrapper, protocol=4), Limits())
    assert "too big" in str(error)


def test_array_larger_than_file_refused() -> None:
    from joblib.numpy_pickle import NumpyArrayWrapper

    wrapper = NumpyArrayWrapper(np.ndarray, (1000,), "C", np.dtype("f8"))
    _refused_cheaply(pickle.dumps(wrapper, protocol=4), Limits())


def test_garbage_declaring_a_huge_frame_is_damaged_not_too_big() -> None:
    """A few bytes of text after a pickle header read as a frame of quintillions of bytes: the
    file is damaged (check it, upload it again), not a model too big for the server's limits."""
    with pytest.raises(ModelFileError) as refused:
        load_model(b"\x80\x04\x95 this is not a model at all", sandbox=False)
    assert "cannot be read" in str(refused.value) and "too big" not in str(refused.value)


@pytest.mark.parametrize("opcode", [b"\x8e", b"\x96", b"\x8d"])  # BINBYTES8, BYTEARRAY8, UNICODE8
def test_huge_declared_bytes_refused(opcode: bytes) -> None:
    data = b"\x80\x05" + opcode + struct.pack("<Q", 2**40) + b"x" * 16 + b"."
    _refused_cheaply(data, Limits())


def test_huge_frame_refused() -> None:
    data = b"\x80\x04\x95" + struct.pack("<Q", 2**40) + b"N."
    _refused_cheaply(data, Limits())


def test_limits_from_env() -> None:
    env = {"MODEL_STUDIO_MAX_MODEL_BYTES": "1000", "MODEL_STUDIO_CHILD_TIMEOUT_SECONDS": "2.5"}
    limits = Limits.from_env(env)
    assert limits.max_file_bytes == 1000
    assert limits.child_timeout_s == 2.5
    assert limits.max_objects == Limits().max_objects
    with pytest.raises(ValueError):
        Limits.from_env({"MODEL_STUDIO_MAX_DEPTH": "deep"})


def test_file_over_size_limit_refused(dump) -> None:
    model, _ = build_one("tutorial-linear-regression")
    with pytest.raises(ModelFileError, match="too big"):
        load_model(dump(model), limits=Limits(max_file_bytes=100), sandbox=False)


# ---- damaged input -----------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [0, 3, ("lzma", 3)], ids=str)
def test_truncated_files(compress: object, representative, dump) -> None:
    data = dump(representative["pipe-column-rf"][0], compress=compress)
    for cut in (0, 1, 2, 10, len(data) // 3, len(data) // 2, len(data) - 1):
        with pytest.raises(ModelFileError):
            load_model(data[:cut], sandbox=False)


def test_random_bytes_and_mutations_only_raise_model_file_errors(representative, dump) -> None:
    rng = random.Random(0)
    samples = [os.urandom(rng.randint(1, 400)) for _ in range(150)]
    base = dump(representative["knn-kd_tree"][0])
    for _ in range(250):
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        samples.append(bytes(data))
    samples += [b"\x80\x05.", b"N.", b"\x80\x04\x95", b"(((((((((t.", b"PK\x03\x04rest", b"ZF0x"]
    for data in samples:
        try:
            load_model(data, sandbox=False)
        except ModelFileError:
            continue


def test_not_a_model() -> None:
    with pytest.raises(ModelFileError, match="holds a dict, not a scikit-learn model"):
        load_model(pickle.dumps({"weights": [1, 2]}), sandbox=False)


@pytest.mark.parametrize("data", [b"\x80\x02N)R.", b"\x80\x02N)\x81."], ids=["call", "create"])
def test_none_as_the_callable_or_class_is_a_damaged_file(data: bytes) -> None:
    """REDUCE / NEWOBJ on None: a malformed stream, not a refused gadget."""
    with pytest.raises(ModelFileError, match="not a complete joblib or pickle") as info:
        load_model(data, sandbox=False)
    assert not isinstance(info.value, UnsafeModelError)


def test_legacy_formats_refused() -> None:
    with pytest.raises(ModelFileError, match=r"0\.10"):
        load_model(b"ZF0x" + zlib.compress(b"junk"), sandbox=False)
    legacy = b"\x80\x04cjoblib.numpy_pickle\nNDArrayWrapper\n)\x81."
    with pytest.raises(ModelFileError, match=r"0\.10"):
        load_model(legacy, sandbox=False)


def test_unlisted_callable_refused_before_anything_runs() -> None:
    class Payload:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    with pytest.raises(UnsafeModelError, match=r"call posix\.system"):
        load_model(pickle.dumps(Payload(), protocol=2), sandbox=False)


# ---- crafted compiled-model state --------------------------------------------------------------


def _pickle_with_tree_edit(model: object, edit) -> bytes:
    from sklearn.tree._tree import Tree

    class Editing(pickle.Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, Tree):
                func, args, state = obj.__reduce__()
                state = dict(state)
                state["nodes"] = state["nodes"].copy()
                edit(state)
                return func, args, state
            return NotImplemented

    buf = io.BytesIO()
    Editing(buf, protocol=4).dump(model)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("field", "value"),
    [("left_child", 10**6), ("right_child", 0), ("feature", 999), ("left_child", -5)],
)
def test_crafted_tree_refused(field: str, value: int) -> None:
    model, _ = build_one("est-DecisionTreeClassifier")

    def edit(state: dict) -> None:
        state["nodes"][field][0] = value

    with pytest.raises(UnsafeModelError, match="decision tree"):
        load_model(_pickle_with_tree_edit(model, edit), sandbox=False)


def test_crafted_tree_node_count_refused() -> None:
    model, _ = build_one("est-DecisionTreeRegressor")

    def edit(state: dict) -> None:
        state["node_count"] = state["node_count"] + 50

    with pytest.raises(UnsafeModelError, match="decision tree"):
        load_model(_pickle_with_tree_edit(model, edit), sandbox=False)


def test_tree_node_pointing_outside_message() -> None:
    model, _ = build_one("est-DecisionTreeClassifier")

    def edit(state: dict) -> None:
        state["nodes"]["left_child"][0] = 10**6

    with pytest.raises(UnsafeModelError, match="has a node pointing outside the tree"):
        load_model(_pickle_with_tree_edit(model, edit), sandbox=False)


# ---- sandbox -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("crash", ["segfault", "abort"])
def test_sandbox_turns_crash_into_refusal(crash: str, dump) -> None:
    model, _ = build_one("tutorial-linear-regression")
    with pytest.raises(UnsafeModelError, match="crashed the isolated process"):
        check_in_child(dump(model), Limits(), _test_crash=crash)


@pytest.mark.slow
def test_sandbox_turns_hang_into_refusal(dump) -> None:
    model, _ = build_one("tutorial-linear-regression")
    # The child sleeps for hours: only the 1 s timeout can end this, and its message says so.
    with pytest.raises(UnsafeModelError, match="did not finish"):
        check_in_child(dump(model), Limits(child_timeout_s=1), _test_crash="hang")


@pytest.mark.slow
def test_sandbox_turns_out_of_memory_into_refusal(dump) -> None:
    model, _ = build_one("tutorial-linear-regression")
    with pytest.raises(ModelFileError, match="memory"):
        check_in_child(dump(model), Limits(), _test_crash="memory")


def test_sandbox_reports_refusals_from_child() -> None:
    with pytest.raises(ModelFileError, match="holds a list"):
        load_model(pickle.dumps([1, 2, 3]), sandbox=True)


# ---- BUILD discipline (hand-written protocol-2 streams) ------------------------------------------

LINREG = b"csklearn.linear_model._base\nLinearRegression\n"


def test_build_on_a_class_refused() -> None:
    with pytest.raises(UnsafeModelError, match="change the inner state"):
        load_model(b"\x80\x02" + LINREG + b"}b.", sandbox=False)


def test_second_build_on_one_object_refused() -> None:
    data = b"\x80\x02" + LINREG + b")\x81q\x01}bh\x01}b."
    with pytest.raises(UnsafeModelError, match="change the inner state"):
        load_model(data, sandbox=False)


def test_dtype_cannot_change_after_an_array_uses_it() -> None:
    dtype = b"cnumpy\ndtype\nX\x02\x00\x00\x00V8\x89\x88\x87Rq\x00"
    array = (
        b"cnumpy._core.numeric\n_frombuffer\n(C\x08AAAAAAAA"
        + dtype
        + b"K\x01\x85X\x01\x00\x00\x00Ct"
    )
    state = b"(K\x03X\x01\x00\x00\x00|NNNK\x08K\x08K?t"
    data = b"\x80\x02" + array + b"R0h\x00" + state + b"b."
    with pytest.raises(UnsafeModelError, match="change the inner state"):
        load_model(data, sandbox=False)


@pytest.mark.parametrize(
    "options",
    [
        {"degree": 3},
        {"degree": (2, 4), "interaction_only": True},
        {"degree": 2, "include_bias": False},
    ],
)
def test_genuine_polynomial_pipelines_pass_the_width_check(options):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    from lib.safe_load import load_model

    X = np.random.default_rng(0).normal(size=(50, 6))
    model = make_pipeline(PolynomialFeatures(**options), Ridge()).fit(X, X.sum(axis=1))
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    loaded = load_model(buffer.getvalue(), sandbox=False).model
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))


# ---- genuine files that were once refused ------------------------------------------------------


def _assert_methods_match(loaded: object, reference: object, X: object, methods: list[str]):
    """Each named method gives the same output on ``X`` for both copies (none may be skipped)."""
    for method in methods:
        np.testing.assert_array_equal(getattr(loaded, method)(X), getattr(reference, method)(X))


@pytest.mark.parametrize("sandbox", [False, True], ids=["in-process", "sandbox"])
@pytest.mark.parametrize("corpus_id", ["svc-precomputed-kernel", "svr-precomputed-kernel"])
def test_precomputed_kernel_svm(corpus_id: str, sandbox: bool, dump) -> None:
    """SVC / SVR(kernel="precomputed") store ``support_vectors_`` of shape (0, 0); libsvm counts
    their support vectors by ``support_`` instead."""
    model, K_test = build_one(corpus_id)
    data = dump(model)
    loaded = load_model(data, sandbox=sandbox).model
    reference = joblib.load(io.BytesIO(data))  # our own file, made by this test
    assert loaded.support_vectors_.shape == (0, 0)
    methods = ["predict"]
    if corpus_id.startswith("svc"):
        methods += ["decision_function", "predict_proba"]
    _assert_methods_match(loaded, reference, K_test, methods)


SELECTOR_IDS = [f"pipe-column-selector-{kind}" for kind in COLUMN_SELECTORS]


@pytest.mark.parametrize("sandbox", [False, True], ids=["in-process", "sandbox"])
@pytest.mark.parametrize(
    "protocol", [0, 1, 2, None], ids=["protocol-0", "protocol-1", "protocol-2", "default"]
)
@pytest.mark.parametrize("corpus_id", SELECTOR_IDS)
def test_column_selector_pipeline(corpus_id: str, protocol: int | None, sandbox: bool, dump):
    """make_column_selector keeps numpy scalar types (numpy.number, numpy.floating), Python
    types and dtype names as its dtype_include / dtype_exclude, and may hold a name pattern."""
    from sklearn.compose import make_column_selector

    model, X = build_one(corpus_id)
    data = dump(model, protocol=protocol)
    loaded = load_model(data, sandbox=sandbox).model
    reference = joblib.load(io.BytesIO(data))  # our own file, made by this test
    _assert_methods_match(loaded, reference, X, ["predict", "predict_proba", "decision_function"])
    selectors = [columns for _, _, columns in loaded.steps[0][1].transformers]
    expected = [columns for _, _, columns in reference.steps[0][1].transformers]
    for got, want in zip(selectors, expected, strict=True):
        assert type(got) is make_column_selector
        assert vars(got) == vars(want)  # the same types (by identity), names and patterns
        with warnings.catch_warnings():  # pandas' notes on how "object" selects text columns
            warnings.simplefilter("ignore")
            assert list(got(X)) == list(want(X))
