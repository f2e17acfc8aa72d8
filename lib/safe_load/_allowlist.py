"""The allow-list: exact ``(module, name)`` pairs a genuine scikit-learn file may name.

Every entry must be harmless whatever arguments a hostile file supplies; entries that are only
harmless with checked arguments are listed in ``GUARDED`` and checked in ``_guards.py``. Never add a
whole module, a dotted name, anything that reads or writes files, opens sockets, imports or runs
code. Grow the list only from the genuine corpus (``tests/safe_load/corpus.py``).

Tiers:
- ``GUARDED``: called by REDUCE only through an argument check (``_guards.GUARDS``).
- ``CALLABLES``: REDUCE may call these with any arguments.
- ``CLASSES``: NEWOBJ / ``copyreg._reconstructor`` may create instances (``cls.__new__`` only; for
  these pure-Python classes that stores nothing and runs no ``__init__``).
- ``VALUES``: may appear in the file as plain data (a dtype, a ufunc in FunctionTransformer, a
  metric function in a scorer). Never called during the load; sklearn may call them later, so
  they too must be harmless with any arguments.

``build() -> AllowList`` imports the listed modules (our strings, never the file's) and maps each
pair to the object chosen here.
"""

from __future__ import annotations

import importlib
import logging
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Pair = tuple[str, str]


def _pairs(module: str, *names: str) -> list[Pair]:
    return [(module, name) for name in names]


# Old spellings of the same modules (pickle protocol <= 2, numpy < 2). Exact strings only.
MODULE_ALIASES: dict[str, str] = {
    "__builtin__": "builtins",
    "copy_reg": "copyreg",
    "numpy.core.multiarray": "numpy._core.multiarray",
    "numpy.core.numeric": "numpy._core.numeric",
    "numpy.core._multiarray_umath": "numpy._core._multiarray_umath",
}

# Harmless only with checked arguments; each has a guard in _guards.GUARDS.
GUARDED: list[Pair] = [
    # Python's own pickle helpers: getattr (bound methods), object reconstruction, bytes in
    # protocol <= 2, partial objects.
    *_pairs("builtins", "getattr", "bytes", "bytearray", "dict", "set", "frozenset"),
    *_pairs("copyreg", "_reconstructor"),
    *_pairs("_codecs", "encode"),
    *_pairs("functools", "partial"),
    # numpy's array, dtype and scalar reconstructors.
    *_pairs("numpy", "dtype"),
    *_pairs("numpy._core.multiarray", "_reconstruct", "scalar"),
    *_pairs("numpy._core.numeric", "_frombuffer"),
    *_pairs("numpy.ma.core", "_mareconstruct"),
    # numpy random state helpers: only known bit generators.
    *_pairs(
        "numpy.random._pickle", "__bit_generator_ctor", "__generator_ctor", "__randomstate_ctor"
    ),
    *_pairs("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
    # Cython unpickle helpers of scikit-learn: only for their own class.
    *_pairs("sklearn._loss._loss", "__pyx_unpickle_CyHalfMultinomialLoss"),
    *_pairs("sklearn.metrics._dist_metrics", "newObj"),
    *_pairs("sklearn.neighbors._kd_tree", "newObj"),
    *_pairs("sklearn.neighbors._ball_tree", "newObj"),
    # Decision tree structure: constructor arguments are bounds-checked.
    *_pairs("sklearn.tree._tree", "Tree"),
]

# REDUCE may call these with anything: they only build small value objects.
CALLABLES: list[Pair] = [
    *_pairs("builtins", "slice", "complex"),
    *_pairs("numpy.ma.core", "MaskedConstant"),
    # Cython loss objects: constructors take a few floats.
    *_pairs(
        "sklearn._loss._loss",
        "CyAbsoluteError",
        "CyExponentialLoss",
        "CyHalfBinomialLoss",
        "CyHalfGammaLoss",
        "CyHalfMultinomialLoss",
        "CyHalfPoissonLoss",
        "CyHalfSquaredError",
        "CyHalfTweedieLoss",
        "CyHalfTweedieLossIdentity",
        "CyHuberLoss",
        "CyPinballLoss",
    ),
    *_pairs(
        "sklearn.linear_model._sgd_fast",
        "EpsilonInsensitive",
        "Hinge",
        "ModifiedHuber",
        "SquaredEpsilonInsensitive",
        "SquaredHinge",
    ),
    # A namedtuple of plain values.
    *_pairs("sklearn.gaussian_process.kernels", "Hyperparameter"),
]

# Pure-Python classes whose instances NEWOBJ may create (``__new__`` only, no ``__init__``).
ESTIMATOR_CLASSES: list[Pair] = [
    # Every estimator of sklearn.utils.all_estimators() (scikit-learn 1.9).
    *_pairs("sklearn.calibration", "CalibratedClassifierCV"),
    *_pairs("sklearn.cluster._affinity_propagation", "AffinityPropagation"),
    *_pairs("sklearn.cluster._agglomerative", "AgglomerativeClustering", "FeatureAgglomeration"),
    *_pairs("sklearn.cluster._bicluster", "SpectralBiclustering", "SpectralCoclustering"),
    *_pairs("sklearn.cluster._birch", "Birch"),
    *_pairs("sklearn.cluster._bisect_k_means", "BisectingKMeans"),
    *_pairs("sklearn.cluster._dbscan", "DBSCAN"),
    *_pairs("sklearn.cluster._hdbscan.hdbscan", "HDBSCAN"),
    *_pairs("sklearn.cluster._kmeans", "KMeans", "MiniBatchKMeans"),
    *_pairs("sklearn.cluster._mean_shift", "MeanShift"),
    *_pairs("sklearn.cluster._optics", "OPTICS"),
    *_pairs("sklearn.cluster._spectral", "SpectralClustering"),
    *_pairs("sklearn.compose._column_transformer", "ColumnTransformer"),
    *_pairs("sklearn.compose._target", "TransformedTargetRegressor"),
    *_pairs("sklearn.covariance._elliptic_envelope", "EllipticEnvelope"),
    *_pairs("sklearn.covariance._empirical_covariance", "EmpiricalCovariance"),
    *_pairs("sklearn.covariance._graph_lasso", "GraphicalLasso", "GraphicalLassoCV"),
    *_pairs("sklearn.covariance._robust_covariance", "MinCovDet"),
    *_pairs("sklearn.covariance._shrunk_covariance", "LedoitWolf", "OAS", "ShrunkCovariance"),
    *_pairs("sklearn.cross_decomposition._pls", "CCA", "PLSCanonical", "PLSRegression", "PLSSVD"),
    *_pairs(
        "sklearn.decomposition._dict_learning",
        "DictionaryLearning",
        "MiniBatchDictionaryLearning",
        "SparseCoder",
    ),
    *_pairs("sklearn.decomposition._factor_analysis", "FactorAnalysis"),
    *_pairs("sklearn.decomposition._fastica", "FastICA"),
    *_pairs("sklearn.decomposition._incremental_pca", "IncrementalPCA"),
    *_pairs("sklearn.decomposition._kernel_pca", "KernelPCA"),
    *_pairs("sklearn.decomposition._lda", "LatentDirichletAllocation"),
    *_pairs("sklearn.decomposition._nmf", "MiniBatchNMF", "NMF"),
    *_pairs("sklearn.decomposition._pca", "PCA"),
    *_pairs("sklearn.decomposition._sparse_pca", "MiniBatchSparsePCA", "SparsePCA"),
    *_pairs("sklearn.decomposition._truncated_svd", "TruncatedSVD"),
    *_pairs(
        "sklearn.discriminant_analysis",
        "LinearDiscriminantAnalysis",
        "QuadraticDiscriminantAnalysis",
    ),
    *_pairs("sklearn.dummy", "DummyClassifier", "DummyRegressor"),
    *_pairs("sklearn.ensemble._bagging", "BaggingClassifier", "BaggingRegressor"),
    *_pairs(
        "sklearn.ensemble._forest",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "RandomForestClassifier",
        "RandomForestRegressor",
        "RandomTreesEmbedding",
    ),
    *_pairs("sklearn.ensemble._gb", "GradientBoostingClassifier", "GradientBoostingRegressor"),
    *_pairs(
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting",
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
    ),
    *_pairs("sklearn.ensemble._iforest", "IsolationForest"),
    *_pairs("sklearn.ensemble._stacking", "StackingClassifier", "StackingRegressor"),
    *_pairs("sklearn.ensemble._voting", "VotingClassifier", "VotingRegressor"),
    *_pairs("sklearn.ensemble._weight_boosting", "AdaBoostClassifier", "AdaBoostRegressor"),
    *_pairs("sklearn.feature_extraction._dict_vectorizer", "DictVectorizer"),
    *_pairs("sklearn.feature_extraction._hash", "FeatureHasher"),
    *_pairs("sklearn.feature_extraction.image", "PatchExtractor"),
    *_pairs(
        "sklearn.feature_extraction.text",
        "CountVectorizer",
        "HashingVectorizer",
        "TfidfTransformer",
        "TfidfVectorizer",
    ),
    *_pairs("sklearn.feature_selection._from_model", "SelectFromModel"),
    *_pairs("sklearn.feature_selection._rfe", "RFE", "RFECV"),
    *_pairs("sklearn.feature_selection._sequential", "SequentialFeatureSelector"),
    *_pairs(
        "sklearn.feature_selection._univariate_selection",
        "GenericUnivariateSelect",
        "SelectFdr",
        "SelectFpr",
        "SelectFwe",
        "SelectKBest",
        "SelectPercentile",
    ),
    *_pairs("sklearn.feature_selection._variance_threshold", "VarianceThreshold"),
    *_pairs("sklearn.frozen._frozen", "FrozenEstimator"),
    *_pairs("sklearn.gaussian_process._gpc", "GaussianProcessClassifier"),
    *_pairs("sklearn.gaussian_process._gpr", "GaussianProcessRegressor"),
    *_pairs("sklearn.impute._base", "MissingIndicator", "SimpleImputer"),
    *_pairs("sklearn.impute._knn", "KNNImputer"),
    *_pairs("sklearn.isotonic", "IsotonicRegression"),
    *_pairs(
        "sklearn.kernel_approximation",
        "AdditiveChi2Sampler",
        "Nystroem",
        "PolynomialCountSketch",
        "RBFSampler",
        "SkewedChi2Sampler",
    ),
    *_pairs("sklearn.kernel_ridge", "KernelRidge"),
    *_pairs("sklearn.linear_model._base", "LinearRegression"),
    *_pairs("sklearn.linear_model._bayes", "ARDRegression", "BayesianRidge"),
    *_pairs(
        "sklearn.linear_model._coordinate_descent",
        "ElasticNet",
        "ElasticNetCV",
        "Lasso",
        "LassoCV",
        "MultiTaskElasticNet",
        "MultiTaskElasticNetCV",
        "MultiTaskLasso",
        "MultiTaskLassoCV",
    ),
    *_pairs(
        "sklearn.linear_model._glm.glm", "GammaRegressor", "PoissonRegressor", "TweedieRegressor"
    ),
    *_pairs("sklearn.linear_model._huber", "HuberRegressor"),
    *_pairs(
        "sklearn.linear_model._least_angle",
        "Lars",
        "LarsCV",
        "LassoLars",
        "LassoLarsCV",
        "LassoLarsIC",
    ),
    *_pairs("sklearn.linear_model._logistic", "LogisticRegression", "LogisticRegressionCV"),
    *_pairs(
        "sklearn.linear_model._omp", "OrthogonalMatchingPursuit", "OrthogonalMatchingPursuitCV"
    ),
    *_pairs(
        "sklearn.linear_model._passive_aggressive",
        "PassiveAggressiveClassifier",
        "PassiveAggressiveRegressor",
    ),
    *_pairs("sklearn.linear_model._perceptron", "Perceptron"),
    *_pairs("sklearn.linear_model._quantile", "QuantileRegressor"),
    *_pairs("sklearn.linear_model._ransac", "RANSACRegressor"),
    *_pairs(
        "sklearn.linear_model._ridge", "Ridge", "RidgeCV", "RidgeClassifier", "RidgeClassifierCV"
    ),
    *_pairs(
        "sklearn.linear_model._stochastic_gradient",
        "SGDClassifier",
        "SGDOneClassSVM",
        "SGDRegressor",
    ),
    *_pairs("sklearn.linear_model._theil_sen", "TheilSenRegressor"),
    *_pairs("sklearn.manifold._classical_mds", "ClassicalMDS"),
    *_pairs("sklearn.manifold._isomap", "Isomap"),
    *_pairs("sklearn.manifold._locally_linear", "LocallyLinearEmbedding"),
    *_pairs("sklearn.manifold._mds", "MDS"),
    *_pairs("sklearn.manifold._spectral_embedding", "SpectralEmbedding"),
    *_pairs("sklearn.manifold._t_sne", "TSNE"),
    *_pairs("sklearn.mixture._bayesian_mixture", "BayesianGaussianMixture"),
    *_pairs("sklearn.mixture._gaussian_mixture", "GaussianMixture"),
    *_pairs(
        "sklearn.model_selection._classification_threshold",
        "FixedThresholdClassifier",
        "TunedThresholdClassifierCV",
    ),
    *_pairs("sklearn.model_selection._search", "GridSearchCV", "RandomizedSearchCV"),
    *_pairs(
        "sklearn.multiclass", "OneVsOneClassifier", "OneVsRestClassifier", "OutputCodeClassifier"
    ),
    *_pairs(
        "sklearn.multioutput",
        "ClassifierChain",
        "MultiOutputClassifier",
        "MultiOutputRegressor",
        "RegressorChain",
    ),
    *_pairs(
        "sklearn.naive_bayes",
        "BernoulliNB",
        "CategoricalNB",
        "ComplementNB",
        "GaussianNB",
        "MultinomialNB",
    ),
    *_pairs(
        "sklearn.neighbors._classification", "KNeighborsClassifier", "RadiusNeighborsClassifier"
    ),
    *_pairs("sklearn.neighbors._graph", "KNeighborsTransformer", "RadiusNeighborsTransformer"),
    *_pairs("sklearn.neighbors._kde", "KernelDensity"),
    *_pairs("sklearn.neighbors._lof", "LocalOutlierFactor"),
    *_pairs("sklearn.neighbors._nca", "NeighborhoodComponentsAnalysis"),
    *_pairs("sklearn.neighbors._nearest_centroid", "NearestCentroid"),
    *_pairs("sklearn.neighbors._regression", "KNeighborsRegressor", "RadiusNeighborsRegressor"),
    *_pairs("sklearn.neighbors._unsupervised", "NearestNeighbors"),
    *_pairs("sklearn.neural_network._multilayer_perceptron", "MLPClassifier", "MLPRegressor"),
    *_pairs("sklearn.neural_network._rbm", "BernoulliRBM"),
    *_pairs("sklearn.pipeline", "FeatureUnion", "Pipeline"),
    *_pairs(
        "sklearn.preprocessing._data",
        "Binarizer",
        "KernelCenterer",
        "MaxAbsScaler",
        "MinMaxScaler",
        "Normalizer",
        "PowerTransformer",
        "QuantileTransformer",
        "RobustScaler",
        "StandardScaler",
    ),
    *_pairs("sklearn.preprocessing._discretization", "KBinsDiscretizer"),
    *_pairs("sklearn.preprocessing._encoders", "OneHotEncoder", "OrdinalEncoder"),
    *_pairs("sklearn.preprocessing._function_transformer", "FunctionTransformer"),
    *_pairs(
        "sklearn.preprocessing._label", "LabelBinarizer", "LabelEncoder", "MultiLabelBinarizer"
    ),
    *_pairs("sklearn.preprocessing._polynomial", "PolynomialFeatures", "SplineTransformer"),
    *_pairs("sklearn.preprocessing._target_encoder", "TargetEncoder"),
    *_pairs("sklearn.random_projection", "GaussianRandomProjection", "SparseRandomProjection"),
    *_pairs("sklearn.semi_supervised._label_propagation", "LabelPropagation", "LabelSpreading"),
    *_pairs("sklearn.semi_supervised._self_training", "SelfTrainingClassifier"),
    *_pairs(
        "sklearn.svm._classes",
        "LinearSVC",
        "LinearSVR",
        "NuSVC",
        "NuSVR",
        "OneClassSVM",
        "SVC",
        "SVR",
    ),
    *_pairs(
        "sklearn.tree._classes",
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "ExtraTreeClassifier",
        "ExtraTreeRegressor",
    ),
    *_pairs("sklearn.pipeline", "Pipeline", "FeatureUnion"),
]

INTERNAL_CLASSES: list[Pair] = [
    # joblib's array placeholder: never instantiated, replaced by the parser (_joblib_format).
    *_pairs("joblib.numpy_pickle", "NumpyArrayWrapper"),
    *_pairs("builtins", "object"),
    # Helper objects fitted estimators keep; plain attribute holders.
    *_pairs("sklearn.calibration", "_CalibratedClassifier", "_SigmoidCalibration"),
    *_pairs("sklearn.cluster._birch", "_CFNode", "_CFSubcluster"),
    *_pairs("sklearn.cluster._bisect_k_means", "_BisectingTree"),
    *_pairs("sklearn.compose._column_transformer", "make_column_selector"),
    *_pairs("sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper"),
    *_pairs("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor"),
    *_pairs("sklearn.gaussian_process._gpc", "_BinaryGaussianProcessClassifierLaplace"),
    *_pairs(
        "sklearn.gaussian_process.kernels",
        "CompoundKernel",
        "ConstantKernel",
        "DotProduct",
        "ExpSineSquared",
        "Exponentiation",
        "Matern",
        "PairwiseKernel",
        "Product",
        "RBF",
        "RationalQuadratic",
        "Sum",
        "WhiteKernel",
    ),
    *_pairs(
        "sklearn._loss.loss",
        "AbsoluteError",
        "ExponentialLoss",
        "HalfBinomialLoss",
        "HalfGammaLoss",
        "HalfMultinomialLoss",
        "HalfPoissonLoss",
        "HalfSquaredError",
        "HalfTweedieLoss",
        "HalfTweedieLossIdentity",
        "HuberLoss",
        "PinballLoss",
    ),
    *_pairs(
        "sklearn._loss.link",
        "HalfLogitLink",
        "IdentityLink",
        "Interval",
        "LogLink",
        "LogitLink",
        "MultinomialLogit",
    ),
    *_pairs(
        "sklearn.metrics._scorer",
        "_CurveScorer",
        "_MultimetricScorer",
        "_PassthroughScorer",
        "_Scorer",
    ),
    *_pairs(
        "sklearn.model_selection._split",
        "GroupKFold",
        "KFold",
        "LeaveOneOut",
        "PredefinedSplit",
        "RepeatedKFold",
        "RepeatedStratifiedKFold",
        "ShuffleSplit",
        "StratifiedKFold",
        "StratifiedShuffleSplit",
        "TimeSeriesSplit",
        "_CVIterableWrapper",
    ),
    *_pairs("sklearn.multiclass", "_ConstantPredictor"),
    *_pairs("sklearn.neural_network._stochastic_optimizers", "AdamOptimizer", "SGDOptimizer"),
    *_pairs("sklearn.utils._bunch", "Bunch"),
    *_pairs(
        "sklearn.utils._metadata_requests",
        "MetadataRequest",
        "MethodMetadataRequest",
        "MetadataRouter",
        "MethodMapping",
    ),
    # scipy sparse containers (index arrays are checked after loading) and B-splines.
    *_pairs("scipy.sparse._csr", "csr_matrix", "csr_array"),
    *_pairs("scipy.sparse._csc", "csc_matrix", "csc_array"),
    *_pairs("scipy.sparse._coo", "coo_matrix", "coo_array"),
    *_pairs("scipy.interpolate._bsplines", "BSpline"),
    *_pairs("scipy.interpolate._interpolate", "interp1d"),
]

# Plain data: types, ufuncs and pure functions. Never called during the load.
VALUES: list[Pair] = [
    *_pairs("builtins", "float", "int", "str", "bool", "list", "tuple"),
    # Array types (the argument of numpy's reconstructors).
    *_pairs("numpy", "ndarray"),
    *_pairs("numpy.ma", "MaskedArray"),
    *_pairs("numpy.ma.core", "MaskedArray"),
    # Scalar types, e.g. OneHotEncoder(dtype=np.float64), make_column_selector(dtype_include=
    # np.number). A file names them with GLOBAL; as VALUES they are never called during the load
    # (numpy scalars themselves come through the guarded multiarray.scalar). Called later, the
    # abstract ones only raise TypeError and the concrete ones convert a value. Names as pickle
    # writes them: numpy >= 2 (bool, longdouble, clongdouble) and numpy 1 (bool_, float128,
    # complex256). numpy.void / numpy.record are left out: void(n) allocates n bytes.
    *_pairs(
        "numpy",
        "generic",
        "number",
        "integer",
        "signedinteger",
        "unsignedinteger",
        "inexact",
        "floating",
        "complexfloating",
        "flexible",
        "character",
    ),
    *_pairs(
        "numpy",
        "float64",
        "float32",
        "float16",
        "longdouble",
        "float128",
        "int64",
        "int32",
        "int16",
        "int8",
        "longlong",
        "uint64",
        "uint32",
        "uint16",
        "uint8",
        "ulonglong",
        "bool",
        "bool_",
        "object_",
        "str_",
        "bytes_",
        "complex64",
        "complex128",
        "clongdouble",
        "complex256",
        "datetime64",
        "timedelta64",
        "intp",
    ),
    # Element-wise maths used in FunctionTransformer / TransformedTargetRegressor / pooling.
    *_pairs(
        "numpy",
        "log1p",
        "expm1",
        "log",
        "exp",
        "sqrt",
        "square",
        "abs",
        "absolute",
        "reciprocal",
        "log2",
        "log10",
        "exp2",
        "sin",
        "cos",
        "tanh",
        "arcsinh",
        "sinh",
        "negative",
        "sign",
        "mean",
        "median",
        "max",
        "min",
        "sum",
        "std",
        "var",
        "nanmean",
        "nanmedian",
        "amax",
        "amin",
    ),
    # Pure numeric functions scikit-learn stores as parameters. numpy.asarray is this app's
    # own FunctionTransformer for casts (text categories, dates to days): lib/preprocessing.py.
    *_pairs("numpy", "asarray"),
    *_pairs("sklearn.utils.validation", "check_array"),
    *_pairs("sklearn.cluster._kmeans", "_kmeans_single_lloyd", "_kmeans_single_elkan"),
    *_pairs(
        "sklearn.feature_selection._univariate_selection",
        "chi2",
        "f_classif",
        "f_oneway",
        "f_regression",
        "r_regression",
    ),
    *_pairs(
        "sklearn.feature_selection._mutual_info", "mutual_info_classif", "mutual_info_regression"
    ),
    *_pairs("scipy._lib.array_api_compat.numpy._aliases", "asarray"),
    # Metric functions held by scorers.
    *_pairs(
        "sklearn.metrics._classification",
        "accuracy_score",
        "balanced_accuracy_score",
        "brier_score_loss",
        "cohen_kappa_score",
        "d2_brier_score",
        "d2_log_loss_score",
        "f1_score",
        "fbeta_score",
        "hamming_loss",
        "hinge_loss",
        "jaccard_score",
        "log_loss",
        "precision_score",
        "recall_score",
        "zero_one_loss",
    ),
    *_pairs(
        "sklearn.metrics._ranking",
        "average_precision_score",
        "coverage_error",
        "dcg_score",
        "label_ranking_average_precision_score",
        "label_ranking_loss",
        "ndcg_score",
        "roc_auc_score",
        "top_k_accuracy_score",
    ),
    *_pairs(
        "sklearn.metrics._regression",
        "d2_absolute_error_score",
        "d2_pinball_score",
        "d2_tweedie_score",
        "explained_variance_score",
        "max_error",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_gamma_deviance",
        "mean_pinball_loss",
        "mean_poisson_deviance",
        "mean_squared_error",
        "mean_squared_log_error",
        "mean_tweedie_deviance",
        "median_absolute_error",
        "r2_score",
        "root_mean_squared_error",
        "root_mean_squared_log_error",
    ),
    *_pairs("sklearn.metrics.cluster._bicluster", "consensus_score"),
    *_pairs(
        "sklearn.metrics.cluster._supervised",
        "adjusted_mutual_info_score",
        "adjusted_rand_score",
        "completeness_score",
        "fowlkes_mallows_score",
        "homogeneity_score",
        "mutual_info_score",
        "normalized_mutual_info_score",
        "rand_score",
        "v_measure_score",
    ),
    *_pairs(
        "sklearn.metrics.cluster._unsupervised",
        "calinski_harabasz_score",
        "davies_bouldin_score",
        "silhouette_score",
    ),
]

# Compiled classes reached only through guarded helpers (newObj, numpy.random's helpers); listed
# so their instances pass the audit. Neither REDUCE nor NEWOBJ may call them.
CYTHON_INSTANCE_TYPES: list[Pair] = [
    *_pairs("sklearn.neighbors._kd_tree", "KDTree"),
    *_pairs("sklearn.neighbors._ball_tree", "BallTree"),
    *_pairs(
        "sklearn.metrics._dist_metrics",
        "BrayCurtisDistance64",
        "CanberraDistance64",
        "ChebyshevDistance64",
        "DiceDistance64",
        "EuclideanDistance64",
        "HammingDistance64",
        "HaversineDistance64",
        "JaccardDistance64",
        "MahalanobisDistance64",
        "ManhattanDistance64",
        "MatchingDistance64",
        "MinkowskiDistance64",
        "RogersTanimotoDistance64",
        "RussellRaoDistance64",
        "SEuclideanDistance64",
        "SokalMichenerDistance64",
        "SokalSneathDistance64",
    ),
    # numpy random states; bit generator classes are also the argument of numpy's helpers.
    *_pairs("numpy.random.mtrand", "RandomState"),
    *_pairs("numpy.random._mt19937", "MT19937"),
    *_pairs("numpy.random._pcg64", "PCG64", "PCG64DXSM"),
    *_pairs("numpy.random._philox", "Philox"),
    *_pairs("numpy.random._sfc64", "SFC64"),
    *_pairs("numpy.random.bit_generator", "SeedSequence"),
    *_pairs("numpy.random._generator", "Generator"),
]


@dataclass
class AllowList:
    """Objects chosen in advance. ``by_name``: pair -> object; the other maps are id -> object.

    ``values`` holds every listed object except the guarded ones, which may only be called
    through their guard and never kept in the loaded model (e.g. ``partial(getattr, ...)``).
    """

    by_name: dict[Pair, object] = field(default_factory=dict)
    guarded: dict[int, Callable[..., Any]] = field(default_factory=dict)
    callables: dict[int, Callable[..., Any]] = field(default_factory=dict)
    classes: dict[int, type] = field(default_factory=dict)
    values: dict[int, object] = field(default_factory=dict)
    instance_types: set[type] = field(default_factory=set)
    class_functions: dict[int, object] = field(default_factory=dict)

    def name_of(self, obj: object) -> str:
        """Return ``module.name`` for a listed object (for messages)."""
        for (module, name), value in self.by_name.items():
            if value is obj:
                return f"{module}.{name}"
        return type(obj).__name__


def _resolve(pair: Pair) -> object | None:
    module, name = pair
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        log.info("allow-list entry %s.%s is not available in this environment", module, name)
        return None


def build() -> AllowList:
    """Import the listed objects and return the lookup tables."""
    allow = AllowList()
    # Values typed Any: the class tiers fill ``classes`` (all of them are classes).
    tiers: tuple[tuple[list[Pair], dict[int, Any] | None], ...] = (
        (GUARDED, allow.guarded),
        (CALLABLES, allow.callables),
        (ESTIMATOR_CLASSES, allow.classes),
        (INTERNAL_CLASSES, allow.classes),
        (VALUES, None),
        (CYTHON_INSTANCE_TYPES, None),
    )
    for pairs, table in tiers:
        for pair in pairs:
            obj = _resolve(pair)
            if obj is None:
                continue
            allow.by_name[pair] = obj
            if pairs is not GUARDED:  # guarded objects are never acceptable as stored data
                allow.values[id(obj)] = obj
            if table is not None:
                table[id(obj)] = obj
            if isinstance(obj, type) and pairs is not VALUES:
                allow.instance_types.add(obj)
    allow.class_functions = _class_functions(allow.instance_types)
    return allow


def _class_functions(classes: set[type]) -> dict[int, object]:
    """Functions defined in the listed classes' bodies (e.g. scipy's ``interp1d._call_linear``),
    which the listed classes' own ``__setstate__`` may store on instances."""
    found: dict[int, object] = {}
    for cls in classes:
        for value in vars(cls).values():
            func = value.__func__ if isinstance(value, staticmethod | classmethod) else value
            if isinstance(func, types.FunctionType):
                found[id(func)] = func
    return found


def size(allow: AllowList) -> int:
    """Return the number of distinct (module, name) entries available."""
    return len(allow.by_name)
