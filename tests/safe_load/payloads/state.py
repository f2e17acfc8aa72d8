"""Family 11: genuine estimator classes with crafted internal arrays (no code, but crashes).

scikit-learn's Cython code trusts these arrays: a tree child index or feature index out of
range, a cycle in the tree, SVC support counts that do not match the support vectors, or a
KD-tree index array pointing outside the data read out of bounds at predict time (segfault or
hang). The loader must validate them and refuse with a plain message.
"""

from __future__ import annotations

import numpy as np

from .helpers import joblib_bytes
from .registry import MALFORMED, Target, payload

F = "crafted-state"

X = np.arange(60, dtype=float).reshape(30, 2)
Y = np.arange(30) % 3


def _tree_with(mutate) -> bytes:
    """A fitted DecisionTreeClassifier whose node array went through ``mutate(nodes)``."""
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.tree._tree import Tree

    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    state = model.tree_.__getstate__()
    nodes = state["nodes"].copy()
    mutate(nodes)
    state["nodes"] = nodes
    n_classes = np.array([model.n_classes_], dtype=np.intp)
    tree = Tree(model.n_features_in_, n_classes, model.n_outputs_)
    tree.__setstate__(state)
    model.tree_ = tree
    return joblib_bytes(model)


@payload("tree-child-index-out-of-range", F, expect=MALFORMED)
def tree_child_oob(t: Target) -> bytes:
    """DecisionTreeClassifier whose root's left child is node 1,000,000 (of ~20)."""

    def mutate(nodes):
        nodes["left_child"][0] = 1_000_000

    return _tree_with(mutate)


@payload("tree-child-index-out-of-range-sandbox", F, expect=MALFORMED, sandbox=True)
def tree_child_oob_sandbox(t: Target) -> bytes:
    """The out-of-range child index, loaded with the sandbox (which may run a prediction)."""

    def mutate(nodes):
        nodes["right_child"][0] = 2**40

    return _tree_with(mutate)


@payload("tree-negative-child-index", F, expect=MALFORMED)
def tree_child_negative(t: Target) -> bytes:
    """Root's left child -7 (only -1, TREE_LEAF, is a legal negative value)."""

    def mutate(nodes):
        nodes["left_child"][0] = -7

    return _tree_with(mutate)


@payload("tree-feature-index-out-of-range", F, expect=MALFORMED)
def tree_feature_oob(t: Target) -> bytes:
    """Root splits on feature 1000 of a 2-feature model (reads X out of bounds)."""

    def mutate(nodes):
        nodes["feature"][0] = 1000

    return _tree_with(mutate)


@payload("tree-cycle", F, expect=MALFORMED)
def tree_cycle(t: Target) -> bytes:
    """The root's right child points back to the root: predict loops forever."""

    def mutate(nodes):
        nodes["right_child"][0] = 0

    return _tree_with(mutate)


def _svc_with_n_support(counts: list[int]) -> bytes:
    from sklearn.svm import SVC

    model = SVC().fit(X, Y)
    model._n_support = np.array(counts, dtype=model._n_support.dtype)
    return joblib_bytes(model)


@payload("svc-n_support-too-large", F, expect=MALFORMED)
def svc_n_support(t: Target) -> bytes:
    """SVC whose ``_n_support`` claims 1000 support vectors per class (it has ~20)."""
    return _svc_with_n_support([1000, 1000, 1000])


@payload("svc-n_support-negative-same-sum", F, expect=MALFORMED)
def svc_n_support_negative(t: Target) -> bytes:
    """SVC whose ``_n_support`` is [n + 10, -10, 0]: the same total as the real support vectors
    (so scikit-learn's own "internal representation altered" check passes), but libsvm walks
    class 0's n + 10 vectors past the end of its kernel-value and coefficient arrays."""
    from sklearn.svm import SVC

    total = int(SVC().fit(X, Y)._n_support.sum())
    return _svc_with_n_support([total + 10, -10, 0])


@payload("svc-n_support-negative-same-sum-sandbox", F, expect=MALFORMED, sandbox=True)
def svc_n_support_negative_sandbox(t: Target) -> bytes:
    """The negative ``_n_support`` SVC with the sandbox on (the child loads and predicts)."""
    from sklearn.svm import SVC

    total = int(SVC().fit(X, Y)._n_support.sum())
    return _svc_with_n_support([total + 10, -10, 0])


@payload("kdtree-idx_array-out-of-bounds", F, expect=MALFORMED)
def kdtree_idx(t: Target) -> bytes:
    """KNeighborsClassifier whose KDTree ``idx_array`` points at row 10**9 of 30."""
    from sklearn.neighbors import KDTree, KNeighborsClassifier

    model = KNeighborsClassifier(n_neighbors=2, algorithm="kd_tree").fit(X, Y)
    state = list(model._tree.__getstate__())
    state[1] = np.full_like(state[1], 10**9)
    tree = KDTree.__new__(KDTree)
    tree.__setstate__(tuple(state))
    model._tree = tree
    return joblib_bytes(model)


# --- found by an attacker's review (issue 10): states that pass shape checks yet crash predict


@payload("tree-without-n_features_in_", F, expect=MALFORMED)
def tree_without_width(t: Target) -> bytes:
    """A DecisionTreeRegressor with ``n_features_in_`` removed: scikit-learn then skips its
    width check and the compiled walk reads the feature index the file chose."""
    from sklearn.tree import DecisionTreeRegressor

    model = DecisionTreeRegressor(random_state=0).fit(X, Y)
    del model.n_features_in_
    return joblib_bytes(model)


@payload("forest-member-without-n_features_in_", F, expect=MALFORMED)
def forest_member_without_width(t: Target) -> bytes:
    """A random forest one of whose member trees has ``n_features_in_`` removed."""
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, Y)
    del model.estimators_[1].n_features_in_
    return joblib_bytes(model)


@payload("knn-label-index-outside-classes", F, expect=MALFORMED)
def knn_label_outside(t: Target) -> bytes:
    """KNeighborsClassifier (brute, manhattan) whose ``_y`` holds a class index far past
    ``classes_`` for one training point: the class vote writes out of bounds for rows whose
    neighbour is that point."""
    from sklearn.neighbors import KNeighborsClassifier

    model = KNeighborsClassifier(n_neighbors=1, algorithm="brute", metric="manhattan").fit(X, Y)
    model._y = model._y.copy()
    model._y[-1] = 10**9
    return joblib_bytes(model)


@payload("svc-precomputed-support-outside-rows", F, expect=MALFORMED)
def svc_precomputed_support(t: Target) -> bytes:
    """SVC(kernel="precomputed") whose ``support_`` points at row 10**9 of a 30-row kernel."""
    from sklearn.svm import SVC

    model = SVC(kernel="precomputed").fit(X @ X.T, Y)
    model.support_ = np.full_like(model.support_, 10**9)
    return joblib_bytes(model)


@payload("svc-precomputed-sparse-support-vectors", F, expect=MALFORMED)
def svc_precomputed_sparse(t: Target) -> bytes:
    """An SVC fitted on sparse input, re-labelled kernel="precomputed", whose support vector
    values are 10**9: the sparse libsvm reads the test row at the index each value names (a
    segfault at predict). scikit-learn never fits a precomputed kernel on sparse input."""
    import scipy.sparse as sp
    from sklearn.svm import SVC

    model = SVC().fit(sp.csr_matrix(X), Y)
    model.kernel = "precomputed"
    model.shape_fit_ = (X.shape[0], X.shape[0])
    model.support_vectors_ = model.support_vectors_.copy()
    model.support_vectors_.data[:] = 1e9
    return joblib_bytes(model)


@payload("polynomial-features-degree-1400", F, expect=MALFORMED)
def polynomial_degree_1400(t: Target) -> bytes:
    """PolynomialFeatures on 2 columns re-set to degree 1400, every integer consistent: a small
    file whose transform of a few thousand rows asks for gigabytes."""
    from sklearn.preprocessing import PolynomialFeatures

    model = PolynomialFeatures(degree=2).fit(X)
    model.degree = model._max_degree = 1400
    model.n_output_features_ = model._n_out_full = PolynomialFeatures._num_combinations(
        2, 0, 1400, False, True
    )
    return joblib_bytes(model)


@payload("polynomial-features-width-disagrees", F, expect=MALFORMED)
def polynomial_width_disagrees(t: Target) -> bytes:
    """PolynomialFeatures whose ``n_output_features_`` is smaller than its degree produces:
    the transform would write past the array it allocated."""
    from sklearn.preprocessing import PolynomialFeatures

    model = PolynomialFeatures(degree=3).fit(X)
    model.n_output_features_ = 2
    return joblib_bytes(model)


@payload("polynomial-count-sketch-huge-width", F, expect=MALFORMED)
def count_sketch_huge_width(t: Target) -> bytes:
    """PolynomialCountSketch whose ``n_components`` claims 10**12 output columns: its transform
    allocates rows x n_components from that integer alone."""
    from sklearn.kernel_approximation import PolynomialCountSketch

    model = PolynomialCountSketch(n_components=4).fit(X)
    model.n_components = model._n_features_out = 10**12
    return joblib_bytes(model)


@payload("chi2-sampler-huge-steps", F, expect=MALFORMED)
def chi2_sampler_huge_steps(t: Target) -> bytes:
    """AdditiveChi2Sampler whose ``sample_steps`` makes each row 10**9 columns wide."""
    from sklearn.kernel_approximation import AdditiveChi2Sampler

    model = AdditiveChi2Sampler(sample_steps=2, sample_interval=0.5).fit(X)
    model.sample_steps = 10**9
    return joblib_bytes(model)


@payload("spline-transformer-width-disagrees", F, expect=MALFORMED)
def spline_width_disagrees(t: Target) -> bytes:
    """SplineTransformer whose ``n_features_out_`` claims 10**12 columns, not what its splines
    make."""
    from sklearn.preprocessing import SplineTransformer

    model = SplineTransformer().fit(X)
    model.n_features_out_ = 10**12
    return joblib_bytes(model)
