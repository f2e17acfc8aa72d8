"""Checks on the inner state of Cython-backed objects that index memory without bounds checks.

A crafted state can make compiled scikit-learn code read or write out of bounds at predict time.
BUILD-time checks (``check_tree_args``, ``build_tree``, ``build_binary_tree``,
``build_dist_metric``) run before the object's ``__setstate__``; ``check_loaded`` runs on each
estimator after the load. All checks are vectorised with numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from ._context import LoadContext
from ._messages import bad_state

if TYPE_CHECKING:
    from sklearn.tree._tree import Tree

MAX_FEATURES = 1 << 31
MAX_OUTPUTS = 1 << 16
MAX_CLASSES = 1 << 24
# A transformer whose output width is declared by a few integers (PolynomialFeatures' degree)
# could ask for any number of columns; more than this is refused. Genuine expansions are far
# smaller (degree 3 of 50 columns: 23,426).
MAX_OUTPUT_FEATURES = 1_000_000
MAX_DEGREE = 1_000
TREE_LEAF = -1


def _is_int(x: object) -> TypeGuard[int | np.integer]:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def _tree_problem(what: str) -> Exception:
    return bad_state(f"a decision tree in this file {what}")


# ---- sklearn.tree._tree.Tree -------------------------------------------------------------------


def check_tree_args(args: tuple) -> None:
    """Check ``Tree(n_features, n_classes, n_outputs)`` arguments before the constructor runs."""
    if len(args) != 3:
        raise _tree_problem("is built with unusual arguments")
    n_features, n_classes, n_outputs = args
    if not (_is_int(n_features) and 0 < n_features <= MAX_FEATURES):
        raise _tree_problem("declares an impossible number of features")
    if not (_is_int(n_outputs) and 0 < n_outputs <= MAX_OUTPUTS):
        raise _tree_problem("declares an impossible number of outputs")
    if (
        type(n_classes) is not np.ndarray
        or n_classes.ndim != 1
        or n_classes.dtype.kind not in "iu"
        or n_classes.shape[0] != n_outputs
    ):
        raise _tree_problem("has a class count list that does not match its outputs")
    if n_classes.size and (n_classes.min() < 1 or n_classes.max() > MAX_CLASSES):
        raise _tree_problem("declares an impossible number of classes")


def build_tree(ctx: LoadContext, tree: Tree, state: object) -> object:
    """Check a Tree's ``{max_depth, node_count, nodes, values}`` state against the tree."""
    from sklearn.tree._tree import NODE_DTYPE

    if type(state) is not dict or not {"max_depth", "node_count", "nodes", "values"} <= set(state):
        raise _tree_problem("has an unusual saved state")
    nodes, values, node_count = state["nodes"], state["values"], state["node_count"]
    if type(nodes) is not np.ndarray or nodes.ndim != 1 or nodes.dtype != NODE_DTYPE:
        raise _tree_problem("has a node table of the wrong type")
    n = nodes.shape[0]
    if not _is_int(node_count) or node_count != n or not _is_int(state["max_depth"]):
        raise _tree_problem("declares a node count that does not match its node table")
    if state["max_depth"] < 0 or (n and state["max_depth"] >= n):
        raise _tree_problem("declares an impossible depth")
    expected = (n, tree.n_outputs, tree.max_n_classes)
    if type(values) is not np.ndarray or values.shape != expected or values.dtype != np.float64:
        raise _tree_problem("has a value table that does not match its nodes")
    left = nodes["left_child"]
    right = nodes["right_child"]
    feature = nodes["feature"]
    # One pass of whole-array tests (this runs for every tree of a forest): a leaf has both
    # children -1; an inner node's children come strictly after it (in range, no cycles) and
    # it tests an existing feature. Only on failure is the exact problem worked out.
    idx = np.arange(n)
    leaf = left == TREE_LEAF
    bad_inner = (left <= idx) | (right <= idx) | (left >= n) | (right >= n)
    bad_inner |= (feature < 0) | (feature >= tree.n_features)
    if np.any(np.where(leaf, right != TREE_LEAF, bad_inner)):
        raise _tree_problem(_tree_defect(leaf, left, right, feature, idx, n, tree.n_features))
    return state


def _tree_defect(leaf, left, right, feature, idx, n, n_features) -> str:
    if np.any(right[leaf] != TREE_LEAF):
        return "has a leaf with one child"
    inner = ~leaf
    for child in (left[inner], right[inner]):
        if np.any(child <= idx[inner]) or np.any(child >= n):
            return "has a node pointing outside the tree"
    return "has a node testing a feature that does not exist"


# ---- KDTree / BallTree and distance metrics ----------------------------------------------------

_WEIGHTED_METRICS = {"SEuclideanDistance64": True, "MahalanobisDistance64": True}


def build_dist_metric(ctx: LoadContext, metric: object, state: object) -> object:
    """Check a DistanceMetric's ``(p, vec, mat)`` state and remember its weight size."""
    if type(state) is not tuple or len(state) != 3:
        raise bad_state("a distance function in this file has an unusual saved state")
    p, vec, mat = state
    for arr, ndim in ((vec, 1), (mat, 2)):
        if type(arr) is not np.ndarray or arr.ndim != ndim or arr.dtype != np.float64:
            raise bad_state("a distance function in this file has weights of the wrong type")
    if not isinstance(p, float | int | np.floating) or isinstance(p, bool):
        raise bad_state("a distance function in this file has an unusual parameter")
    name = type(metric).__name__
    if name == "MahalanobisDistance64":
        if mat.shape[0] != mat.shape[1]:
            raise bad_state("a distance function in this file has a non-square matrix")
        ctx.metric_sizes[id(metric)] = mat.shape[0]
    elif name in ("SEuclideanDistance64", "MinkowskiDistance64"):
        ctx.metric_sizes[id(metric)] = vec.shape[0]
    return state


def build_binary_tree(ctx: LoadContext, tree: object, state: object) -> object:
    """Check a KDTree / BallTree state tuple (indices, node ranges, child layout)."""
    problem = bad_state("a neighbours search tree in this file is inconsistent")
    if type(state) is not tuple or len(state) != 13:
        raise problem
    data, idx_array, node_data, node_bounds = state[:4]
    leaf_size, n_levels, n_nodes = state[4:7]
    metric, sample_weight = state[11], state[12]
    arrays_ok = (
        type(data) is np.ndarray
        and data.ndim == 2
        and type(idx_array) is np.ndarray
        and idx_array.ndim == 1
        and idx_array.dtype == np.intp
        and type(node_data) is np.ndarray
        and node_data.ndim == 1
        and node_data.dtype.names is not None
        and {"idx_start", "idx_end", "is_leaf"} <= set(node_data.dtype.names)
        and type(node_bounds) is np.ndarray
        and node_bounds.ndim == 3
    )
    if not arrays_ok or not all(_is_int(x) for x in (leaf_size, n_levels, n_nodes)):
        raise problem
    n_samples, n_features = data.shape
    if idx_array.shape[0] != n_samples or node_data.shape[0] != n_nodes or n_nodes < 1:
        raise problem
    if not 0 < n_levels < 64 or n_nodes != 2**n_levels - 1:
        raise problem
    if node_bounds.shape[1:] != (n_nodes, n_features) or node_bounds.shape[0] not in (1, 2):
        raise problem
    if n_samples and (idx_array.min() < 0 or idx_array.max() >= n_samples):
        raise problem
    start, end = node_data["idx_start"], node_data["idx_end"]
    if np.any(start < 0) or np.any(end < start) or np.any(end > n_samples):
        raise problem
    # Inner node i reads nodes 2i+1 and 2i+2.
    inner = np.flatnonzero(node_data["is_leaf"] == 0)
    if inner.size and 2 * inner.max() + 2 >= n_nodes:
        raise problem
    if not ctx.is_created(metric):
        raise problem
    size = ctx.metric_sizes.get(id(metric), 0)
    if _WEIGHTED_METRICS.get(type(metric).__name__) and size != n_features:
        raise problem
    if size not in (0, n_features):
        raise problem
    if sample_weight is not None and (
        type(sample_weight) is not np.ndarray or sample_weight.shape != (n_samples,)
    ):
        raise problem
    return state


# ---- after the load: estimators whose compiled predict trusts fitted arrays ----------------------


def check_loaded(obj: object) -> None:
    """Refuse estimators whose fitted arrays are inconsistent (called for every loaded object)."""
    d = getattr(obj, "__dict__", None)
    if not isinstance(d, dict):
        return
    if "tree_" in d:
        _check_decision_tree(obj)
    if "_y" in d and "classes_" in d and "_fit_X" in d:
        _check_neighbors_labels(obj)
    if "_max_degree" in d and "n_output_features_" in d:
        _check_polynomial_width(obj)
    _check_declared_width(obj)
    if "_predictors" in d:
        _check_hist_gradient_boosting(obj)
    if "support_vectors_" in d and "_n_support" in d:
        _check_libsvm(obj)
    if "estimators_" in d and "n_features_in_" in d and isinstance(obj, _tree_ensembles()):
        _check_ensemble_width(obj)
    if "cluster_centers_" in d and "n_features_in_" in d:
        centers = d["cluster_centers_"]
        if not (isinstance(centers, np.ndarray) and centers.ndim == 2):
            raise bad_state("a clustering model in this file has invalid centres")
        if centers.shape[1] != d["n_features_in_"]:
            raise bad_state("a clustering model's centres do not match its features")


def _tree_ensembles() -> tuple[type, ...]:
    from sklearn.ensemble._forest import BaseForest
    from sklearn.ensemble._gb import BaseGradientBoosting

    # Their compiled predict walks member trees with the ensemble's rows, unchecked.
    return (BaseForest, BaseGradientBoosting)


def _check_decision_tree(est: object) -> None:
    from sklearn.tree._tree import Tree

    # Without n_features_in_ scikit-learn skips its width check, and the tree's compiled walk
    # reads whatever feature index the file chose.
    tree = est.__dict__["tree_"]
    n_features = est.__dict__.get("n_features_in_")
    if type(tree) is not Tree or not _is_int(n_features) or tree.n_features != n_features:
        raise _tree_problem("does not match the number of features of its model")


def _check_polynomial_width(est: object) -> None:
    """PolynomialFeatures allocates (rows x n_output_features_) from integers in the file: they
    must agree with each other and stay within ``MAX_OUTPUT_FEATURES``."""
    from sklearn.preprocessing import PolynomialFeatures

    if not isinstance(est, PolynomialFeatures):
        return
    d = est.__dict__
    problem = bad_state("a polynomial feature step in this file declares an impossible width")
    n, low, high, width = (d.get(k) for k in ("n_features_in_", "_min_degree", "_max_degree",
                                              "n_output_features_"))  # fmt: skip
    if not all(_is_int(v) for v in (n, low, high, width)):
        raise problem
    assert n is not None and low is not None and high is not None  # for mypy: checked above
    if not (0 < n <= MAX_FEATURES and 0 <= low <= high <= MAX_DEGREE):
        raise problem
    expected = PolynomialFeatures._num_combinations(
        int(n), int(low), int(high), bool(d.get("interaction_only")), bool(d.get("include_bias"))
    )
    if width != expected or expected > MAX_OUTPUT_FEATURES:
        raise problem


def _check_declared_width(est: object) -> None:
    """Other steps whose output width is an integer in the file (not the size of an array it
    carries): a kernel sketch's components, the chi2 sampler's steps, a spline step's width.
    Each must be consistent and within ``MAX_OUTPUT_FEATURES``."""
    from sklearn.kernel_approximation import AdditiveChi2Sampler, PolynomialCountSketch
    from sklearn.preprocessing import SplineTransformer

    d = est.__dict__
    problem = bad_state("a feature step in this file declares an impossible output width")
    n = d.get("n_features_in_")
    if isinstance(est, PolynomialCountSketch):
        width, degree = d.get("n_components"), d.get("degree")
        if not (_is_int(width) and 0 < width <= MAX_OUTPUT_FEATURES):
            raise problem
        if not (_is_int(degree) and 0 < degree <= MAX_DEGREE):
            raise problem
    elif isinstance(est, AdditiveChi2Sampler):
        steps = d.get("sample_steps")
        if not (_is_int(steps) and _is_int(n) and steps > 0):
            raise problem
        if n * (2 * steps - 1) > MAX_OUTPUT_FEATURES:
            raise problem
    elif isinstance(est, SplineTransformer) and "bsplines_" in d:
        width, splines = d.get("n_features_out_"), d.get("bsplines_")
        if not (_is_int(width) and 0 < width <= MAX_OUTPUT_FEATURES):
            raise problem
        if not isinstance(splines, list) or not _is_int(n) or len(splines) != n:
            raise problem
        counts = {getattr(getattr(b, "c", None), "shape", (0, 0))[-1] for b in splines}
        if len(counts) != 1:
            raise problem
        per_feature = counts.pop()
        include_bias = bool(d.get("include_bias", True))
        if width != n * (per_feature - (0 if include_bias else 1)):
            raise problem


def _check_neighbors_labels(est: object) -> None:
    """A neighbours classifier's stored labels index its classes: each must be in range."""
    d = est.__dict__
    problem = bad_state("a nearest-neighbours model in this file has labels outside its classes")
    y, classes, fit_x = d["_y"], d["classes_"], d["_fit_X"]
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu" or y.ndim not in (1, 2):
        raise problem
    if len(getattr(fit_x, "shape", ())) != 2 or y.shape[0] != fit_x.shape[0]:
        raise problem
    columns = y.reshape(len(y), -1)
    per_output = classes if y.ndim == 2 and isinstance(classes, list) else [classes]
    if len(per_output) != columns.shape[1]:
        raise problem
    for j, labels in enumerate(per_output):
        n_labels = len(getattr(labels, "shape", ())) == 1 and labels.shape[0]
        column = columns[:, j]
        if not n_labels or (column.size and (column.min() < 0 or column.max() >= n_labels)):
            raise problem


def _check_ensemble_width(est: object) -> None:
    n = est.__dict__["n_features_in_"]
    members = est.__dict__["estimators_"]
    flat = members.ravel() if isinstance(members, np.ndarray) else members
    if not isinstance(flat, list | np.ndarray):
        raise bad_state("an ensemble in this file has an invalid member list")
    for member in flat:
        member_n = getattr(member, "n_features_in_", None)  # a member must say its width
        if member_n != n:
            raise bad_state("a model inside an ensemble does not match the ensemble's features")


def _check_hist_gradient_boosting(est: object) -> None:
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

    problem = bad_state(
        "a gradient-boosting tree in this file has a node pointing outside the tree"
    )
    n_features = est.__dict__.get("n_features_in_")
    # Predictor feature indices follow the bin mapper's column order (categoricals first).
    is_cat = getattr(est.__dict__.get("_bin_mapper"), "is_categorical", None)
    if not _is_int(n_features) or n_features < 1:
        raise problem
    if is_cat is not None and (not isinstance(is_cat, np.ndarray) or is_cat.shape != (n_features,)):
        raise problem
    predictors = est.__dict__["_predictors"]
    if not isinstance(predictors, list):
        raise problem
    for row in predictors:
        if not isinstance(row, list):
            raise problem
        for pred in row:
            if type(pred) is not TreePredictor:
                raise problem
            _check_predictor(pred, n_features, is_cat, PREDICTOR_RECORD_DTYPE, problem)


def _check_predictor(pred, n_features, is_cat, dtype, problem) -> None:
    nodes = pred.__dict__.get("nodes")
    if type(nodes) is not np.ndarray or nodes.ndim != 1 or nodes.dtype != dtype or not nodes.size:
        raise problem
    n = nodes.shape[0]
    inner = np.flatnonzero(nodes["is_leaf"] == 0)
    for child in (nodes["left"][inner], nodes["right"][inner]):
        if np.any(child <= inner) or np.any(child >= n):
            raise problem
    feature = nodes["feature_idx"][inner]
    if feature.size and (feature.min() < 0 or feature.max() >= n_features):
        raise problem
    cat = inner[nodes["is_categorical"][inner] != 0]
    if cat.size:
        if is_cat is None or not np.all(is_cat[nodes["feature_idx"][cat]]):
            raise problem
        for name in ("binned_left_cat_bitsets", "raw_left_cat_bitsets"):
            bitsets = pred.__dict__.get(name)
            if (
                type(bitsets) is not np.ndarray
                or bitsets.ndim != 2
                or bitsets.shape[1] != 8
                or bitsets.dtype != np.uint32
                or nodes["bitset_idx"][cat].max() >= bitsets.shape[0]
            ):
                raise problem


def _check_libsvm(est: object) -> None:
    d = est.__dict__
    problem = bad_state("a support vector model in this file has inconsistent tables")
    # Arrays or scipy sparse matrices: only their shapes are checked below.
    sv: Any = d.get("support_vectors_")
    n_support = d.get("_n_support")
    dual: Any = d.get("_dual_coef_", d.get("dual_coef_"))
    intercept = d.get("_intercept_", d.get("intercept_"))
    if not (
        len(getattr(sv, "shape", ())) == 2
        and len(getattr(dual, "shape", ())) == 2
        and isinstance(intercept, np.ndarray)
        and intercept.ndim == 1
        and isinstance(n_support, np.ndarray)
        and n_support.ndim == 1
        and not np.any(n_support < 0)
    ):
        raise problem
    n_sv = sv.shape[0]
    support = d.get("support_")
    precomputed = d.get("kernel") == "precomputed"
    if precomputed:
        # Only the dense path exists for precomputed kernels (scikit-learn refuses to fit them
        # on sparse input, and the sparse libsvm reads the test row at an index taken from the
        # support vectors' values). libsvm then counts the support vectors by ``support_``, and
        # scikit-learn stores ``support_vectors_`` empty, of shape (0, 0).
        if d.get("_sparse") is not False or not isinstance(sv, np.ndarray):
            raise problem
        if sv.shape[0] == 0 and isinstance(support, np.ndarray) and support.ndim == 1:
            n_sv = support.shape[0]
    n_class = n_support.shape[0]
    if dual.shape[1] != n_sv:
        raise problem
    if getattr(est, "_impl", None) in ("c_svc", "nu_svc"):
        n_pairs = max(n_class * (n_class - 1) // 2, 1)
        if int(n_support.sum()) != n_sv or dual.shape[0] != max(n_class - 1, 1):
            raise problem
        if intercept.shape[0] != n_pairs:
            raise problem
        for name in ("_probA", "_probB"):
            prob = d.get(name)
            if isinstance(prob, np.ndarray) and prob.size not in (0, n_pairs):
                raise problem
    if isinstance(support, np.ndarray) and support.shape[0] != n_sv:
        raise problem
    if precomputed:
        # libsvm looks up each support vector's row of the kernel matrix by these indices.
        fitted = d.get("shape_fit_")
        n_rows = fitted[0] if isinstance(fitted, tuple) and fitted else None
        if not (isinstance(support, np.ndarray) and support.dtype.kind in "iu" and _is_int(n_rows)):
            raise problem
        if support.size and (support.min() < 0 or support.max() >= n_rows):
            raise problem
    n_features = d.get("n_features_in_")
    needs_width = not precomputed and n_sv and _is_int(n_features)
    if needs_width and sv.shape[1] != n_features:
        raise problem
