"""A tiny pickle assembler: describe a payload as a tree of nodes, get the opcode bytes.

Nothing here ever unpickles anything. ``assemble`` only writes opcodes (from ``pickle``'s own
constants) so a test can feed hostile streams to the safe loader, and ``disassemble`` uses
``pickletools.dis``, which reads opcodes without executing them.

Literal Python values (``str``, ``bytes``, ``int``, ``float``, ``None``, ``bool``, ``tuple``,
``list``, ``dict``) become the matching opcodes; the node classes below add the operations an
attacker uses: ``Global`` (GLOBAL or STACK_GLOBAL), ``Call`` (REDUCE), ``Build`` (BUILD),
``NewObj`` / ``NewObjEx`` (NEWOBJ / NEWOBJ_EX), ``Inst`` / ``Obj`` (protocol 0/1 INST / OBJ),
``Put`` / ``Get`` (memo) and ``Raw`` (hand-written bytes).
"""

from __future__ import annotations

import io
import pickle
import pickletools
import struct
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Build",
    "Call",
    "Get",
    "Global",
    "Inst",
    "NewObj",
    "NewObjEx",
    "Obj",
    "Put",
    "Raw",
    "assemble",
    "disassemble",
]


@dataclass(frozen=True)
class Global:
    """``module.name`` looked up by the unpickler (``find_class``).

    ``opcode`` is ``"auto"`` (GLOBAL below protocol 4, STACK_GLOBAL from 4), ``"global"`` or
    ``"stack"``; STACK_GLOBAL is the form that lets a protocol-4 unpickler resolve dotted names.
    """

    module: str
    name: str
    opcode: str = "auto"


@dataclass(frozen=True)
class Call:
    """``func(*args)`` through REDUCE."""

    func: Any
    args: tuple = ()


@dataclass(frozen=True)
class Build:
    """``obj.__setstate__(state)`` or the default BUILD (dict update / setattr of slot state)."""

    obj: Any
    state: Any


@dataclass(frozen=True)
class NewObj:
    """``cls.__new__(cls, *args)`` through NEWOBJ."""

    cls: Any
    args: tuple = ()


@dataclass(frozen=True)
class NewObjEx:
    """``cls.__new__(cls, *args, **kwargs)`` through NEWOBJ_EX (protocol 4)."""

    cls: Any
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Inst:
    """Protocol 0 INST: ``module.name(*args)`` with the class named inline."""

    module: str
    name: str
    args: tuple = ()


@dataclass(frozen=True)
class Obj:
    """Protocol 1 OBJ: ``cls(*args)`` with the class taken from the stack."""

    cls: Any
    args: tuple = ()


@dataclass(frozen=True)
class Put:
    """Emit ``value`` and store it in memo slot ``index`` (BINPUT / LONG_BINPUT)."""

    value: Any
    index: int


@dataclass(frozen=True)
class Get:
    """Push memo slot ``index`` (BINGET / LONG_BINGET)."""

    index: int


@dataclass(frozen=True)
class Raw:
    """Bytes written as they are (hand-written opcodes, deliberately broken lengths...)."""

    data: bytes


class _Writer:
    def __init__(self, protocol: int):
        self.protocol = protocol
        self.out = io.BytesIO()

    def w(self, data: bytes) -> None:
        self.out.write(data)

    def emit(self, node: Any) -> None:
        p = self.protocol
        if isinstance(node, Raw):
            self.w(node.data)
        elif node is None:
            self.w(pickle.NONE)
        elif node is True or node is False:
            if p >= 2:
                self.w(pickle.NEWTRUE if node else pickle.NEWFALSE)
            else:
                self.w(pickle.TRUE if node else pickle.FALSE)
        elif isinstance(node, int):
            self.emit_int(node)
        elif isinstance(node, float):
            if p >= 1:
                self.w(pickle.BINFLOAT + struct.pack(">d", node))
            else:
                self.w(pickle.FLOAT + repr(node).encode() + b"\n")
        elif isinstance(node, str):
            self.emit_str(node)
        elif isinstance(node, bytes):
            self.emit_bytes(node)
        elif isinstance(node, tuple):
            self.emit_tuple(node)
        elif isinstance(node, list):
            self.w(pickle.EMPTY_LIST if p >= 1 else pickle.MARK + pickle.LIST)
            if node:
                self.w(pickle.MARK)
                for item in node:
                    self.emit(item)
                self.w(pickle.APPENDS)
        elif isinstance(node, dict):
            self.w(pickle.EMPTY_DICT if p >= 1 else pickle.MARK + pickle.DICT)
            if node:
                self.w(pickle.MARK)
                for key, value in node.items():
                    self.emit(key)
                    self.emit(value)
                self.w(pickle.SETITEMS)
        elif isinstance(node, Global):
            self.emit_global(node)
        elif isinstance(node, Call):
            self.emit(node.func)
            self.emit_tuple(tuple(node.args))
            self.w(pickle.REDUCE)
        elif isinstance(node, Build):
            self.emit(node.obj)
            self.emit(node.state)
            self.w(pickle.BUILD)
        elif isinstance(node, NewObj):
            self.emit(node.cls)
            self.emit_tuple(tuple(node.args))
            self.w(pickle.NEWOBJ)
        elif isinstance(node, NewObjEx):
            self.emit(node.cls)
            self.emit_tuple(tuple(node.args))
            self.emit(dict(node.kwargs))
            self.w(pickle.NEWOBJ_EX)
        elif isinstance(node, Inst):
            self.w(pickle.MARK)
            for arg in node.args:
                self.emit(arg)
            self.w(pickle.INST + f"{node.module}\n{node.name}\n".encode())
        elif isinstance(node, Obj):
            self.w(pickle.MARK)
            self.emit(node.cls)
            for arg in node.args:
                self.emit(arg)
            self.w(pickle.OBJ)
        elif isinstance(node, Put):
            self.emit(node.value)
            self.emit_put(node.index)
        elif isinstance(node, Get):
            if p == 0:
                self.w(pickle.GET + str(node.index).encode() + b"\n")
            elif node.index < 256:
                self.w(pickle.BINGET + bytes([node.index]))
            else:
                self.w(pickle.LONG_BINGET + struct.pack("<I", node.index))
        else:
            raise TypeError(f"cannot assemble {node!r}")

    def emit_put(self, index: int) -> None:
        if self.protocol == 0:
            self.w(pickle.PUT + str(index).encode() + b"\n")
        elif index < 256:
            self.w(pickle.BINPUT + bytes([index]))
        else:
            self.w(pickle.LONG_BINPUT + struct.pack("<I", index))

    def emit_int(self, n: int) -> None:
        if self.protocol == 0:
            self.w(pickle.INT + str(n).encode() + b"\n")
        elif 0 <= n < 256:
            self.w(pickle.BININT1 + bytes([n]))
        elif 0 <= n < 65536:
            self.w(pickle.BININT2 + struct.pack("<H", n))
        elif -(2**31) <= n < 2**31:
            self.w(pickle.BININT + struct.pack("<i", n))
        else:
            encoded = pickle.encode_long(n)
            self.w(pickle.LONG1 + bytes([len(encoded)]) + encoded)

    def emit_str(self, s: str) -> None:
        if self.protocol == 0:
            escaped = s.replace("\\", "\\u005c").replace("\n", "\\u000a")
            self.w(pickle.UNICODE + escaped.encode("raw-unicode-escape") + b"\n")
            return
        data = s.encode("utf-8")
        if self.protocol >= 4 and len(data) < 256:
            self.w(pickle.SHORT_BINUNICODE + bytes([len(data)]) + data)
        else:
            self.w(pickle.BINUNICODE + struct.pack("<I", len(data)) + data)

    def emit_bytes(self, b: bytes) -> None:
        if self.protocol >= 3:
            if len(b) < 256:
                self.w(pickle.SHORT_BINBYTES + bytes([len(b)]) + b)
            else:
                self.w(pickle.BINBYTES + struct.pack("<I", len(b)) + b)
        else:
            # Protocol <= 2 spells bytes as _codecs.encode(latin-1 text, 'latin1'), as CPython does.
            self.emit(Call(Global("_codecs", "encode"), (b.decode("latin-1"), "latin1")))

    def emit_tuple(self, items: tuple) -> None:
        if not items:
            self.w(pickle.EMPTY_TUPLE if self.protocol >= 1 else pickle.MARK + pickle.TUPLE)
            return
        if self.protocol >= 2 and len(items) <= 3:
            for item in items:
                self.emit(item)
            self.w({1: pickle.TUPLE1, 2: pickle.TUPLE2, 3: pickle.TUPLE3}[len(items)])
            return
        self.w(pickle.MARK)
        for item in items:
            self.emit(item)
        self.w(pickle.TUPLE)

    def emit_global(self, node: Global) -> None:
        style = node.opcode
        if style == "auto":
            style = "stack" if self.protocol >= 4 else "global"
        if style == "stack":
            self.emit_str(node.module)
            self.emit_str(node.name)
            self.w(pickle.STACK_GLOBAL)
        else:
            self.w(pickle.GLOBAL + f"{node.module}\n{node.name}\n".encode())


def assemble(node: Any, protocol: int = 4, *, stop: bool = True) -> bytes:
    """Opcodes for ``node``: a PROTO header (protocol >= 2), the tree, then STOP."""
    writer = _Writer(protocol)
    if protocol >= 2:
        writer.w(pickle.PROTO + bytes([protocol]))
    writer.emit(node)
    if stop:
        writer.w(pickle.STOP)
    return writer.out.getvalue()


def disassemble(data: bytes) -> str:
    """``pickletools.dis`` text of a stream (reads opcodes only, never executes anything)."""
    out = io.StringIO()
    pickletools.dis(data, out=out)
    return out.getvalue()
