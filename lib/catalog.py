"""Which task a target implies, and the models a person can pick for it.

Each ``ModelSpec`` names a scikit-learn estimator, a few meaningful hyperparameters (with ranges
and defaults for the UI) and what preprocessing it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
from sklearn import ensemble, linear_model, naive_bayes, neighbors, neural_network, svm, tree
from sklearn.calibration import CalibratedClassifierCV

from lib.errors import TrainingError
from lib.schema import CLASSIFICATION, REGRESSION, Task

MAX_CLASSES = 50


@dataclass(frozen=True)
class ParamSpec:
    """One hyperparameter: ``kind`` is "int", "float" or "choice"; ``log`` suggests a log slider."""

    name: str
    label: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    log: bool = False
    help: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """A model a person can choose: ``build(**params)`` returns an unfitted estimator."""

    key: str
    label: str
    task: Task
    factory: Callable[..., Any]
    params: tuple[ParamSpec, ...] = ()
    fixed: dict[str, Any] = field(default_factory=dict)
    needs_scaling: bool = False
    native_missing: bool = False
    native_categorical: bool = False
    seeded: bool = False
    description: str = ""

    def build(self, random_state: int = 0, **params: Any) -> Any:
        """An unfitted estimator with defaults, overridden by ``params`` (unknown keys refused)."""
        unknown = set(params) - {p.name for p in self.params}
        if unknown:
            raise TrainingError(
                f"{self.label} has no setting named {', '.join(sorted(unknown))}. "
                f"Its settings are: {', '.join(p.name for p in self.params) or 'none'}."
            )
        values = {p.name: p.default for p in self.params} | self.fixed | params
        values = {name: (None if value == "None" else value) for name, value in values.items()}
        if self.seeded:
            values["random_state"] = random_state
        return self.factory(**values)


def _calibrated_svc(C: float, kernel: str, random_state: int) -> CalibratedClassifierCV:
    """SVC with class probabilities (scikit-learn 1.9 deprecates ``SVC(probability=True)``)."""
    svc = svm.SVC(C=C, kernel=kernel, random_state=random_state)
    return CalibratedClassifierCV(svc, ensemble=False)


def _int(name, label, default, low, high, log=False, help=""):
    return ParamSpec(name, label, "int", default, low, high, log=log, help=help)


def _float(name, label, default, low, high, log=True, help=""):
    return ParamSpec(name, label, "float", default, low, high, log=log, help=help)


def _choice(name, label, default, choices, help=""):
    return ParamSpec(name, label, "choice", default, choices=tuple(choices), help=help)


_TREES = _int(
    "n_estimators", "Number of trees", 200, 10, 1000, help="More trees: steadier, slower."
)
_DEPTH = _choice("max_depth", "Maximum depth", "None", ["None", 3, 5, 8, 12, 20])
_LEAF = _int("min_samples_leaf", "Minimum rows per leaf", 1, 1, 100, log=True)
_HGB = (
    _float("learning_rate", "Learning rate", 0.1, 0.01, 1.0),
    _int("max_iter", "Boosting rounds", 100, 10, 2000, log=True),
    _int("max_leaf_nodes", "Leaves per tree", 31, 4, 256, log=True),
    _float("l2_regularization", "L2 regularisation", 0.0, 0.0, 10.0, log=False),
)
_KNN = (
    _int("n_neighbors", "Neighbours", 5, 1, 100, log=True),
    _choice("weights", "Weighting", "uniform", ["uniform", "distance"]),
)
_MLP = (
    _choice("hidden_layer_sizes", "Hidden layers", (100,), [(50,), (100,), (100, 50), (200, 100)]),
    _float("alpha", "L2 penalty (alpha)", 1e-4, 1e-6, 1.0),
    _int("max_iter", "Training epochs", 300, 50, 2000, log=True),
)
_SVM_C = _float("C", "C (inverse regularisation)", 1.0, 0.01, 100.0)
_SVM_KERNEL = _choice("kernel", "Kernel", "rbf", ["rbf", "linear", "poly"])
_ALPHA = _float("alpha", "Regularisation (alpha)", 1.0, 1e-4, 100.0)

# Families with a regressor and a classifier: the regressor here, its twin in CLASSIFIERS.
_RANDOM_FOREST = ModelSpec(
    "random_forest",
    "Random forest",
    REGRESSION,
    ensemble.RandomForestRegressor,
    (_TREES, _DEPTH, _LEAF),
    fixed={"n_jobs": -1},
    seeded=True,
    description="Many deep trees averaged: strong with little tuning.",
)
_HIST_GRADIENT_BOOSTING = ModelSpec(
    "hist_gradient_boosting",
    "Histogram gradient boosting",
    REGRESSION,
    ensemble.HistGradientBoostingRegressor,
    _HGB,
    native_missing=True,
    native_categorical=True,
    seeded=True,
    description="Boosted trees: usually the most accurate on tables, and fast.",
)
_K_NEIGHBORS = ModelSpec(
    "k_neighbors",
    "K nearest neighbours",
    REGRESSION,
    neighbors.KNeighborsRegressor,
    _KNN,
    needs_scaling=True,
    description="Averages the most similar training rows.",
)
_DECISION_TREE = ModelSpec(
    "decision_tree",
    "Decision tree",
    REGRESSION,
    tree.DecisionTreeRegressor,
    (_choice("max_depth", "Maximum depth", 8, ["None", 3, 5, 8, 12, 20]), _LEAF),
    seeded=True,
    description="One tree: easy to read, prone to overfit.",
)
_NEURAL_NETWORK = ModelSpec(
    "mlp",
    "Neural network (MLP)",
    REGRESSION,
    neural_network.MLPRegressor,
    _MLP,
    fixed={"early_stopping": True},
    needs_scaling=True,
    seeded=True,
    description="A small fully connected network.",
)


def _classifier_twin(regressor: ModelSpec, factory: Callable[..., Any], **changes) -> ModelSpec:
    """The classifier of ``regressor``'s family, built by ``factory``: the same key, label,
    hyperparameters and preprocessing needs, unless ``changes`` (such as a description) say."""
    return replace(regressor, task=CLASSIFICATION, factory=factory, **changes)


REGRESSORS = (
    ModelSpec(
        "linear_regression",
        "Linear regression",
        REGRESSION,
        linear_model.LinearRegression,
        needs_scaling=True,
        description="Ordinary least squares: the classic joblib tutorial model.",
    ),
    ModelSpec(
        "ridge",
        "Ridge",
        REGRESSION,
        linear_model.Ridge,
        (_ALPHA,),
        needs_scaling=True,
        description="Linear regression with an L2 penalty.",
    ),
    ModelSpec(
        "lasso",
        "Lasso",
        REGRESSION,
        linear_model.Lasso,
        (_float("alpha", "Regularisation (alpha)", 0.1, 1e-4, 100.0),),
        needs_scaling=True,
        seeded=True,
        description="Linear, drives weak features to zero.",
    ),
    ModelSpec(
        "elastic_net",
        "Elastic net",
        REGRESSION,
        linear_model.ElasticNet,
        (
            _float("alpha", "Regularisation (alpha)", 0.1, 1e-4, 100.0),
            _float("l1_ratio", "L1 share", 0.5, 0.0, 1.0, log=False),
        ),
        needs_scaling=True,
        seeded=True,
        description="Linear, mixes Lasso and Ridge.",
    ),
    _RANDOM_FOREST,
    _HIST_GRADIENT_BOOSTING,
    ModelSpec(
        "svr",
        "Support vector machine",
        REGRESSION,
        svm.SVR,
        (_SVM_C, _SVM_KERNEL, _float("epsilon", "Epsilon", 0.1, 1e-3, 10.0)),
        needs_scaling=True,
        description="Kernel method; slow beyond ~20,000 rows.",
    ),
    _K_NEIGHBORS,
    _DECISION_TREE,
    _NEURAL_NETWORK,
)

CLASSIFIERS = (
    ModelSpec(
        "logistic_regression",
        "Logistic regression",
        CLASSIFICATION,
        linear_model.LogisticRegression,
        (_SVM_C,),
        fixed={"max_iter": 2000},
        needs_scaling=True,
        description="Linear model of class probabilities.",
    ),
    _classifier_twin(
        _RANDOM_FOREST,
        ensemble.RandomForestClassifier,
        description="Many deep trees voting: strong with little tuning.",
    ),
    _classifier_twin(_HIST_GRADIENT_BOOSTING, ensemble.HistGradientBoostingClassifier),
    ModelSpec(
        "svc",
        "Support vector machine",
        CLASSIFICATION,
        _calibrated_svc,
        (_SVM_C, _SVM_KERNEL),
        needs_scaling=True,
        seeded=True,
        description="Kernel method, probabilities calibrated by cross-validation; slow beyond "
        "~20,000 rows.",
    ),
    _classifier_twin(
        _K_NEIGHBORS,
        neighbors.KNeighborsClassifier,
        description="Votes among the most similar training rows.",
    ),
    _classifier_twin(_DECISION_TREE, tree.DecisionTreeClassifier),
    ModelSpec(
        "gaussian_nb",
        "Gaussian naive Bayes",
        CLASSIFICATION,
        naive_bayes.GaussianNB,
        needs_scaling=True,
        description="Very fast baseline assuming independent features.",
    ),
    _classifier_twin(_NEURAL_NETWORK, neural_network.MLPClassifier),
)

_CATALOG = {CLASSIFICATION: CLASSIFIERS, REGRESSION: REGRESSORS}
DEFAULT_MODEL = "hist_gradient_boosting"


def models_for(task: str) -> tuple[ModelSpec, ...]:
    """The catalog for ``task`` ("classification" or "regression")."""
    if task not in _CATALOG:
        raise TrainingError(f"Unknown task '{task}'. Choose classification or regression.")
    return _CATALOG[task]


def get_model(task: str, key: str) -> ModelSpec:
    """The catalog entry ``key`` for ``task``."""
    for spec in models_for(task):
        if spec.key == key:
            return spec
    names = ", ".join(spec.key for spec in models_for(task))
    raise TrainingError(f"There is no {task} model called '{key}'. Choose one of: {names}.")


def infer_task(target: pd.Series) -> Task:
    """Classification for labels, booleans and small sets of integers; regression otherwise."""
    present = target.dropna()
    dtype = present.dtype
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return CLASSIFICATION
    if present.iloc[:1000].nunique() > 20:
        return REGRESSION  # too many values to be classes, whatever the rest hold
    n_distinct = present.nunique()
    is_whole = pd.api.types.is_integer_dtype(dtype) or bool(
        (present.astype("float64") % 1 == 0).all()
    )
    if is_whole and n_distinct <= min(20, max(2, len(present) // 20)):
        return CLASSIFICATION
    if n_distinct <= 2:
        return CLASSIFICATION
    return REGRESSION
