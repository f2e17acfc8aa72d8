"""Genuine scikit-learn models for the safe loader's tests and benchmarks.

``genuine_corpus()`` returns ``list[tuple[str, object, object]]``: (id, fitted model, input rows
to predict/transform with). ``corpus_ids()`` lists the ids without fitting anything, so pytest
can parametrize over them; ``build_one(id)`` fits one. ``SKIPPED`` maps the estimators of
``sklearn.utils.all_estimators()`` that are left out to the reason.

``model_output(model, X)`` is what the tests compare between a safely loaded and a plainly
``joblib.load``ed copy.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

RNG_SEED = 0
N_ROWS = 60
N_FEATURES = 4

# Estimators that cannot be fitted on a plain numeric table with default parameters.
SKIPPED: dict[str, str] = {
    "DictVectorizer": "takes a list of dicts, not a table",
    "FeatureHasher": "takes dicts or strings, not a table",
    "HashingVectorizer": "takes raw text",
    "PatchExtractor": "takes images",
    "LabelBinarizer": "fitted on target labels only (LabelEncoder covers the case)",
    "MultiLabelBinarizer": "fitted on sets of labels only",
}

TASKS = ("classifier", "regressor", "transformer", "cluster")


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.RandomState(RNG_SEED)
    X = rng.uniform(0.0, 3.0, size=(N_ROWS, N_FEATURES))
    y_cls = (X[:, 0] + X[:, 1] + rng.normal(scale=0.3, size=N_ROWS) > 3.0).astype(int)
    y_reg = X @ np.array([1.5, -2.0, 0.5, 1.0]) + rng.normal(scale=0.1, size=N_ROWS)
    return X, y_cls, y_reg


def _mixed_frame() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.RandomState(RNG_SEED)
    n = 120
    df = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, n),
            "income": rng.lognormal(10, 1, n),
            "city": rng.choice(["Paris", "Lyon", "Nice"], n),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )
    df.loc[::7, "age"] = np.nan
    df.loc[::11, "city"] = np.nan
    y_cls = np.where(df["income"] > df["income"].median(), "yes", "no")
    y_reg = df["age"].fillna(40).to_numpy() * 2.0 + rng.normal(size=n)
    return df, y_cls, y_reg


def _meta_params(name: str) -> dict:
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    clf = LogisticRegression()
    if name in ("ClassifierChain", "MultiOutputClassifier"):
        return {"estimator": clf}
    if name in ("MultiOutputRegressor", "RegressorChain"):
        return {"estimator": Ridge()}
    if name in (
        "FixedThresholdClassifier",
        "OneVsOneClassifier",
        "OneVsRestClassifier",
        "OutputCodeClassifier",
        "TunedThresholdClassifierCV",
    ):
        return {"estimator": clf}
    if name in ("RFE", "RFECV", "SelectFromModel", "SequentialFeatureSelector"):
        return {"estimator": LinearRegression()}
    if name == "SelfTrainingClassifier":
        return {"estimator": DecisionTreeClassifier(random_state=0)}
    if name == "ColumnTransformer":
        return {"transformers": [("scale", StandardScaler(), [0, 1]), ("pass", "passthrough", [2])]}
    if name == "FeatureUnion":
        from sklearn.decomposition import PCA

        return {"transformer_list": [("pca", PCA(n_components=2)), ("scale", StandardScaler())]}
    if name == "SparseCoder":
        rng = np.random.RandomState(0)
        return {"dictionary": rng.normal(size=(3, N_FEATURES))}
    if name == "StackingClassifier":
        return {"estimators": [("lr", clf), ("dt", DecisionTreeClassifier(random_state=0))]}
    if name == "VotingClassifier":
        return {"estimators": [("lr", clf), ("dt", DecisionTreeClassifier(random_state=0))]}
    if name in ("StackingRegressor", "VotingRegressor"):
        return {"estimators": [("lr", LinearRegression()), ("ridge", Ridge())]}
    return {}


def _task_of(est: object) -> str:
    from sklearn.base import is_classifier, is_clusterer, is_regressor

    if is_classifier(est):
        return "classifier"
    if is_regressor(est):
        return "regressor"
    if is_clusterer(est):
        return "cluster"
    return "transformer"


_EXTRA_PARAMS: dict[str, dict] = {
    "CCA": {"n_components": 1},
    "PLSCanonical": {"n_components": 1},
    "PLSSVD": {"n_components": 1},
    "GaussianRandomProjection": {"n_components": 2},
    "SparseRandomProjection": {"n_components": 2},
}


def _fit_generic(name: str, cls: type) -> tuple[object, np.ndarray]:
    X, y_cls, y_reg = _data()
    params = {**_meta_params(name), **_EXTRA_PARAMS.get(name, {})}
    try:
        est = cls(random_state=0, **params)
    except TypeError:
        est = cls(**params)
    task = _task_of(est)
    if name == "IsotonicRegression":
        est.fit(X[:, 0], y_reg)
        return est, X[:10, 0]
    if name.startswith("MultiTask"):
        est.fit(X, np.column_stack([y_reg, -y_reg]))
        return est, X[:10]
    if name in ("ClassifierChain", "MultiOutputClassifier"):
        est.fit(X, np.column_stack([y_cls, 1 - y_cls]))
        return est, X[:10]
    if name in ("MultiOutputRegressor", "RegressorChain"):
        est.fit(X, np.column_stack([y_reg, -y_reg]))
        return est, X[:10]
    if name == "CategoricalNB":
        Xi = np.floor(X).astype(int)
        est.fit(Xi, y_cls)
        return est, Xi[:10]
    if name == "LabelEncoder":
        labels = np.array(["cat", "dog", "bird"])[y_cls + (X[:, 2] > 2)]
        est.fit(labels)
        return est, labels[:10]
    if name == "KernelCenterer":
        from sklearn.metrics.pairwise import rbf_kernel

        K = rbf_kernel(X)
        est.fit(K)
        return est, K[:10]
    if name in ("GammaRegressor", "PoissonRegressor"):
        est.fit(X, np.abs(y_reg) + 0.1)
        return est, X[:10]
    if name == "NeighborhoodComponentsAnalysis":
        est.fit(X, y_cls)
        return est, X[:10]
    if name == "SelfTrainingClassifier":
        y = y_cls.copy()
        y[::3] = -1
        est.fit(X, y)
        return est, X[:10]
    if task == "classifier":
        est.fit(X, y_cls)
    elif task == "regressor":
        est.fit(X, y_reg)
    elif task == "cluster":
        est.fit(X)
    else:
        est.fit(X, y_reg)
    return est, X[:10]


def _generic_builders() -> dict[str, Callable[[], tuple[object, object]]]:
    from sklearn.utils import all_estimators

    builders: dict[str, Callable[[], tuple[object, object]]] = {}
    for name, cls in all_estimators(type_filter=list(TASKS)):
        if name in SKIPPED:
            continue
        builders[f"est-{name}"] = lambda name=name, cls=cls: _fit_generic(name, cls)
    return builders


# ---- hand-written cases: pipelines and the settings people actually use ----------------------


def _column_pipeline_classifier() -> tuple[object, object]:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df, y_cls, _ = _mixed_frame()
    num = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    cat = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    pre = ColumnTransformer([("num", num, ["age", "income"]), ("cat", cat, ["city", "plan"])])
    model = Pipeline(
        [("pre", pre), ("clf", RandomForestClassifier(n_estimators=10, random_state=0))]
    )
    model.fit(df, y_cls)
    model.studio_metadata_ = {
        "format": "model-studio/1",
        "features": [
            {"name": "age", "kind": "number", "median": 45.0, "categories": None},
            {"name": "income", "kind": "number", "median": 20000.0, "categories": None},
            {"name": "city", "kind": "category", "median": None, "categories": ["Paris", "Lyon"]},
            {"name": "plan", "kind": "category", "median": None, "categories": ["basic", "pro"]},
        ],
    }
    return model, df.iloc[:10]


def _thresholded_pipeline() -> tuple[object, object]:
    """What the app saves for a tuned decision threshold (``lib.threshold.wrap``): a fitted
    pipeline frozen inside a ``FixedThresholdClassifier``."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier

    pipeline, X = _column_pipeline_classifier()
    df, y_cls, _ = _mixed_frame()
    model = FixedThresholdClassifier(
        FrozenEstimator(pipeline), threshold=0.3, pos_label="yes", response_method="predict_proba"
    ).fit(df, y_cls)
    return model, X


def _column_pipeline_regressor() -> tuple[object, object]:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder, TargetEncoder

    df, _, y_reg = _mixed_frame()
    pre = ColumnTransformer(
        [
            ("num", SimpleImputer(), ["age", "income"]),
            ("city", TargetEncoder(random_state=0), ["city"]),
            ("plan", OrdinalEncoder(), ["plan"]),
        ]
    )
    model = make_pipeline(pre, HistGradientBoostingRegressor(max_iter=20, random_state=0))
    model.fit(df.fillna({"city": "missing"}), y_reg)
    return model, df.fillna({"city": "missing"}).iloc[:10]


# make_column_selector options: numeric / categorical columns chosen by dtype (numpy scalar
# types, Python types, dtype names) or by a name pattern.
COLUMN_SELECTORS: dict[str, tuple[dict, dict]] = {
    "number": ({"dtype_include": np.number}, {"dtype_include": object}),
    "exclude-object": ({"dtype_exclude": object}, {"dtype_exclude": [np.number, "bool"]}),
    "pattern": (
        {"pattern": "^(?:age|income)$", "dtype_include": [np.floating, "int64"]},
        {"pattern": "^(?:city|plan)", "dtype_include": ["object", "category"]},
    ),
}


def _column_selector_pipeline(kind: str) -> tuple[object, object]:
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df, y_cls, _ = _mixed_frame()
    num, cat = COLUMN_SELECTORS[kind]
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), make_column_selector(**num)),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", dtype=np.float32),
                ),
                make_column_selector(**cat),
            ),
        ]
    )
    model = make_pipeline(pre, LogisticRegression())
    model.fit(df, y_cls)
    return model, df.iloc[:10]


def _hgb_categorical() -> tuple[object, object]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    df, y_cls, _ = _mixed_frame()
    df = df.astype({"city": "category", "plan": "category"})
    model = HistGradientBoostingClassifier(
        max_iter=15, categorical_features="from_dtype", random_state=0
    )
    model.fit(df, y_cls)
    return model, df.iloc[:10]


def _hgb_early_stopping() -> tuple[object, object]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y_cls, _ = _data()
    X = np.vstack([X] * 200)
    y = np.concatenate([y_cls] * 200)
    model = HistGradientBoostingClassifier(
        max_iter=15, early_stopping=True, scoring="accuracy", random_state=0
    )
    model.fit(X, y)
    return model, X[:10]


def _hgb_early_stopping_loss() -> tuple[object, object]:
    from sklearn.ensemble import HistGradientBoostingRegressor

    X, _, y_reg = _data()
    model = HistGradientBoostingRegressor(max_iter=15, early_stopping=True, random_state=0)
    model.fit(np.vstack([X] * 200), np.concatenate([y_reg] * 200))
    return model, X[:10]


def _search(kind: str) -> tuple[object, object]:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    X, y_cls, _ = _data()
    pipe = make_pipeline(StandardScaler(), SVC())
    grid = {"svc__C": [0.1, 1.0, 10.0]}
    if kind == "grid":
        model = GridSearchCV(pipe, grid, cv=3)
    else:
        model = RandomizedSearchCV(pipe, grid, n_iter=2, cv=3, random_state=0)
    model.fit(X, y_cls)
    return model, X[:10]


def _forest(name: str) -> tuple[object, object]:
    from sklearn import ensemble

    X, y_cls, y_reg = _data()
    cls = getattr(ensemble, name)
    model = cls(n_estimators=8, random_state=0)
    model.fit(X, y_cls if name.endswith("Classifier") else y_reg)
    return model, X[:10]


def _string_label_gb() -> tuple[object, object]:
    from sklearn.ensemble import GradientBoostingClassifier

    X, y_cls, _ = _data()
    y = np.array(["low", "mid", "high"])[y_cls + (X[:, 3] > 2.0)]
    model = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(X, y)
    return model, X[:10]


def _calibrated() -> tuple[object, object]:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    X, y_cls, _ = _data()
    return CalibratedClassifierCV(LinearSVC(), cv=3).fit(X, y_cls), X[:10]


def _svc_proba() -> tuple[object, object]:
    from sklearn.svm import SVC

    X, y_cls, _ = _data()
    return SVC(probability=True, random_state=0).fit(X, y_cls), X[:10]


def _svm_precomputed(kind: str) -> tuple[object, object]:
    """SVC / SVR on a precomputed kernel: fitted on K(train, train), used on K(test, train).
    scikit-learn stores ``support_vectors_`` empty (shape (0, 0)) for these."""
    from sklearn.metrics.pairwise import rbf_kernel
    from sklearn.svm import SVC, SVR

    X, y_cls, y_reg = _data()
    train, test = X[:40], X[40:]
    K_train, K_test = rbf_kernel(train, train), rbf_kernel(test, train)
    if kind == "svc":
        y = np.array(["a", "b", "c"])[y_cls[:40] + (train[:, 3] > 2.0)]
        return SVC(kernel="precomputed", probability=True, random_state=0).fit(K_train, y), K_test
    return SVR(kernel="precomputed").fit(K_train, y_reg[:40]), K_test


def _knn(algorithm: str) -> tuple[object, object]:
    from sklearn.neighbors import KNeighborsClassifier

    X, y_cls, _ = _data()
    return KNeighborsClassifier(algorithm=algorithm).fit(X, y_cls), X[:10]


def _knn_metric(metric: str) -> tuple[object, object]:
    from sklearn.neighbors import KNeighborsRegressor

    X, _, y_reg = _data()
    model = KNeighborsRegressor(algorithm="ball_tree", metric=metric).fit(X, y_reg)
    return model, X[:10]


def _function_transformer() -> tuple[object, object]:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, _, y_reg = _data()
    model = make_pipeline(FunctionTransformer(np.log1p, inverse_func=np.expm1), Ridge())
    return model.fit(X, y_reg), X[:10]


def _transformed_target() -> tuple[object, object]:
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.linear_model import LinearRegression

    X, _, y_reg = _data()
    model = TransformedTargetRegressor(LinearRegression(), func=np.log1p, inverse_func=np.expm1)
    return model.fit(X, np.abs(y_reg)), X[:10]


def _mlp(kind: str) -> tuple[object, object]:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    X, y_cls, y_reg = _data()
    if kind == "clf":
        model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0)
        return model.fit(X, y_cls), X[:10]
    model = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=300, random_state=0)
    return model.fit(X, y_reg), X[:10]


def _bagging() -> tuple[object, object]:
    from sklearn.ensemble import BaggingClassifier

    X, y_cls, _ = _data()
    return BaggingClassifier(n_estimators=5, random_state=0).fit(X, y_cls), X[:10]


def _tutorial_linear_regression() -> tuple[object, object]:
    from sklearn.linear_model import LinearRegression

    X = np.array([[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 3.0]])
    y = X @ np.array([1.0, 2.0]) + 3.0
    return LinearRegression().fit(X, y), np.array([[3.0, 5.0]])


def _sgd_losses() -> tuple[object, object]:
    from sklearn.linear_model import SGDClassifier

    X, y_cls, _ = _data()
    return SGDClassifier(loss="modified_huber", random_state=0).fit(X, y_cls), X[:10]


def _sparse_output() -> tuple[object, object]:
    from sklearn.preprocessing import OneHotEncoder

    X, _, _ = _data()
    Xi = np.floor(X).astype(int)
    return OneHotEncoder().fit(Xi), Xi[:10]


def _hand_builders() -> dict[str, Callable[[], tuple[object, object]]]:
    b: dict[str, Callable[[], tuple[object, object]]] = {
        "pipe-column-rf": _column_pipeline_classifier,
        "pipe-column-hgb-target-encoder": _column_pipeline_regressor,
        "pipe-column-fixed-threshold-frozen": _thresholded_pipeline,
        **{
            f"pipe-column-selector-{kind}": lambda kind=kind: _column_selector_pipeline(kind)
            for kind in COLUMN_SELECTORS
        },
        "hgb-categorical-from-dtype": _hgb_categorical,
        "hgb-early-stopping-scorer": _hgb_early_stopping,
        "hgb-early-stopping-loss": _hgb_early_stopping_loss,
        "search-grid": lambda: _search("grid"),
        "search-random": lambda: _search("random"),
        "gb-string-labels": _string_label_gb,
        "calibrated-linearsvc": _calibrated,
        "svc-probability": _svc_proba,
        "svc-precomputed-kernel": lambda: _svm_precomputed("svc"),
        "svr-precomputed-kernel": lambda: _svm_precomputed("svr"),
        "function-transformer-log1p": _function_transformer,
        "transformed-target-log1p": _transformed_target,
        "mlp-adam": lambda: _mlp("clf"),
        "mlp-sgd": lambda: _mlp("reg"),
        "bagging": _bagging,
        "tutorial-linear-regression": _tutorial_linear_regression,
        "sgd-modified-huber": _sgd_losses,
        "onehot-sparse": _sparse_output,
    }
    for name in (
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
    ):
        b[f"forest-{name}"] = lambda name=name: _forest(name)
    for algorithm in ("kd_tree", "ball_tree", "brute"):
        b[f"knn-{algorithm}"] = lambda a=algorithm: _knn(a)
    for metric in ("manhattan", "chebyshev", "minkowski"):
        b[f"knn-ball-{metric}"] = lambda m=metric: _knn_metric(m)
    return b


def _builders() -> dict[str, Callable[[], tuple[object, object]]]:
    return {**_hand_builders(), **_generic_builders()}


def corpus_ids() -> list[str]:
    """Return every corpus id (``list[str]``) without fitting anything."""
    return list(_builders())


def build_one(corpus_id: str) -> tuple[object, object]:
    """Fit and return ``(model, X)`` for one corpus id."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _builders()[corpus_id]()


def genuine_corpus(ids: list[str] | None = None) -> list[tuple[str, object, object]]:
    """Return ``[(id, fitted_model, X), ...]`` for ``ids`` (default: all)."""
    out = []
    for corpus_id in ids if ids is not None else corpus_ids():
        model, X = build_one(corpus_id)
        out.append((corpus_id, model, X))
    return out


def model_output(model: object, X: object) -> list[np.ndarray]:
    """Return what the model computes on ``X``: predictions, probabilities, transforms, labels."""
    outs: list[np.ndarray] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in ("predict", "predict_proba", "decision_function", "transform"):
            fn = getattr(model, method, None)
            if fn is None:
                continue
            try:
                result = fn(X)
            except (AttributeError, NotImplementedError, ValueError, TypeError):
                continue
            if hasattr(result, "toarray"):
                result = result.toarray()
            outs.append(np.asarray(result))
    for attr in ("labels_", "embedding_"):
        if hasattr(model, attr):
            outs.append(np.asarray(getattr(model, attr)))
    return outs
