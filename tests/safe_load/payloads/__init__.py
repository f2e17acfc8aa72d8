"""Hostile model files for the safe loader's tests, built by hand as bytes (never loaded here).

Importing this package fills ``REGISTRY`` (name -> :class:`Payload`) from the family modules:

1. ``direct``      dangerous callables named directly (os.system, subprocess, eval, pty, pip...)
2. ``indirect``    resolvers and getattr chains (pkgutil, operator, functools, profilers, copyreg)
3. ``indirect``    protocol 4 dotted names (``('numpy', 'load.__globals__')``)
4. ``allowed``     dangerous functions inside numpy / sklearn / joblib / pandas
5. ``containers``  nested pickles in object arrays and compressed streams
6. ``containers``  legacy joblib containers (ZF, NDArrayWrapper)
7. ``poison``      BUILD rewriting classes and modules
8. ``delayed``     fitted estimators whose parameters hold dangerous callables
9. ``bombs``       decompression bombs, huge declared sizes, deep nesting, memo explosions
10. ``protocol``   EXT codes, PERSID, INST / OBJ / NEWOBJ_EX, codec lookups
11. ``state``      crafted tree / SVC / KD-tree arrays
"""

from . import allowed, bombs, containers, delayed, direct, indirect, poison, protocol, state
from .opcodes import assemble, disassemble
from .registry import REGISTRY, SECRET, Payload, Target

__all__ = [
    "REGISTRY",
    "SECRET",
    "Payload",
    "Target",
    "allowed",
    "assemble",
    "bombs",
    "containers",
    "delayed",
    "direct",
    "disassemble",
    "indirect",
    "poison",
    "protocol",
    "state",
]
