"""Argument checks for the allow-listed callables that are only harmless with checked arguments.

``GUARDS``: (module, name) -> ``guard(ctx, func, args) -> object`` that validates ``args`` and makes
the call. ``BUILD_GUARDS``: checks run before BUILD sets the state of numpy objects and partials.
"""

from __future__ import annotations

import copyreg
import functools
import re
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._allowlist import CYTHON_INSTANCE_TYPES
from ._context import LoadContext
from ._messages import bad_state, refuse

#: ``guard(ctx, func, args)``: ``func`` is the allow-listed callable the guard stands for.
Guard = Callable[[LoadContext, Callable[..., Any], tuple], object]

#: ``np.dtype.fields``: name -> (dtype, offset) or (dtype, offset, title).
_Fields = Mapping[str, tuple[np.dtype, int] | tuple[np.dtype, int, Any]]

_DTYPE_SPEC = re.compile(r"[<>|=]?[A-Za-z?][0-9]{0,9}(\[[A-Za-z0-9]{1,6}\])?")
# Bound methods a genuine file stores (HistGradientBoosting's early-stopping scorer keeps
# ``model._raw_predict``). getattr is refused for any other name.
GETATTR_NAMES = frozenset({"_raw_predict"})
_LATIN1 = frozenset({"latin1", "latin-1"})
_BIT_GENERATOR_NAMES = frozenset({"MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64"})


def _fail(what: str) -> Exception:
    return refuse(what, "a genuine scikit-learn file never does")


def _is_int(x: object) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def check_shape(shape: object, itemsize: int, ctx: LoadContext, what: str) -> tuple[int, int]:
    """Return ``(count, nbytes)`` for a declared array shape, refusing bad or huge ones."""
    if type(shape) is not tuple or len(shape) > 32:
        raise bad_state(f"{what} has an invalid shape")
    count = 1
    for dim in shape:
        if not _is_int(dim) or dim < 0:
            raise bad_state(f"{what} has an invalid shape")
        count *= int(dim)
    nbytes = count * itemsize
    if nbytes > ctx.limits.max_item_bytes or count > ctx.limits.max_item_bytes:
        from ._messages import too_big

        raise too_big(f"it declares an array of {count:,} elements ({nbytes:,} bytes)")
    return count, nbytes


def need_dtype(ctx: LoadContext, dtype: object, what: str, allow_object: bool = False) -> np.dtype:
    """Return ``dtype`` if it is a numpy dtype fit for ``what``; seal it against later BUILDs."""
    if not isinstance(dtype, np.dtype):
        raise bad_state(f"{what} has no valid data type")
    if dtype.hasobject and not allow_object:
        raise _fail(f"fill a Python-object array ({what}) from raw bytes")
    ctx.seal(dtype)
    return dtype


# ---- REDUCE guards --------------------------------------------------------------------------


def _getattr(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if len(args) != 2 or type(args[1]) is not str:
        raise _fail("call getattr in an unusual way")
    obj, name = args
    if name not in GETATTR_NAMES:
        raise _fail(f"read the attribute {name!r} of an object")
    if not ctx.is_created(obj) or id(type(obj)) not in ctx.allow.classes:
        raise _fail(f"read {name!r} from an object it did not build itself")
    result = getattr(obj, name)
    if not (isinstance(result, types.MethodType) and result.__self__ is obj):
        raise _fail(f"read {name!r} as something other than a method")
    return result


def _reconstructor(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if len(args) != 3:
        raise _fail("call copyreg._reconstructor in an unusual way")
    cls, base, state = args
    if id(cls) not in ctx.allow.classes or ctx.allow.classes[id(cls)] is not cls:
        raise refuse(
            f"create a {getattr(cls, '__name__', type(cls).__name__)} object",
            "is not on the list of things a scikit-learn model needs",
        )
    if base not in (object, dict, list) or not issubclass(cls, base):
        raise _fail("rebuild an object on an unusual base type")
    if base is object and state is not None:
        raise _fail("rebuild an object with unusual arguments")
    if base is not object and type(state) is not base:
        raise _fail("rebuild a container with unusual arguments")
    if cls is ctx.allow.by_name.get(("joblib.numpy_pickle", "NumpyArrayWrapper")):
        # joblib.dump(..., protocol=0 or 1) writes its array header this way rather than with
        # NEWOBJ: the same placeholder, whose BUILD reads the array bytes that follow.
        from ._joblib_format import ArrayPlaceholder

        return ArrayPlaceholder()
    # copyreg._reconstructor is undocumented, so typeshed leaves it out.
    return copyreg._reconstructor(cls, base, state)  # type: ignore[attr-defined]


def _bytes(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if args == () or (len(args) == 1 and type(args[0]) is bytes):
        return func(*args)
    raise _fail("call bytes() with a size or unusual arguments")


def _dict(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if args == () or (len(args) == 1 and type(args[0]) is dict):
        return dict(*args)  # its keys were checked as the dict was built
    if len(args) == 1 and type(args[0]) is list:
        for pair in args[0]:
            if type(pair) is tuple and len(pair) == 2:
                check_key_depth(pair[0], ctx.limits.max_depth)
        return dict(*args)
    raise _fail("call dict() with unusual arguments")


def _hashed(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    """set() and frozenset(): their items are hashed, which recurses in C on nested tuples."""
    if args == ():
        return func()
    if len(args) == 1 and type(args[0]) in (list, tuple, set, frozenset):
        for item in args[0]:
            check_key_depth(item, ctx.limits.max_depth)
        return func(args[0])
    raise _fail(f"call {func.__name__}() with unusual arguments")


def check_key_depth(key: object, max_depth: int) -> None:
    """Refuse deeply nested tuple keys (hashing them recurses in C)."""
    todo: list[tuple[object, int]] = [(key, 1)]
    seen = 0
    while todo:
        obj, depth = todo.pop()
        seen += 1
        if depth > max_depth or seen > 100_000:
            raise bad_state("it holds a dictionary key nested too deeply")
        if type(obj) is tuple or type(obj) is frozenset:
            todo.extend((item, depth + 1) for item in obj)


def _encode(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if len(args) == 2 and type(args[0]) is str and args[1] in _LATIN1:
        return args[0].encode("latin-1")
    raise _fail("call _codecs.encode with an unusual encoding")


def _partial(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if len(args) < 1 or not is_allowed_function(ctx, args[0]):
        raise _fail("wrap a function that is not on the allow-list in functools.partial")
    return functools.partial(args[0], *args[1:])


def is_allowed_function(ctx: LoadContext, obj: object) -> bool:
    """Return True when ``obj`` is a listed, unguarded function (by identity; classes excluded)."""
    return ctx.allow.values.get(id(obj)) is obj and not isinstance(obj, type)


def _dtype(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if (
        len(args) == 3
        and type(args[0]) is str
        and _DTYPE_SPEC.fullmatch(args[0])
        and isinstance(args[1], bool)
        and args[2] is True
    ):
        dtype = np.dtype(args[0], args[1], True)
        if dtype.itemsize > ctx.limits.max_item_bytes:
            raise bad_state("a data type in the file is impossibly large")
        return dtype
    raise _fail("build a numpy data type in an unusual way")


def _reconstruct(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if len(args) == 3 and args[0] is np.ndarray and args[1] == (0,) and args[2] in (b"b", "b"):
        return func(np.ndarray, (0,), b"b")
    raise _fail("build a numpy array in an unusual way")


def _mareconstruct(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if (
        len(args) == 4
        and args[0] is np.ma.MaskedArray
        and args[1] is np.ndarray
        and args[2] == (0,)
        and args[3] in (b"b", "b")
    ):
        return func(np.ma.MaskedArray, np.ndarray, (0,), b"b")
    raise _fail("build a masked array in an unusual way")


def _scalar(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if len(args) == 2 and type(args[1]) is bytes:
        dtype = need_dtype(ctx, args[0], "a numpy scalar")
        if len(args[1]) == dtype.itemsize:
            return func(dtype, args[1])
    raise _fail("build a numpy scalar in an unusual way")


def _frombuffer(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if len(args) != 4 or not isinstance(args[0], bytes | bytearray | memoryview):
        raise _fail("build a numpy array from a buffer in an unusual way")
    buf, dtype, shape, order = args
    dtype = need_dtype(ctx, dtype, "an array")
    _, nbytes = check_shape(shape, dtype.itemsize, ctx, "an array")
    if order not in ("C", "F") or memoryview(buf).nbytes != nbytes:
        raise bad_state("an array's data does not match its declared shape")
    return func(buf, dtype, shape, order)


def _bit_generator_ctor(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    if len(args) == 1 and _is_bit_generator_spec(ctx, args[0]):
        return func(args[0])
    raise _fail("create an unknown random number generator")


def _is_bit_generator_spec(ctx: LoadContext, spec: object) -> bool:
    if type(spec) is str:
        return spec in _BIT_GENERATOR_NAMES
    return (
        isinstance(spec, type)
        and spec.__name__ in _BIT_GENERATOR_NAMES
        and (ctx.allow.values.get(id(spec)) is spec)
    )


def _state_ctor(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    from numpy.random.bit_generator import BitGenerator

    if len(args) in (1, 2):
        first = args[0]
        ok_first = (isinstance(first, BitGenerator) and ctx.is_created(first)) or (
            type(first) is str and first in _BIT_GENERATOR_NAMES
        )
        ctor = ctx.allow.by_name.get(("numpy.random._pickle", "__bit_generator_ctor"))
        if ok_first and (len(args) == 1 or args[1] is ctor):
            return func(*args)
    raise _fail("create a random state in an unusual way")


def _pyx_unpickle_for(module: str, cls_name: str) -> Guard:
    def guard(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
        cls = ctx.allow.by_name.get((module, cls_name))
        if len(args) == 3 and cls is not None and args[0] is cls:
            return func(*args)
        raise _fail(f"restore a {cls_name} in an unusual way")

    return guard


def _new_obj_of(module: str, *class_names: str) -> Guard:
    def guard(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
        allowed = [ctx.allow.by_name.get((module, n)) for n in class_names]
        if len(args) == 1 and any(args[0] is c for c in allowed if c is not None):
            return func(args[0])
        raise _fail("create an object of an unexpected type through newObj")

    return guard


_DIST_METRICS = tuple(
    name for module, name in CYTHON_INSTANCE_TYPES if module == "sklearn.metrics._dist_metrics"
)


def _tree(ctx: LoadContext, func: Callable[..., Any], args: tuple) -> object:
    from ._validate import check_tree_args

    check_tree_args(args)
    return func(*args)


GUARDS: dict[tuple[str, str], Guard] = {
    ("builtins", "getattr"): _getattr,
    ("builtins", "bytes"): _bytes,
    ("builtins", "bytearray"): _bytes,
    ("builtins", "dict"): _dict,
    ("builtins", "set"): _hashed,
    ("builtins", "frozenset"): _hashed,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("_codecs", "encode"): _encode,
    ("functools", "partial"): _partial,
    ("numpy", "dtype"): _dtype,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy.ma.core", "_mareconstruct"): _mareconstruct,
    ("numpy.random._pickle", "__bit_generator_ctor"): _bit_generator_ctor,
    ("numpy.random._pickle", "__generator_ctor"): _state_ctor,
    ("numpy.random._pickle", "__randomstate_ctor"): _state_ctor,
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"): _pyx_unpickle_for(
        "numpy.random.bit_generator", "SeedSequence"
    ),
    ("sklearn._loss._loss", "__pyx_unpickle_CyHalfMultinomialLoss"): _pyx_unpickle_for(
        "sklearn._loss._loss", "CyHalfMultinomialLoss"
    ),
    ("sklearn.metrics._dist_metrics", "newObj"): _new_obj_of(
        "sklearn.metrics._dist_metrics", *_DIST_METRICS
    ),
    ("sklearn.neighbors._kd_tree", "newObj"): _new_obj_of("sklearn.neighbors._kd_tree", "KDTree"),
    ("sklearn.neighbors._ball_tree", "newObj"): _new_obj_of(
        "sklearn.neighbors._ball_tree", "BallTree"
    ),
    ("sklearn.tree._tree", "Tree"): _tree,
}


# ---- BUILD guards for numpy objects and partials ----------------------------------------------


def build_ndarray(ctx: LoadContext, inst: np.ndarray, state: object) -> object:
    """Check an ndarray / MaskedArray ``__setstate__`` tuple before numpy applies it."""
    masked = isinstance(inst, np.ma.MaskedArray)
    if type(state) is not tuple or len(state) != (7 if masked else 5):
        raise bad_state("an array's saved state has an unusual layout")
    _, shape, dtype, _, raw = state[:5]
    dtype = need_dtype(ctx, dtype, "an array", allow_object=True)
    count, nbytes = check_shape(shape, dtype.itemsize, ctx, "an array")
    if dtype.hasobject:
        if type(raw) is not list or len(raw) != count:
            raise bad_state("an object array's contents do not match its shape")
    elif not isinstance(raw, bytes | bytearray) or len(raw) != nbytes:
        raise bad_state("an array's data does not match its declared shape")
    if masked:
        mask = state[5]
        mask_size = count * np.ma.make_mask_descr(dtype).itemsize
        if not isinstance(mask, bytes | bytearray) or len(mask) != mask_size:
            raise bad_state("a masked array's mask does not match its shape")
    return state


def build_dtype(ctx: LoadContext, inst: np.dtype, state: object) -> None:
    """Apply a dtype's state, then refuse it unless it equals a dtype numpy builds itself."""
    if type(state) is not tuple or len(state) not in (8, 9):
        raise bad_state("a data type's saved state has an unusual layout")
    inst.__setstate__(state)  # type: ignore[attr-defined]  # numpy's stubs omit it
    if not _dtype_is_sane(inst):
        raise bad_state("a data type in the file is inconsistent")
    fields: _Fields = inst.fields or {}  # set whenever names is
    for name in inst.names or ():
        ctx.seal(fields[name][0])  # field layouts were checked against the parent
    if inst.subdtype is not None:
        ctx.seal(inst.subdtype[0])


def _dtype_is_sane(d: np.dtype) -> bool:
    ref: np.dtype | None
    try:
        if d.metadata is not None:
            return False
        if d.names is not None:
            fields: _Fields = d.fields or {}  # set whenever names is
            offsets = [fields[n][1] for n in d.names]
            formats = [fields[n][0] for n in d.names]
            for fmt, off in zip(formats, offsets, strict=True):
                if off < 0 or off + fmt.itemsize > d.itemsize or not _dtype_is_sane(fmt):
                    return False
            ref = np.dtype(
                {
                    "names": list(d.names),
                    "formats": formats,
                    "offsets": offsets,
                    "itemsize": d.itemsize,
                },
                align=d.isalignedstruct,
            )
        elif d.subdtype is not None:
            base, shape = d.subdtype
            ref = np.dtype((base, shape)) if _dtype_is_sane(base) else None
        else:
            ref = np.dtype(d.str)
    except (TypeError, ValueError, KeyError):
        return False
    return (
        ref is not None
        and ref == d
        and ref.itemsize == d.itemsize
        and ref.flags == d.flags
        and ref.hasobject == d.hasobject
        and ref.alignment == d.alignment
    )


def build_partial(ctx: LoadContext, inst: functools.partial, state: object) -> object:
    """Check a partial's ``(func, args, kwds, dict)`` state: func must be on the allow-list."""
    if type(state) is not tuple or len(state) != 4:
        raise bad_state("a partial function's saved state has an unusual layout")
    func, args, kwds, extra = state
    if not is_allowed_function(ctx, func):
        raise _fail("wrap a function that is not on the allow-list in functools.partial")
    if type(args) is not tuple or (kwds is not None and type(kwds) is not dict):
        raise bad_state("a partial function's arguments have an unusual layout")
    if extra is not None and type(extra) is not dict:
        raise bad_state("a partial function's saved state has an unusual layout")
    return state
