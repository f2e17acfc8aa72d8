"""Hand-crafted model files that really crash scikit-learn's compiled code, or exhaust memory,
when they predict in the process that holds them; one per crash family (see
``test_crash_families``).

Each ``Family`` builds its model from a genuine fit whose inner state is then rewritten, and
says which rows set it off (``rows``: a table as a person would give it, mixing ordinary rows
with those that reach the crafted state) and which rows it predicts without harm (``benign``).
Every model predicts the app's own opening rows (``lib.worker._smoke``: values within ±1000)
without harm, so a worker opens it and the crash happens when the person's rows are predicted.

This module imports only numpy, pandas, joblib and scikit-learn: the in-process check runs it
in a plain interpreter, without the app's loader.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import joblib
import numpy as np
import pandas as pd

# A tree that claims this many features passes the loader's parse-time check
# (``_validate.check_tree_args`` allows up to 2**31), and may then test feature 2**31 - 1:
# a float32 row is read 8 GiB past its start.
FAR_FEATURE_COUNT = 2**31
# A neighbours label this large makes the class vote write 8 TiB past its score table.
FAR_LABEL = 2**40
# A support vector "row" of the kernel matrix this far away is read 8 GB past the test row.
FAR_SUPPORT = 10**9
# 2 columns at degree 1400 give 982,101 output columns: 2,000 rows need 14.6 GiB.
POLY_DEGREE = 1400
POLY_ROWS = 2000
# Rows whose first column is above this take the crafted trees' right branch.
SPLIT = 1e5

_X = np.arange(60, dtype=float).reshape(30, 2)
_Y = np.arange(30) % 3


@dataclass(frozen=True)
class Family:
    """One crash family: ``build()`` the crafted model, ``rows()`` that set it off,
    ``benign()`` rows it predicts without harm (None: every row sets it off).

    ``outcome`` is "crash" (a signal kills the process) or "memory" (it asks for more memory
    than any cap allows). ``frame_input``: the app hands the model a frame (named columns, or
    a model that does not say its width) rather than an array. ``refusal`` is a phrase of the
    loader's refusal when its checks are on.
    """

    name: str
    build: Callable[[], object]
    rows: Callable[[], pd.DataFrame]
    benign: Callable[[], pd.DataFrame] | None
    outcome: str
    frame_input: bool
    refusal: str

    def model_input(self, frame: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        """``frame`` as the app hands it to the model (``lib.predict.align``)."""
        return frame if self.frame_input else frame.to_numpy(dtype="float64")


def joblib_bytes(model: object) -> bytes:
    """The model file's bytes, as ``joblib.dump`` writes them."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        joblib.dump(model, buffer)
    return buffer.getvalue()


def payload(name: str) -> bytes:
    """The file of family ``name``."""
    return joblib_bytes(FAMILIES[name].build())


def _positional(values: list[list[float]]) -> pd.DataFrame:
    array = np.asarray(values, dtype=float)
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


# --- 1. neighbours: a label index far outside classes_ ----------------------------------------

_FAR_POINT = 1e6


def _knn() -> object:
    """KNeighborsClassifier (1 neighbour, brute force, manhattan) on one column whose one
    far-away training point carries label index 2**40: the compiled class vote
    (``ArgKminClassMode``) adds to ``scores[row, label]`` unchecked, for rows whose neighbour
    is that point.

    One column, because scikit-learn takes that compiled path only for C-ordered input: the
    app hands a positional model ``DataFrame.to_numpy()``, which is Fortran-ordered for two or
    more columns (scikit-learn then votes in Python and raises IndexError) but both C- and
    Fortran-ordered for one.
    """
    from sklearn.neighbors import KNeighborsClassifier

    X = np.arange(30, dtype=float).reshape(30, 1)
    X[-1] = _FAR_POINT
    model = KNeighborsClassifier(n_neighbors=1, algorithm="brute", metric="manhattan")
    model.fit(X, _Y)
    model._y = model._y.copy()
    model._y[-1] = FAR_LABEL
    return model


def _knn_rows() -> pd.DataFrame:
    return _positional([[0.0], [17.0], [_FAR_POINT], [2.0]])


def _knn_benign() -> pd.DataFrame:
    return _positional([[0.0], [1000.0], [-1000.0]])


_NUMBERS = ["age", "income"]
_FAR_CUSTOMER = (1e6, 1e9)


def _app_frame(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(20, 70, n).astype(float),
            "income": rng.uniform(2e4, 1e5, n),
            "city": rng.choice(["Lyon", "Oslo", "Quito"], n),
        }
    )


def _knn_pipeline() -> object:
    """The neighbours payload as the app would train it: named columns, a ColumnTransformer
    (one-hot city, scaled numbers; its output is C-ordered), then the classifier; the far-away
    customer's label index is 2**40."""
    from sklearn.compose import ColumnTransformer
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = _app_frame()
    frame.loc[len(frame) - 1, _NUMBERS] = _FAR_CUSTOMER
    target = np.where(np.arange(len(frame)) % 2 == 0, "no", "yes")
    prep = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["city"]),
            ("numeric", StandardScaler(), _NUMBERS),
        ]
    )
    knn = KNeighborsClassifier(n_neighbors=1, algorithm="brute", metric="manhattan")
    model = Pipeline([("prep", prep), ("knn", knn)]).fit(frame, target)
    knn._y = knn._y.copy()
    knn._y[-1] = FAR_LABEL
    return model


def _knn_pipeline_rows() -> pd.DataFrame:
    rows = _app_frame(6)
    rows.loc[3, _NUMBERS] = _FAR_CUSTOMER
    rows.loc[3, "city"] = "Oslo"
    return rows


def _knn_pipeline_benign() -> pd.DataFrame:
    rows = _app_frame(6)
    rows.loc[2, _NUMBERS] = (-1000.0, 1000.0)
    return rows


# --- 2. and 3. trees testing a feature far past the row ---------------------------------------


def _far_tree(n_classes: int) -> object:
    """A ``Tree`` claiming 2**31 features: the root sends rows with x0 <= SPLIT to a leaf, and
    the others to a node testing feature 2**31 - 1. Every node array is consistent with the
    claimed width, so the loader's parse-time node check (``_validate.build_tree``) passes."""
    from sklearn.tree._tree import NODE_DTYPE, Tree

    nodes = np.zeros(5, dtype=NODE_DTYPE)
    nodes["left_child"] = [1, -1, 3, -1, -1]
    nodes["right_child"] = [2, -1, 4, -1, -1]
    nodes["feature"] = [0, -2, FAR_FEATURE_COUNT - 1, -2, -2]
    nodes["threshold"] = [SPLIT, -2.0, 0.0, -2.0, -2.0]
    nodes["impurity"] = 0.0
    nodes["n_node_samples"] = [4, 2, 2, 1, 1]
    nodes["weighted_n_node_samples"] = [4.0, 2.0, 2.0, 1.0, 1.0]
    nodes["missing_go_to_left"] = 1
    values = np.zeros((5, 1, n_classes))
    values[:, 0, 0] = 1.0
    if n_classes == 1:
        values[:, 0, 0] = np.arange(5, dtype=float)
    tree = Tree(FAR_FEATURE_COUNT, np.array([n_classes], dtype=np.intp), 1)
    tree.__setstate__({"max_depth": 2, "node_count": 5, "nodes": nodes, "values": values})
    return tree


def _forest() -> object:
    """RandomForestClassifier (2 columns) whose member trees lost ``n_features_in_`` (so each
    skips its width check) and walk a ``_far_tree``: rows going right read far out of bounds."""
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(_X, _Y)
    for member in model.estimators_:
        member.tree_ = _far_tree(model.n_classes_)
        del member.n_features_in_
    return model


def _regressor() -> object:
    """DecisionTreeRegressor without ``n_features_in_`` (scikit-learn then skips its width
    check, and the app does not know the width either) walking a ``_far_tree``."""
    from sklearn.tree import DecisionTreeRegressor

    model = DecisionTreeRegressor(random_state=0).fit(_X, _Y.astype(float))
    model.tree_ = _far_tree(1)
    del model.n_features_in_
    return model


def _tree_rows() -> pd.DataFrame:
    return _positional([[0.0, 1.0], [1000.0, -5.0], [2 * SPLIT, 1.0], [3.0, 4.0]])


def _tree_benign() -> pd.DataFrame:
    return _positional([[0.0, 1.0], [1000.0, -1000.0], [SPLIT, 7.0]])


# --- 4. a precomputed-kernel SVC reading kernel rows that do not exist ------------------------


def _svc() -> object:
    """SVC(kernel="precomputed") whose ``support_`` all name kernel row 10**9 (of 30): libsvm
    reads each support vector's kernel value at that index of the test row. Every row reads
    every support vector, so every row crashes; ``n_features_in_`` is removed so that the
    worker's opening prediction on rows of its own (which would crash the worker while it
    opens the file) is skipped and the crash comes with the person's rows."""
    from sklearn.svm import SVC

    model = SVC(kernel="precomputed").fit(_X @ _X.T, _Y)
    model.support_ = np.full_like(model.support_, FAR_SUPPORT)
    del model.n_features_in_
    return model


def _svc_rows() -> pd.DataFrame:
    """A kernel matrix K_test (3 test rows x 30 training rows): the model's input columns."""
    test = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 11.0]])
    kernel = test @ _X.T
    return pd.DataFrame(kernel, columns=[f"k{i}" for i in range(kernel.shape[1])])


# --- 5. polynomial features asking for gigabytes ----------------------------------------------


def _polynomial() -> object:
    """Pipeline(PolynomialFeatures, LinearRegression) on 2 columns, re-set to degree 1400 with
    every width consistent (982,101 output columns, as many coefficients): 8 rows need 63 MB,
    2,000 rows 14.6 GiB."""
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import PolynomialFeatures

    model = Pipeline([("poly", PolynomialFeatures(degree=2)), ("linear", LinearRegression())])
    model.fit(_X, _X.sum(axis=1))
    poly, linear = model.named_steps["poly"], model.named_steps["linear"]
    width = PolynomialFeatures._num_combinations(2, 0, POLY_DEGREE, False, True)
    poly.degree = poly._max_degree = POLY_DEGREE
    poly.n_output_features_ = poly._n_out_full = width
    linear.coef_ = np.zeros(width)
    linear.n_features_in_ = width
    return model


def _polynomial_rows() -> pd.DataFrame:
    return _positional([[0.5, 0.25]] * POLY_ROWS)


def _polynomial_benign() -> pd.DataFrame:
    return _positional([[0.5, 0.25]] * 8)


_ALL = [
    Family(
        name="knn-label-outside-classes",
        build=_knn,
        rows=_knn_rows,
        benign=_knn_benign,
        outcome="crash",
        frame_input=False,
        refusal="labels outside its classes",
    ),
    Family(
        name="knn-label-outside-classes-pipeline",
        build=_knn_pipeline,
        rows=_knn_pipeline_rows,
        benign=_knn_pipeline_benign,
        outcome="crash",
        frame_input=True,
        refusal="labels outside its classes",
    ),
    Family(
        name="forest-tree-far-feature",
        build=_forest,
        rows=_tree_rows,
        benign=_tree_benign,
        outcome="crash",
        frame_input=False,
        refusal="does not match",
    ),
    Family(
        name="tree-without-width-far-feature",
        build=_regressor,
        rows=_tree_rows,
        benign=_tree_benign,
        outcome="crash",
        frame_input=True,  # the model does not say its width: the app hands it the table
        refusal="does not match the number of features",
    ),
    Family(
        name="svc-precomputed-support-outside-rows",
        build=_svc,
        rows=_svc_rows,
        benign=None,
        outcome="crash",
        frame_input=True,
        refusal="support vector model",
    ),
    Family(
        name="polynomial-degree-1400",
        build=_polynomial,
        rows=_polynomial_rows,
        benign=_polynomial_benign,
        outcome="memory",
        frame_input=False,
        refusal="polynomial feature step",
    ),
]
FAMILIES: dict[str, Family] = {family.name: family for family in _ALL}


def genuine_rows() -> pd.DataFrame:
    """Rows for ``genuine``'s model."""
    return _app_frame(40)[_NUMBERS]


def genuine() -> object:
    """A genuine app-style model: a scaler and a logistic regression on named columns."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = genuine_rows()
    target = np.where(frame["income"] > 6e4, "yes", "no")
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, target)
