"""Family 7: BUILD used to rewrite classes and modules for the whole process.

BUILD's default handling sets attributes on whatever object is below it on the stack. If that
object is a class or a module (fetched by an allowed name), the "state" rewrites it for every
later user: a poisoned ``LinearRegression.predict`` runs attacker code in every session.
Each payload carries a ``guard``: a snapshot of what it tries to poison, compared before/after.
"""

from __future__ import annotations

from .helpers import getattr_
from .opcodes import Build, Global, NewObj, assemble
from .registry import MALFORMED, Target, payload

F = "class-poisoning"

LINEAR_REGRESSION = Global("sklearn.linear_model._base", "LinearRegression")
WRAPPER = Global("joblib.numpy_pickle", "NumpyArrayWrapper")


def _linear_regression_dict() -> dict:
    from sklearn.linear_model import LinearRegression

    return dict(vars(LinearRegression))


def _wrapper_dict() -> dict:
    from joblib.numpy_pickle import NumpyArrayWrapper

    return dict(vars(NumpyArrayWrapper))


def _object_dict() -> dict:
    return dict(vars(object))


def _numpy_random_seed() -> object:
    import numpy.random

    return numpy.random.__dict__.get("seed"), numpy.random.__dict__.get("poisoned")


def _multiarray_reconstruct() -> object:
    from numpy._core import _multiarray_umath

    return _multiarray_umath.__dict__.get("_reconstruct"), _multiarray_umath.__dict__.get("x")


@payload("poison-LinearRegression-slotstate", F, expect=MALFORMED, guard=_linear_regression_dict)
def poison_class_slotstate(t: Target) -> bytes:
    """BUILD on the LinearRegression class with slot state ``{'predict': getattr,
    '__reduce__': getattr}``: every later ``predict`` call in the process would be hijacked."""
    state = (None, {"predict": Global("builtins", "getattr"), "__reduce__": "x"})
    return assemble(Build(LINEAR_REGRESSION, state), protocol=4)


@payload("poison-LinearRegression-dictstate", F, expect=MALFORMED, guard=_linear_regression_dict)
def poison_class_dictstate(t: Target) -> bytes:
    """BUILD on the LinearRegression class with a dict state ``{'predict': None}``."""
    return assemble(Build(LINEAR_REGRESSION, {"predict": None}), protocol=2)


@payload("poison-NumpyArrayWrapper-class", F, expect=MALFORMED, guard=_wrapper_dict)
def poison_wrapper(t: Target) -> bytes:
    """BUILD on joblib's NumpyArrayWrapper class replacing ``read_array``: would change how
    every later joblib file in the process is read."""
    state = (None, {"read_array": Global("builtins", "getattr")})
    return assemble(Build(WRAPPER, state), protocol=4)


@payload("poison-builtins.object", F, expect=MALFORMED, guard=_object_dict)
def poison_object(t: Target) -> bytes:
    """BUILD on ``builtins.object`` with slot state ``{'__reduce_ex__': getattr}``."""
    state = (None, {"__reduce_ex__": Global("builtins", "getattr")})
    return assemble(Build(Global("builtins", "object"), state), protocol=4)


@payload("poison-module-numpy.random", F, expect=MALFORMED, guard=_numpy_random_seed)
def poison_module(t: Target) -> bytes:
    """BUILD on the ``numpy.random`` module object: dict state replaces ``seed``."""
    state = {"seed": None, "poisoned": True}
    return assemble(Build(Global("numpy", "random"), state), protocol=2)


@payload("poison-C-module-via-__self__", F, expect=MALFORMED, guard=_multiarray_reconstruct)
def poison_c_module(t: Target) -> bytes:
    """``getattr(numpy._core.multiarray._reconstruct, '__self__')`` is numpy's C module; BUILD
    on it replaces ``_reconstruct`` (used by every array unpickle). Allowed names only."""
    module = getattr_(Global("numpy._core.multiarray", "_reconstruct"), "__self__")
    state = (None, {"_reconstruct": Global("builtins", "getattr"), "x": 1})
    return assemble(Build(module, state), protocol=4)


@payload("poison-instance-__class__-Popen", F, mentions=("Popen",))
def poison_instance_class(t: Target) -> bytes:
    """A LinearRegression instance whose slot state sets ``__class__`` to ``subprocess.Popen``."""
    state = (None, {"__class__": Global("subprocess", "Popen")})
    return assemble(Build(NewObj(LINEAR_REGRESSION), state), protocol=4)


@payload("poison-instance-__class__-allowed", F, expect=MALFORMED)
def poison_instance_class_allowed(t: Target) -> bytes:
    """A LinearRegression instance whose slot state sets ``__class__`` to ``object`` (allowed
    names only): BUILD must never assign dunder attributes."""
    state = (None, {"__class__": Global("builtins", "object")})
    return assemble(Build(NewObj(LINEAR_REGRESSION), state), protocol=4)


@payload("poison-instance-__class__-swap", F, expect=MALFORMED)
def poison_instance_class_swap(t: Target) -> bytes:
    """A KFold object (no ``__setstate__``, so BUILD falls back to setattr) whose slot state sets
    ``__class__`` to LinearRegression: the object changes type after creation, so checks tied
    to the class it was created as no longer describe it. Genuine files never assign dunders."""
    kfold = NewObj(Global("sklearn.model_selection._split", "KFold"))
    return assemble(Build(kfold, (None, {"__class__": LINEAR_REGRESSION})), protocol=4)


@payload("poison-instance-__dict__-getattr", F, expect=MALFORMED)
def poison_instance_dict(t: Target) -> bytes:
    """A LinearRegression instance whose slot state replaces ``__dict__`` with a dict holding
    ``predict = getattr(array, 'tofile')``: a method shadowed by a file-writing bound method."""
    from .helpers import ndarray_u8

    state = (None, {"__dict__": {"predict": getattr_(ndarray_u8(b"\x01"), "tofile")}})
    return assemble(Build(NewObj(LINEAR_REGRESSION), state), protocol=4)
