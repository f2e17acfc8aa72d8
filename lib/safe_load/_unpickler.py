"""The restricted unpickler: builds the object graph while checking every step.

:class:`SafeUnpickler` subclasses the pure-Python ``pickle._Unpickler`` (as joblib does) and
replaces the dispatch entries that can reach code or allocate memory:

- GLOBAL / STACK_GLOBAL: exact ``(module, name)`` lookup in the allow-list, nothing imported;
- REDUCE: only allow-listed callables (by identity), guarded ones through ``_guards``;
- NEWOBJ / NEWOBJ_EX: only allow-listed pure-Python classes; joblib's array wrapper becomes a
  placeholder; INST / OBJ / EXT* / PERSID / BINPERSID / NEXT_BUFFER are refused;
- BUILD: only on objects this load created, never on classes, functions or modules;
- size-declaring opcodes: checked against the bytes left and the item cap before reading;
- APPEND(S) / SETITEM(S) / ADDITEMS: only on real lists, dicts and sets.
"""

from __future__ import annotations

import functools
import io
import pickle
from collections.abc import Callable, Iterable
from struct import unpack
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import sklearn
from sklearn.base import BaseEstimator

from . import _guards, _validate
from ._context import LoadContext
from ._joblib_format import (
    MEMMAP_MARKER,
    ArrayPlaceholder,
    legacy_wrapper_refusal,
    read_wrapped_array,
)
from ._messages import bad_state, damaged, not_on_list, refuse

if TYPE_CHECKING:
    # typeshed types only the documented surface of pickle's pure-Python unpickler. These are
    # the undocumented parts of it (Lib/pickle.py) that SafeUnpickler builds on.

    class _Unframer:
        current_frame: io.BytesIO | None

        def __init__(
            self, file_read: Callable[[int], bytes], file_readline: Callable[[], bytes]
        ) -> None: ...
        def read(self, n: int) -> bytes: ...
        def readinto(self, buf: bytearray) -> int: ...
        def readline(self) -> bytes: ...
        def load_frame(self, frame_size: int) -> None: ...

    class _Stop(Exception):
        value: object

    class _PyUnpickler:
        dispatch: ClassVar[dict[int, Callable[[Any], None]]]
        proto: int
        read: Callable[[int], bytes]
        readinto: Callable[[bytearray], int]
        readline: Callable[[], bytes]
        metastack: list[list[Any]]
        stack: list[Any]
        append: Callable[[Any], None]
        _file_read: Callable[[int], bytes]
        _file_readline: Callable[[], bytes]

        def __init__(self, file: io.BytesIO) -> None: ...
        def pop_mark(self) -> list[Any]: ...
        def _decode_string(self, value: bytes) -> str | bytes: ...
        def load_build(self) -> None: ...
else:
    _Unframer = pickle._Unframer
    _Stop = pickle._Stop
    _PyUnpickler = pickle._Unpickler

_P = _PyUnpickler
_SCALAR_KEYS = (str, int, float, bytes, bool, type(None))
RUNNING_SKLEARN = sklearn.__version__


class _Tables:
    """Lookup tables built once from the allow-list: id -> (object, guard)."""

    def __init__(self, ctx: LoadContext) -> None:
        allow = ctx.allow
        self.guards: dict[int, tuple[Callable[..., Any], _guards.Guard]] = {}
        for pair, guard in _guards.GUARDS.items():
            func = allow.by_name.get(pair)
            if callable(func):
                self.guards[id(func)] = (func, guard)
        self.wrapper = allow.by_name.get(("joblib.numpy_pickle", "NumpyArrayWrapper"))
        self.build_guards = _build_guards(allow)


#: ``guard(ctx, inst, state)`` checks BUILD state; returns the state to apply, or None if applied.
BuildGuard = Callable[[LoadContext, Any, object], object]


def _build_guards(allow) -> list[tuple[type, BuildGuard]]:
    from sklearn.metrics._dist_metrics import DistanceMetric64
    from sklearn.neighbors._ball_tree import BallTree
    from sklearn.neighbors._kd_tree import KDTree
    from sklearn.tree._tree import Tree

    return [
        (np.ndarray, _guards.build_ndarray),
        (np.dtype, _guards.build_dtype),
        (functools.partial, _guards.build_partial),
        (Tree, _validate.build_tree),
        (KDTree, _validate.build_binary_tree),
        (BallTree, _validate.build_binary_tree),
        (DistanceMetric64, _validate.build_dist_metric),
    ]


_LEGACY = {
    ("joblib.numpy_pickle", "NDArrayWrapper"),
    ("joblib.numpy_pickle", "ZNDArrayWrapper"),
    ("joblib.numpy_pickle_compat", "NDArrayWrapper"),
    ("joblib.numpy_pickle_compat", "ZNDArrayWrapper"),
}


def _sized(
    fmt: str, nbytes: int, what: str, make: Callable[[SafeUnpickler, int], object]
) -> Callable[[SafeUnpickler], None]:
    """A dispatch entry that reads a size, checks it, then pushes ``make(self, size)``."""

    def load(self: SafeUnpickler) -> None:
        (n,) = unpack(fmt, self.read(nbytes))
        self._declared(n, what)
        self.append(make(self, n))

    return load


class SafeUnpickler(_P):
    """Restricted unpickler over ``file`` (an ``io.BytesIO``) sharing ``ctx`` with nested loads."""

    dispatch = _P.dispatch.copy()
    _unframer: _Unframer

    def __init__(self, file: io.BytesIO, ctx: LoadContext, tables: _Tables | None = None) -> None:
        super().__init__(file)
        self._file = file
        self._ctx = ctx
        self._tables = tables if tables is not None else _Tables(ctx)

    # -- main loop: same as pickle._Unpickler.load plus the object budget --------------------

    def load(self) -> object:
        """Return the unpickled object; raise UserError subclasses or pickle/struct errors."""
        self._unframer = _Unframer(self._file_read, self._file_readline)
        self.read = self._unframer.read
        self.readinto = self._unframer.readinto
        self.readline = self._unframer.readline
        self.metastack = []
        self.stack = []
        self.append = self.stack.append
        self.proto = 0
        read = self.read
        dispatch = self.dispatch
        ctx = self._ctx
        budget = ctx.limits.max_objects
        try:
            while True:
                key = read(1)
                if not key:
                    raise EOFError
                ctx.ops += 1
                if ctx.ops > budget:
                    ctx.spend(0)
                dispatch[key[0]](self)
        except _Stop as stop:
            return stop.value

    def _remaining(self) -> int:
        left = self._ctx.stream_len - self._file.tell()
        frame = self._unframer.current_frame
        if frame is not None:
            left += len(frame.getbuffer()) - frame.tell()
        return left

    def _declared(self, n: int, what: str) -> None:
        self._ctx.check_size(n, self._remaining(), what)

    # -- names ---------------------------------------------------------------------------------

    def find_class(self, module: str, name: str) -> object:
        """Return the allow-listed object for the exact pair, else refuse (nothing imported)."""
        from ._allowlist import MODULE_ALIASES

        if type(module) is not str or type(name) is not str:
            raise damaged("it names something in an invalid way")
        module = MODULE_ALIASES.get(module, module)
        obj = self._ctx.allow.by_name.get((module, name))
        if obj is not None:
            return obj
        if (module, name) == ("numpy", "memmap"):
            return MEMMAP_MARKER
        if (module, name) in _LEGACY:
            raise legacy_wrapper_refusal()
        raise not_on_list(f"{module}.{name}"[:200])

    # -- calls -----------------------------------------------------------------------------------

    def load_reduce(self) -> None:
        stack = self.stack
        args = stack.pop()
        func = stack[-1]
        allow = self._ctx.allow
        if type(args) is not tuple:
            raise bad_state("a call in this file has malformed arguments")
        _seal_members(self._ctx, args)
        listed = allow.callables.get(id(func))
        if listed is func:
            if listed is None:  # None where a callable belongs: a malformed stream
                raise TypeError("the file calls None")
            result = listed(*args)
        else:
            entry = self._tables.guards.get(id(func))
            if entry is None or entry[0] is not func:
                raise _call_refusal(allow, func)
            result = entry[1](self._ctx, func, args)
        if allow.values.get(id(result)) is not result and result is not np.ma.masked:
            self._ctx.mark_created(result)
        stack[-1] = result

    dispatch[pickle.REDUCE[0]] = load_reduce

    def _new(self, cls: object, args: object, kwargs: object) -> None:
        if type(args) is not tuple or type(kwargs) is not dict:
            raise bad_state("an object in this file is created with malformed arguments")
        if cls is self._tables.wrapper and cls is not None:
            obj: object = ArrayPlaceholder()
        else:
            allow = self._ctx.allow
            listed = allow.classes.get(id(cls))
            if listed is not cls:
                raise refuse(
                    f"create a {allow.name_of(cls)} object",
                    "is not on the list of things a scikit-learn model needs",
                )
            if listed is None:  # None where a class belongs: a malformed stream
                raise TypeError("the file creates an instance of None")
            obj = listed.__new__(listed, *args, **kwargs)
        self._ctx.mark_created(obj)
        self.append(obj)

    def load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        self._new(cls, args, {})

    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self._new(cls, args, kwargs)

    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    def load_build(self) -> None:
        stack = self.stack
        state = stack.pop()
        inst = stack[-1]
        ctx = self._ctx
        if not ctx.take_build(inst):
            raise refuse(
                f"change the inner state of {ctx.allow.name_of(inst)}",
                "could alter the app itself rather than the model",
            )
        if type(inst) is ArrayPlaceholder:
            stack[-1] = read_wrapped_array(state, self._file, ctx, self._nested_load)
            return
        if isinstance(inst, np.generic | type):
            raise bad_state("the file tries to change a numpy scalar or type")
        for base, guard in self._tables.build_guards:
            if isinstance(inst, base):
                state = guard(ctx, inst, state)
                if state is None:  # the guard applied it
                    return
                break
        _refuse_dunder_state(state)
        _seal_members(ctx, state)
        if type(state) is dict and ("_sklearn_version" in state or isinstance(inst, BaseEstimator)):
            version = state.get("_sklearn_version")
            if type(version) is str:
                ctx.versions[version[:40]] += 1
            # Recorded here (LoadedModel.warnings); stop BaseEstimator.__setstate__ warning too.
            state = {**state, "_sklearn_version": RUNNING_SKLEARN}
        stack.append(state)
        _P.load_build(self)

    dispatch[pickle.BUILD[0]] = load_build

    def _nested_load(self) -> object:
        return SafeUnpickler(self._file, self._ctx, self._tables).load()

    # -- refused instructions ------------------------------------------------------------------

    def _refuse_persid(self) -> None:
        raise refuse("load an external object by reference", "a model file never needs")

    dispatch[pickle.PERSID[0]] = _refuse_persid
    dispatch[pickle.BINPERSID[0]] = _refuse_persid

    def _refuse_ext(self) -> None:
        raise refuse("use the pickle extension registry", "a model file never needs")

    dispatch[pickle.EXT1[0]] = _refuse_ext
    dispatch[pickle.EXT2[0]] = _refuse_ext
    dispatch[pickle.EXT4[0]] = _refuse_ext

    def _refuse_inst(self) -> None:
        raise refuse("create an object with an old-style INST/OBJ instruction", "runs __init__")

    dispatch[pickle.INST[0]] = _refuse_inst
    dispatch[pickle.OBJ[0]] = _refuse_inst

    def _refuse_buffer(self) -> None:
        raise damaged("it refers to out-of-band buffers that are not part of the file")

    dispatch[pickle.NEXT_BUFFER[0]] = _refuse_buffer

    # -- sized data: check the declared size before reading ---------------------------------------

    def load_frame(self) -> None:
        (size,) = unpack("<Q", self.read(8))
        self._ctx.check_size(size, self._ctx.stream_len - self._file.tell(), "a pickle frame")
        self._unframer.load_frame(size)

    dispatch[pickle.FRAME[0]] = load_frame

    def _read_n(self, n: int) -> bytes:
        data = self.read(n)
        if len(data) != n:
            raise damaged("it ends in the middle of a value")
        return data

    def _bytearray(self, n: int) -> bytearray:
        buf = bytearray(n)
        self.readinto(buf)
        return buf

    def _text(self, n: int) -> str:
        return str(self._read_n(n), "utf-8", "surrogatepass")

    dispatch[pickle.BINBYTES[0]] = _sized("<I", 4, "a bytes value", _read_n)
    dispatch[pickle.BINBYTES8[0]] = _sized("<Q", 8, "a bytes value", _read_n)
    dispatch[pickle.BYTEARRAY8[0]] = _sized("<Q", 8, "a byte array", _bytearray)
    dispatch[pickle.BINUNICODE[0]] = _sized("<I", 4, "a text value", _text)
    dispatch[pickle.BINUNICODE8[0]] = _sized("<Q", 8, "a text value", _text)
    dispatch[pickle.BINSTRING[0]] = _sized(
        "<i", 4, "a text value", lambda self, n: self._decode_string(self._read_n(n))
    )
    dispatch[pickle.LONG4[0]] = _sized(
        "<i", 4, "a number", lambda self, n: pickle.decode_long(self._read_n(n))
    )

    # -- containers: only real lists / dicts / sets, with shallow hashable keys -------------------

    def _key(self, key: object) -> None:
        if type(key) in _SCALAR_KEYS:
            return
        if type(key) in (tuple, frozenset):
            _guards.check_key_depth(key, self._ctx.limits.max_depth)

    def load_append(self) -> None:
        value = self.stack.pop()
        target = self.stack[-1]
        if type(target) is not list:
            raise bad_state("the file appends to something that is not a list")
        target.append(value)

    dispatch[pickle.APPEND[0]] = load_append

    def load_appends(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if type(target) is not list:
            raise bad_state("the file appends to something that is not a list")
        target.extend(items)

    dispatch[pickle.APPENDS[0]] = load_appends

    def _target_dict(self) -> dict:
        target = self.stack[-1]
        if not isinstance(target, dict):
            raise bad_state("the file sets an item on something that is not a dict")
        return target

    def load_setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        self._key(key)
        self._target_dict()[key] = value

    dispatch[pickle.SETITEM[0]] = load_setitem

    def load_setitems(self) -> None:
        items = self.pop_mark()
        target = self._target_dict()
        for i in range(0, len(items) - 1, 2):
            self._key(items[i])
            target[items[i]] = items[i + 1]

    dispatch[pickle.SETITEMS[0]] = load_setitems

    def load_dict(self) -> None:
        items = self.pop_mark()
        for key in items[::2]:
            self._key(key)
        self.append({items[i]: items[i + 1] for i in range(0, len(items) - 1, 2)})

    dispatch[pickle.DICT[0]] = load_dict

    def load_additems(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if type(target) is not set:
            raise bad_state("the file adds items to something that is not a set")
        for item in items:
            self._key(item)
        target.update(items)

    dispatch[pickle.ADDITEMS[0]] = load_additems

    def load_frozenset(self) -> None:
        items = self.pop_mark()
        for item in items:
            self._key(item)
        self.append(frozenset(items))

    dispatch[pickle.FROZENSET[0]] = load_frozenset


def _seal_members(ctx: LoadContext, state: object) -> None:
    """Seal arrays and dtypes directly inside ``state`` so no later BUILD can change them."""
    members: Iterable[object]
    if type(state) is dict:
        members = state.values()
    elif type(state) is tuple:
        members = [m for item in state for m in (item.values() if type(item) is dict else (item,))]
    else:
        return
    for member in members:
        if isinstance(member, np.ndarray | np.dtype):
            ctx.seal(member)


def _call_refusal(allow, func: object) -> Exception:
    if allow.values.get(id(func)) is func:
        return refuse(
            f"call {allow.name_of(func)}",
            "may be stored in a model but never called while loading one",
        )
    return refuse(
        f"call an object of type {type(func).__name__} that it built itself",
        "is not on the list of things a scikit-learn model needs",
    )


def _refuse_dunder_state(state: object) -> None:
    """Refuse BUILD state that sets special attributes such as ``__class__``.

    Genuine estimator state never does; setting ``__class__`` would turn an allowed object
    into another class after its checks ran.
    """
    parts = state if type(state) is tuple and len(state) == 2 else (state,)
    for part in parts:
        if type(part) is not dict:
            continue
        for key in part:
            if type(key) is str and key.startswith("__") and key.endswith("__"):
                raise refuse(
                    f"set the special attribute {key[:40]} on an object",
                    "genuine model files never do this",
                )
