"""Walk the loaded object graph and refuse anything that is not plain model data.

``audit(root, ctx)`` visits every reachable object iteratively (no recursion), bounded by the
object budget and the depth cap. It refuses callables that are not allow-listed values (e.g.
``FunctionTransformer(func=<something else>)``, a bound method other than the guarded getattr
case), objects of types nowhere on the allow-list, and runs ``_validate.check_loaded`` on every
object so crafted estimator state is caught even deep inside a pipeline.
"""

from __future__ import annotations

import functools
import types

import numpy as np

from ._context import LoadContext
from ._guards import GETATTR_NAMES, is_allowed_function
from ._messages import bad_state, refuse
from ._validate import check_loaded

_ATOMS = (str, bytes, bytearray, int, float, complex, bool, type(None), slice, range)
_SEQUENCES = (list, tuple, set, frozenset)


def _sparse_types() -> tuple[type, ...]:
    import scipy.sparse as sp

    return (sp.spmatrix, sp.sparray)


def audit(root: object, ctx: LoadContext) -> None:
    """Refuse ``root`` unless every reachable object is allowed data (raises UserError)."""
    allow = ctx.allow
    max_depth = ctx.limits.max_depth
    sparse = _sparse_types()
    # node id -> (number of atom children, ids of the non-atom children), for the size check.
    graph: dict[int, tuple[int, list[int]]] = {}
    todo: list[tuple[object, int]] = [(root, 0)]
    while todo:
        obj, depth = todo.pop()
        if id(obj) in graph:
            continue
        ctx.spend(1)
        if depth > max_depth:
            raise bad_state(f"its objects are nested more than {max_depth} levels deep")
        children = _children(obj, ctx, sparse)
        inner = [child for child in children if not isinstance(child, _ATOMS)]
        graph[id(obj)] = (len(children) - len(inner), [id(child) for child in inner])
        if inner:
            todo.extend((child, depth + 1) for child in inner)
    _check_expanded_size(id(root), graph, ctx.limits.max_objects)
    _ = allow


def _check_expanded_size(root: int, graph: dict[int, tuple[int, list[int]]], cap: int) -> None:
    """Refuse a graph whose shared references unfold into more than ``cap`` objects.

    A few KB of pickle can reference one list ten times at each of forty levels: cheap to load
    and to walk once, but numpy or scikit-learn would visit all 10**40 leaves when using it
    (a "billion laughs" hang at predict time). Sizes are counted as if every shared reference
    were a copy; references back to an ancestor (cycles) count once.
    """
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[int, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        n_atoms, children = graph[node]
        if children_done:
            open_nodes.discard(node)
            total = 1 + n_atoms + sum([size.get(child, 1) for child in children])
            if total > cap:
                raise bad_state(
                    f"its shared references unfold into more than {cap:,} objects, which would "
                    "hang the server when the model is used"
                )
            size[node] = total
        elif node not in size and node not in open_nodes:
            if not children:
                size[node] = 1 + n_atoms
                continue
            open_nodes.add(node)
            stack.append((node, True))
            stack.extend(
                (child, False)
                for child in children
                if child not in size and child not in open_nodes
            )


def _children(obj: object, ctx: LoadContext, sparse: tuple[type, ...]) -> list | tuple:
    allow = ctx.allow
    kind = type(obj)
    if type(obj) is dict or isinstance(obj, dict):
        return [*obj.keys(), *obj.values(), *_instance_dict(obj, ctx)]
    if kind in _SEQUENCES:
        return obj  # type: ignore[return-value]
    if isinstance(obj, np.ndarray):
        if obj.dtype.metadata is not None:
            raise bad_state("an array carries hidden metadata")
        if obj.dtype.hasobject:
            ctx.spend(obj.size)
            return obj.ravel().tolist()
        return ()
    if isinstance(obj, np.generic | np.dtype):
        return ()
    if isinstance(obj, type) or (callable(obj) and not _is_instance_of_allowed(obj, allow)):
        return _check_callable(obj, ctx)
    if not _is_instance_of_allowed(obj, allow):
        raise refuse(
            f"hold an object of type {kind.__module__}.{kind.__qualname__}",
            "is not on the list of things a scikit-learn model needs",
        )
    if isinstance(obj, sparse):
        _check_sparse(obj)
    check_loaded(obj)
    return _instance_dict(obj, ctx)


def _instance_dict(obj: object, ctx: LoadContext) -> list:
    d = getattr(obj, "__dict__", None)
    if type(d) is not dict:
        return []
    return [*d.values()]


def _is_instance_of_allowed(obj: object, allow) -> bool:
    kind = type(obj)
    return kind in allow.instance_types or isinstance(obj, np.random.bit_generator.SeedSequence)


def _check_callable(obj: object, ctx: LoadContext) -> list | tuple:
    allow = ctx.allow
    if allow.values.get(id(obj)) is obj or allow.class_functions.get(id(obj)) is obj:
        return ()
    if isinstance(obj, functools.partial):
        if not is_allowed_function(ctx, obj.func):
            raise refuse(
                f"store a call to {_describe(obj.func)} for later",
                "is not on the list of things a scikit-learn model needs",
            )
        return [*obj.args, *(obj.keywords or {}).values()]
    if isinstance(obj, types.MethodType):
        owner = obj.__self__
        if (
            obj.__name__ in GETATTR_NAMES
            and ctx.is_created(owner)
            and type(owner) in allow.instance_types
        ):
            return [owner]
    raise refuse(
        f"store {_describe(obj)} to be called later",
        "is not on the list of things a scikit-learn model needs",
    )


def _describe(obj: object) -> str:
    module = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{name}"[:200]


def _check_sparse(matrix: object) -> None:
    try:
        matrix.check_format(full_check=True)  # type: ignore[attr-defined]
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise bad_state(f"a sparse matrix has invalid index tables ({exc})") from None
