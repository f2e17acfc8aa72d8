"""joblib's array layout: a ``NumpyArrayWrapper`` placeholder followed by raw array bytes.

The real ``NumpyArrayWrapper`` is never created. NEWOBJ of it yields an :class:`ArrayPlaceholder`;
at its BUILD, :func:`read_wrapped_array` checks the declared subclass, shape, order and dtype, then
reads the bytes that follow in the underlying stream (or, for object arrays, the nested pickle that
follows, through ``nested_load``). Mirrors ``joblib.numpy_pickle.NumpyArrayWrapper.read_array``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np

from ._context import LoadContext
from ._guards import check_shape
from ._messages import RESAVE_HINT, bad_state, damaged

WRAPPER_KEYS = frozenset(
    {"subclass", "shape", "order", "dtype", "allow_mmap", "numpy_array_alignment_bytes"}
)


class ArrayPlaceholder:
    """Stands in for joblib's NumpyArrayWrapper until its BUILD; holds nothing."""

    __slots__ = ()


class MemmapMarker:
    """Stands in for ``numpy.memmap`` as a wrapper ``subclass`` value only (never callable)."""

    __slots__ = ()


MEMMAP_MARKER = MemmapMarker()


def read_wrapped_array(
    state: object,
    file: io.BytesIO,
    ctx: LoadContext,
    nested_load: Callable[[], object],
) -> np.ndarray:
    """Return the array described by a wrapper ``state`` dict, reading its data from ``file``."""
    if type(state) is not dict or not set(state) <= WRAPPER_KEYS:
        raise bad_state("an array header in this file has an unusual layout")
    subclass = state.get("subclass")
    if not (subclass is np.ndarray or subclass is np.matrix or subclass is MEMMAP_MARKER):
        raise bad_state("an array in this file claims an unsupported array type")
    dtype = state.get("dtype")
    order = state.get("order")
    if not isinstance(dtype, np.dtype) or order not in ("C", "F"):
        raise bad_state("an array header in this file is invalid")
    ctx.seal(dtype)
    count, nbytes = check_shape(state.get("shape"), dtype.itemsize, ctx, "an array")
    shape = tuple(int(x) for x in state["shape"])
    if dtype.hasobject:
        array = nested_load()
        if type(array) is not np.ndarray or not array.dtype.hasobject:
            raise bad_state("an object array in this file holds something else")
        return array
    remaining = ctx.stream_len - file.tell()
    alignment = state.get("numpy_array_alignment_bytes")
    if alignment is not None:
        pad = file.read(1)
        if len(pad) != 1:
            raise damaged("it ends in the middle of an array")
        remaining -= 1 + pad[0]
        file.seek(pad[0], io.SEEK_CUR)
    ctx.check_size(nbytes, remaining, "an array")
    array = np.empty(count, dtype=dtype)
    # numpy's stubs give ndarray a __buffer__ (the Buffer protocol) only for Python >= 3.12.
    if nbytes and file.readinto(array.view(np.uint8)) != nbytes:  # type: ignore[arg-type]
        raise damaged("it ends in the middle of an array")
    array = array.reshape(shape[::-1]).transpose() if order == "F" else array.reshape(shape)
    if not array.dtype.isnative:
        array = array.byteswap().view(array.dtype.newbyteorder("="))
    return array


def legacy_wrapper_refusal() -> Exception:
    """Return the error for joblib's pre-0.10 NDArrayWrapper / ZNDArrayWrapper."""
    return damaged(f"it was written by joblib older than 0.10. {RESAVE_HINT}")
