"""Family 9: decompression bombs and declared sizes far beyond what the file carries.

A loader must refuse these quickly and without allocating what they declare. Most use small
``Limits`` so a modest payload crosses the cap; the declared-size payloads use the defaults
(a few bytes asking for a terabyte must be refused whatever the caps are).
"""

from __future__ import annotations

import pickle
import struct

import numpy as np

from .helpers import COMPRESSORS, compressed_zeros, joblib_bytes
from .opcodes import Build, Call, Global, NewObj, Raw, assemble
from .registry import MALFORMED, Target, payload

F = "bomb"
MIB = 1 << 20
TIB = 1 << 40

#: Caps used by the small-limit bombs (the defaults are GiB-sized).
SMALL = {"max_inflated_bytes": 4 * MIB, "max_item_bytes": 2 * MIB}


def _joblib_zeros_bomb(method: str):
    def build(t: Target) -> bytes:
        return joblib_bytes(np.zeros(32 * MIB, dtype=np.uint8), compress=method)

    build.__doc__ = (
        f"A genuine {method}-compressed joblib file of a 32 MiB zero array (a few KiB on disk), "
        f"loaded with max_inflated_bytes=4 MiB: inflating must stop at the cap."
    )
    return build


for _method in COMPRESSORS:
    payload(f"bomb-{_method}-joblib-zeros", F, expect=MALFORMED, limits=SMALL)(
        _joblib_zeros_bomb(_method)
    )


def _binbytes8_bomb(method: str):
    def build(t: Target) -> bytes:
        size = 64 * MIB
        head = pickle.PROTO + b"\x04" + pickle.BINBYTES8 + struct.pack("<Q", size)
        return compressed_zeros(method, head, size)

    build.__doc__ = (
        f"{method} stream: PROTO 4, BINBYTES8 of 64 MiB zeros (streamed into the compressor), "
        f"loaded with a 4 MiB inflate cap."
    )
    return build


for _method in ("zlib", "xz"):
    payload(f"bomb-{_method}-binbytes8-64MiB", F, expect=MALFORMED, limits=SMALL)(
        _binbytes8_bomb(_method)
    )


@payload(
    "bomb-zlib-2GiB-default-limits",
    F,
    expect=MALFORMED,
    max_rss_growth=1280 * MIB + 200 * MIB,  # the 1 GiB default cap + 25 % + slack
    tags=("slow",),
)
def zlib_default_limits(t: Target) -> bytes:
    """About 2 MiB of zlib inflating to 2 GiB + a BINBYTES8 header, with the default limits
    (1 GiB inflate cap): must stop at the cap, not inflate everything, and hold about the cap
    in memory at most (a 1000:1 ratio means each upload can cost that much)."""
    size = 2 * 1024 * MIB
    head = pickle.PROTO + b"\x04" + pickle.BINBYTES8 + struct.pack("<Q", size)
    return _cached_zlib_bomb(head, size)


_CACHE: dict[tuple[bytes, int], bytes] = {}


def _cached_zlib_bomb(head: bytes, size: int) -> bytes:
    key = (head, size)
    if key not in _CACHE:
        _CACHE[key] = compressed_zeros("zlib", head, size)
    return _CACHE[key]


def _wrapper(shape: tuple, dtype: str = "f8", reconstructor: bool = False) -> Build:
    """A NumpyArrayWrapper exactly like joblib writes one (protocol 2 spelling; with
    ``reconstructor``, the protocol 0/1 spelling ``copyreg._reconstructor(cls, object, None)``)."""
    dtype_obj = Build(
        Call(Global("numpy", "dtype"), (dtype, False, True)),
        (3, "<", None, None, None, -1, -1, 0),
    )
    state = {
        "subclass": Global("numpy", "ndarray"),
        "shape": shape,
        "order": "C",
        "dtype": dtype_obj,
        "allow_mmap": False,
        "numpy_array_alignment_bytes": 16,
    }
    cls = Global("joblib.numpy_pickle", "NumpyArrayWrapper")
    if reconstructor:
        args = (cls, Global("builtins", "object"), None)
        return Build(Call(Global("copyreg", "_reconstructor"), args), state)
    return Build(NewObj(cls), state)


@payload("bomb-NumpyArrayWrapper-shape-1e12", F, expect=MALFORMED)
def wrapper_huge_shape(t: Target) -> bytes:
    """NumpyArrayWrapper declaring shape (10**12,) float64 (8 TB) followed by 64 bytes:
    joblib would ``np.empty`` the declared size before reading."""
    body = Raw(assemble(_wrapper((10**12,)), protocol=2, stop=False)[2:] + b"\x00" + bytes(64))
    return assemble(body, protocol=2)


@payload("bomb-NumpyArrayWrapper-reconstructor-shape-1e12", F, expect=MALFORMED)
def wrapper_huge_shape_reconstructor(t: Target) -> bytes:
    """The 8 TB NumpyArrayWrapper in the protocol 1 spelling joblib.dump(protocol=0/1) uses
    (copyreg._reconstructor, then BUILD): the same header checks must apply."""
    wrapper = _wrapper((10**12,), reconstructor=True)
    return assemble(
        Raw(assemble(wrapper, protocol=1, stop=False) + b"\x00" + bytes(64)), protocol=1
    )


@payload("bomb-NumpyArrayWrapper-shape-overflow", F, expect=MALFORMED)
def wrapper_overflow_shape(t: Target) -> bytes:
    """NumpyArrayWrapper with shape (2**40, 2**40, 2**40): the element count overflows int64."""
    body = Raw(
        assemble(_wrapper((TIB, TIB, TIB)), protocol=2, stop=False)[2:] + b"\x00" + bytes(64)
    )
    return assemble(body, protocol=2)


@payload("bomb-NumpyArrayWrapper-negative-shape", F, expect=MALFORMED)
def wrapper_negative_shape(t: Target) -> bytes:
    """NumpyArrayWrapper with shape (-1,) and (2**63-1 bytes) itemsize tricks: nonsense sizes."""
    body = Raw(assemble(_wrapper((-(2**62), -4)), protocol=2, stop=False)[2:] + b"\x00" + bytes(64))
    return assemble(body, protocol=2)


def _declared(opcode: bytes, size: int, fmt: str = "<Q"):
    def build(t: Target) -> bytes:
        return pickle.PROTO + b"\x05" + opcode + struct.pack(fmt, size) + bytes(64) + pickle.STOP

    return build


for _name, _opcode in (
    ("BINBYTES8", pickle.BINBYTES8),
    ("BYTEARRAY8", pickle.BYTEARRAY8),
    ("BINUNICODE8", pickle.BINUNICODE8),
    ("FRAME", pickle.FRAME),
):
    _build = _declared(_opcode, TIB)
    _build.__doc__ = f"{_name} declaring 2**40 bytes followed by 64 bytes: must not allocate 1 TiB."
    payload(f"bomb-{_name}-2**40", F, expect=MALFORMED)(_build)


@payload("bomb-BINUNICODE-4GiB-protocol1", F, expect=MALFORMED)
def binunicode_4g(t: Target) -> bytes:
    """Protocol 1 BINUNICODE declaring 0xFFFFFFFF bytes followed by a handful."""
    return pickle.BINUNICODE + struct.pack("<I", 0xFFFFFFFF) + b"abc" + pickle.STOP


@payload("bomb-LONG4-2GiB", F, expect=MALFORMED)
def long4(t: Target) -> bytes:
    """LONG4 declaring a 2**31-1 byte integer followed by 16 bytes."""
    return pickle.PROTO + b"\x02" + pickle.LONG4 + struct.pack("<i", 2**31 - 1) + bytes(16) + b"."


@payload("bomb-LONG4-real-1MiB-int", F, expect=MALFORMED, limits={"max_item_bytes": 64 * 1024})
def long4_real(t: Target) -> bytes:
    """LONG4 holding a real 1 MiB integer (str() of it is quadratic) over a 64 KiB item cap."""
    body = b"\x01" * MIB
    return pickle.PROTO + b"\x02" + pickle.LONG4 + struct.pack("<i", len(body)) + body + b"."


@payload("bomb-deep-nested-lists-100k", F, expect=MALFORMED)
def deep_lists(t: Target) -> bytes:
    """100,000 lists nested in each other (EMPTY_LIST x N then APPEND x N): recursion bomb for
    any recursive graph walk (and for repr / deepcopy)."""
    n = 100_000
    return pickle.PROTO + b"\x04" + pickle.EMPTY_LIST * (n + 1) + pickle.APPEND * n + pickle.STOP


@payload("bomb-deep-MARK-tuples-100k", F, expect=MALFORMED)
def deep_tuples(t: Target) -> bytes:
    """100,000 nested tuples via MARK ... TUPLE (also 100,000 entries on the mark stack)."""
    n = 100_000
    return pickle.PROTO + b"\x02" + pickle.MARK * n + pickle.TUPLE * n + pickle.STOP


@payload("bomb-deep-dicts-in-estimator-state", F, expect=MALFORMED)
def deep_dicts_state(t: Target) -> bytes:
    """A LinearRegression whose state holds 50,000 nested dicts (SETITEM chain)."""
    n = 50_000
    nested = (pickle.EMPTY_DICT + pickle.BININT1 + b"\x00") * n + (
        pickle.EMPTY_DICT + pickle.SETITEM * n
    )
    head = assemble(NewObj(Global("sklearn.linear_model._base", "LinearRegression")), 2, stop=False)
    state = pickle.EMPTY_DICT + assemble("coef_", 2, stop=False)[2:] + nested + pickle.SETITEM
    return head + state + pickle.BUILD + pickle.STOP


def _laughs(levels: int, fanout: int) -> bytes:
    """Level 0 is a list of ints; level k+1 is ``fanout`` memo references to level k."""
    out = [pickle.PROTO + b"\x04", pickle.EMPTY_LIST, pickle.MARK]
    out.append((pickle.BININT1 + b"\x07") * 16)
    out.append(pickle.APPENDS + pickle.LONG_BINPUT + struct.pack("<I", 0))
    for level in range(1, levels + 1):
        out.append(pickle.POP + pickle.EMPTY_LIST + pickle.MARK)  # only the newest level stays
        out.append((pickle.LONG_BINGET + struct.pack("<I", level - 1)) * fanout)
        out.append(pickle.APPENDS + pickle.LONG_BINPUT + struct.pack("<I", level))
    out.append(pickle.STOP)
    return b"".join(out)


@payload("bomb-billion-laughs-memo", F, expect=MALFORMED)
def billion_laughs(t: Target) -> bytes:
    """40 levels of lists each holding 10 memo references to the level below: 10**40 leaves
    for a walker that does not remember what it has visited (a few hundred bytes of file)."""
    return _laughs(40, 10)


def _scaler_with_laughs() -> bytes:
    laughs = _laughs(40, 10)[2:-1]  # no PROTO, no STOP
    head = assemble(NewObj(Global("sklearn.preprocessing._data", "MinMaxScaler")), 4, stop=False)
    fitted = {
        "feature_range": (0, 1),
        "copy": True,
        "clip": False,
        "n_features_in_": 2,
        "n_samples_seen_": 10,
        "min_": 0.0,
        "data_min_": 0.0,
        "data_max_": 1.0,
        "data_range_": 1.0,
    }
    state = assemble(fitted, 4, stop=False)[2:]
    key = assemble("scale_", 4, stop=False)[2:]
    return head + state + key + laughs + pickle.SETITEM + pickle.BUILD + pickle.STOP


@payload("bomb-billion-laughs-in-estimator", F, expect=MALFORMED)
def billion_laughs_estimator(t: Target) -> bytes:
    """A MinMaxScaler whose ``scale_`` is the 10**40-leaf memo structure instead of an array.
    Cheap for a walker that remembers what it visited, but ``transform`` runs ``X *= scale_``,
    and numpy's shape discovery visits every leaf: the app's prediction hangs for ever."""
    return _scaler_with_laughs()


@payload(
    "bomb-billion-laughs-in-estimator-sandbox",
    F,
    expect=MALFORMED,
    sandbox=True,
    limits={"child_timeout_s": 10.0},
)
def billion_laughs_estimator_sandbox(t: Target) -> bytes:
    """The MinMaxScaler with a 10**40-leaf ``scale_``, sandbox on (10 s child timeout)."""
    return _scaler_with_laughs()


@payload("bomb-object-count-max_objects", F, expect=MALFORMED, limits={"max_objects": 10_000})
def object_count(t: Target) -> bytes:
    """200,000 small ints appended to one list with max_objects=10,000: the count cap must hit."""
    n = 200_000
    body = pickle.EMPTY_LIST + pickle.MARK + (pickle.BININT1 + b"\x01") * n + pickle.APPENDS
    return pickle.PROTO + b"\x04" + body + pickle.STOP


def _deep_tuple(n: int) -> bytes:
    """An empty tuple wrapped in n one-item tuples (EMPTY_TUPLE, then TUPLE1 x n)."""
    return pickle.EMPTY_TUPLE + pickle.TUPLE1 * n


@payload("bomb-set-of-a-1M-deep-tuple", F, expect=MALFORMED)
def set_of_deep_tuple(t: Target) -> bytes:
    """builtins.set called on a list holding a 1,000,000-deep nested tuple: hashing it recurses
    in C and crashes the process, so the call is refused before it happens."""
    return (
        pickle.PROTO + b"\x02" + pickle.GLOBAL + b"builtins\nset\n"
        + pickle.EMPTY_LIST + _deep_tuple(1_000_000) + pickle.APPEND
        + pickle.TUPLE1 + pickle.REDUCE + pickle.STOP
    )  # fmt: skip


@payload("bomb-frozenset-of-a-1M-deep-tuple", F, expect=MALFORMED)
def frozenset_of_deep_tuple(t: Target) -> bytes:
    """builtins.frozenset on a tuple holding the 1,000,000-deep nested tuple."""
    return (
        pickle.PROTO + b"\x02" + pickle.GLOBAL + b"builtins\nfrozenset\n"
        + _deep_tuple(1_000_000) + pickle.TUPLE1 + pickle.TUPLE1 + pickle.REDUCE + pickle.STOP
    )  # fmt: skip


@payload("bomb-dict-keyed-by-a-1M-deep-tuple", F, expect=MALFORMED)
def dict_of_deep_tuple(t: Target) -> bytes:
    """builtins.dict on a list of one (key, value) pair whose key is 1,000,000 tuples deep."""
    return (
        pickle.PROTO + b"\x02" + pickle.GLOBAL + b"builtins\ndict\n"
        + pickle.EMPTY_LIST + _deep_tuple(1_000_000) + pickle.NONE + pickle.TUPLE2
        + pickle.APPEND + pickle.TUPLE1 + pickle.REDUCE + pickle.STOP
    )  # fmt: skip
