"""Family 10: rarely used opcodes and odd corners of the pickle protocol."""

from __future__ import annotations

import contextlib
import copyreg
import pickle
import struct

from .helpers import getattr_, ndarray_u8
from .opcodes import Call, Global, Inst, NewObjEx, Obj, Raw, assemble
from .registry import MALFORMED, Target, payload

F = "protocol"

EXT_CODES = {"EXT1": 0xF1, "EXT2": 0xF1F2, "EXT4": 0x7FF1F2F3}


def _extension(module: str, name: str, code: int):
    """Register ``module.name`` as copyreg extension ``code`` around the load only."""

    @contextlib.contextmanager
    def registered():
        copyreg.add_extension(module, name, code)
        try:
            yield
        finally:
            copyreg.remove_extension(module, name, code)

    return registered


def _ext(opname: str, code: int) -> bytes:
    if opname == "EXT1":
        return pickle.EXT1 + bytes([code])
    if opname == "EXT2":
        return pickle.EXT2 + struct.pack("<H", code)
    return pickle.EXT4 + struct.pack("<i", code)


def _ext_payload(opname: str, code: int, module: str, name: str):
    def build(t: Target) -> bytes:
        return assemble(Call(Raw(_ext(opname, code)), (t.touch,)), protocol=2)

    build.__doc__ = (
        f"{opname} extension code {code:#x}, registered in copyreg (during the test only) as "
        f"``{module}.{name}``, called with 'touch MARKER'."
    )
    return build


for (_opname, _code), (_module, _name) in zip(
    EXT_CODES.items(),
    [("os", "system"), ("posix", "system"), ("subprocess", "getoutput")],
    strict=True,
):
    payload(
        f"{_opname}-extension-{_module}.{_name}",
        F,
        expect=MALFORMED,
        setup=_extension(_module, _name, _code),
    )(_ext_payload(_opname, _code, _module, _name))


@payload("EXT2-unregistered-code", F, expect=MALFORMED)
def ext_unregistered(t: Target) -> bytes:
    """EXT2 with a code nobody registered (the plain unpickler raises ValueError)."""
    return assemble(Call(Raw(_ext("EXT2", 0xBEEF)), (t.touch,)), protocol=2)


@payload("PERSID-os.system", F, expect=MALFORMED)
def persid(t: Target) -> bytes:
    """PERSID 'os.system' then REDUCE: a persistent-load hook must not exist."""
    return assemble(Call(Raw(pickle.PERSID + b"os.system\n"), (t.touch,)), protocol=0)


@payload("BINPERSID-tuple", F, expect=MALFORMED)
def binpersid(t: Target) -> bytes:
    """BINPERSID of ('os', 'system') then REDUCE."""
    pid = Raw(assemble(("os", "system"), protocol=2, stop=False)[2:] + pickle.BINPERSID)
    return assemble(Call(pid, (t.touch,)), protocol=2)


@payload("INST-os.system-protocol0", F, mentions=("system", "INST"))
def inst_os_system(t: Target) -> bytes:
    """Protocol 0 INST 'os system' with MARK 'touch MARKER': INST calls any callable."""
    return assemble(Inst("os", "system", (t.touch,)), protocol=0)


@payload("INST-subprocess.Popen-protocol0", F, mentions=("Popen", "INST"))
def inst_popen(t: Target) -> bytes:
    """Protocol 0 INST 'subprocess Popen' with the argv list."""
    return assemble(Inst("subprocess", "Popen", (t.argv,)), protocol=0)


@payload("OBJ-subprocess.Popen-protocol1", F, mentions=("Popen",))
def obj_popen(t: Target) -> bytes:
    """Protocol 1 OBJ: MARK, GLOBAL subprocess.Popen, argv, OBJ (calls the class)."""
    return assemble(Obj(Global("subprocess", "Popen"), (t.argv,)), protocol=1)


@payload("OBJ-builtins.open-protocol1", F, mentions=("open",))
def obj_open(t: Target) -> bytes:
    """Protocol 1 OBJ with ``builtins.open`` (OBJ calls non-classes too): creates MARKER."""
    return assemble(Obj(Global("builtins", "open"), (str(t.marker), "w")), protocol=1)


@payload("NEWOBJ_EX-subprocess.Popen", F, mentions=("Popen",))
def newobj_ex_popen(t: Target) -> bytes:
    """NEWOBJ_EX ``Popen.__new__(Popen, argv, **{})``: a Popen object without __init__."""
    return assemble(NewObjEx(Global("subprocess", "Popen"), (t.argv,), {}), protocol=4)


@payload("NEWOBJ_EX-numpy.memmap-kwargs", F, mentions=("memmap",))
def newobj_ex_memmap(t: Target) -> bytes:
    """NEWOBJ_EX ``numpy.memmap.__new__(memmap, MARKER, mode='w+', shape=(8,))``: memmap does
    its file work in ``__new__``, so NEWOBJ_EX alone creates the marker."""
    kwargs = {"mode": "w+", "shape": (8,), "dtype": "uint8"}
    return assemble(NewObjEx(Global("numpy", "memmap"), (str(t.marker),), kwargs), protocol=4)


@payload("getattr-unbound-ndarray.tofile", F)
def unbound_tofile(t: Target) -> bytes:
    """``getattr(numpy.ndarray, 'tofile')(array, MARKER)``: an unbound method of an allowed
    class, reached with allowed names only."""
    tofile = getattr_(Global("numpy", "ndarray"), "tofile")
    return assemble(Call(tofile, (ndarray_u8(b"\x01"), str(t.marker))), protocol=4)


@payload("_codecs.encode-rot13", F, expect=MALFORMED, modules=("encodings.rot_13",))
def codecs_rot13(t: Target) -> bytes:
    """``_codecs.encode('x', 'rot13')``: a codec lookup imports ``encodings.rot_13``; genuine
    files only use 'latin1'."""
    return assemble(Call(Global("_codecs", "encode"), ("abc", "rot13")), protocol=2)


@payload("_codecs.encode-hex_codec", F, expect=MALFORMED, modules=("encodings.hex_codec",))
def codecs_hex(t: Target) -> bytes:
    """``_codecs.encode(b'..', 'hex')``: imports ``encodings.hex_codec``."""
    return assemble(Call(Global("_codecs", "encode"), (b"\x01\x02", "hex")), protocol=3)


@payload(
    "_codecs.encode-made-up-codec", F, expect=MALFORMED, modules=("encodings.zz_payload_codec",)
)
def codecs_made_up(t: Target) -> bytes:
    """``_codecs.encode('x', 'zz_payload_codec')``: a lookup that searches import paths."""
    return assemble(Call(Global("_codecs", "encode"), ("x", "zz_payload_codec")), protocol=2)


@payload("_codecs.decode-not-on-list", F, expect=MALFORMED)
def codecs_decode(t: Target) -> bytes:
    """``_codecs.decode(b'...', 'zlib')``: a second decoder (imports encodings.zlib_codec)."""
    return assemble(Call(Global("_codecs", "decode"), (b"x\x9c\x03\x00\x00\x00\x00\x01", "zlib")))
