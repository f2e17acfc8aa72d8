"""Builders of small hostile ``.xlsx`` files for the reader's tests.

Each starts from a genuine workbook written by ``DataFrame.to_excel`` and rewrites parts with
``zipfile``, or patches the bytes of its zip directory.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pandas as pd

SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
PACKAGE_RELS = "_rels/.rels"
_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

# Ten entities, each ten of the one before: &j; would expand to 10**10 characters.
BILLION_LAUGHS = (
    '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY {name} "{("&" + before + ";") * 10}">'
        for before, name in zip("abcdefghi", "bcdefghij", strict=True)
    )
    + "]>"
)


def genuine() -> bytes:
    """A small genuine workbook: name (text), count (int), value (float)."""
    frame = pd.DataFrame({"name": ["a", "b", "c"], "count": [1, 2, 3], "value": [1.5, 2.5, -0.25]})
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def text(ref: str, value: str) -> str:
    """An inline-text cell."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def number(ref: str, value: float | str, **attributes: str) -> str:
    """A cell holding ``<v>value</v>`` (a number unless ``t=`` says otherwise)."""
    extra = "".join(f' {key}="{val}"' for key, val in attributes.items())
    return f'<c r="{ref}"{extra}><v>{value}</v></c>'


def row(number_: int, *cells: str) -> str:
    return f'<row r="{number_}">{"".join(cells)}</row>'


TABLE = (
    row(1, text("A1", "name"), text("B1", "count"))
    + row(2, text("A2", "a"), number("B2", 1))
    + row(3, text("A3", "b"), number("B3", 2))
)


def sheet(rows: str, *, head: str = "", prolog: str = "") -> bytes:
    """A worksheet part holding ``rows`` (``<row>`` elements); ``head`` goes before them."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet {_MAIN}>{head}'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def with_parts(parts: dict[str, bytes | None], *, base: bytes | None = None,
               compression: int = zipfile.ZIP_DEFLATED) -> bytes:  # fmt: skip
    """``base`` (a genuine workbook) with parts replaced, added, or removed (None)."""
    source = zipfile.ZipFile(io.BytesIO(base if base is not None else genuine()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in parts:
                target.writestr(info.filename, source.read(info))
        for name, content in parts.items():
            if content is not None:
                target.writestr(name, content, compress_type=compression)
    return buffer.getvalue()


def with_shared_strings(strings: bytes, rows: str) -> bytes:
    """A genuine workbook whose sheet holds ``rows`` and whose shared-strings part is ``strings``.

    ``DataFrame.to_excel`` writes text inline, so the part and its relationship are added.
    """
    base = genuine()
    rels = zipfile.ZipFile(io.BytesIO(base)).read(WORKBOOK_RELS)
    link = (
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml" Id="rIdStrings" />'
    )
    rels = rels.replace(b"</Relationships>", link + b"</Relationships>")
    parts = {SHEET: sheet(rows), SHARED_STRINGS: strings, WORKBOOK_RELS: rels}
    return with_parts(parts, base=base)


def shared_strings(*items: str) -> bytes:
    """A shared-strings part of ``<si>`` items (each given as its inner XML)."""
    return (f"<sst {_MAIN}>" + "".join(f"<si>{item}</si>" for item in items) + "</sst>").encode()


def with_sheet(rows: str, **kwargs: str) -> bytes:
    """A genuine workbook whose first sheet is replaced by ``sheet(rows, **kwargs)``."""
    return with_parts({SHEET: sheet(rows, **kwargs)})


def patch_entry(data: bytes, name: str, *, central: dict[int, int], local: dict[int, int],
                size: str = "<I") -> bytes:  # fmt: skip
    """Overwrite fields (offset -> value) of entry ``name``'s directory record and local header."""
    patched = bytearray(data)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46 : start + 46 + name_length] == name.encode():
            header = struct.unpack_from("<I", data, start + 42)[0]
            for offset, value in central.items():
                struct.pack_into(size if offset >= 16 else "<H", patched, start + offset, value)
            for offset, value in local.items():
                struct.pack_into(size if offset >= 14 else "<H", patched, header + offset, value)
            return bytes(patched)
        start += 4
    raise KeyError(name)


def declared_size(data: bytes, name: str, size: int) -> bytes:
    """Entry ``name`` declaring ``size`` unpacked bytes (its directory record and local header)."""
    return patch_entry(data, name, central={24: size}, local={22: size})


def encrypted(data: bytes, name: str) -> bytes:
    """Entry ``name`` flagged as encrypted."""
    return patch_entry(data, name, central={8: 0x1}, local={6: 0x1})


def corrupt_deflate(data: bytes, name: str) -> bytes:
    """Entry ``name`` with bytes in the middle of its compressed stream inverted."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    begin = info.header_offset + 30 + name_length + extra_length
    middle = begin + info.compress_size // 2
    patched = bytearray(data)
    for position in range(middle - 8, middle + 8):
        patched[position] ^= 0xFF
    return bytes(patched)
