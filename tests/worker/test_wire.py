"""The worker's replies are parsed as data: every shape, size and code is checked. Values
round-trip exactly, except that a missing text value (None) arrives as NaN."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lib.worker._wire import HEADER_LENGTH, MalformedReply, decode_reply, encode_reply


@pytest.mark.parametrize(
    "array",
    [
        np.arange(10, dtype=np.float64),
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.array([1, 2, 3], dtype=np.int64),
        np.array([True, False]),
        np.array([7], dtype=np.uint8),
        np.array(["no", "yes", "no"], dtype=object),
        np.array(["a", None, "a"], dtype=object),
        np.array(["x", "y"]),  # numpy text
        np.arange(6, dtype=">f8"),  # big-endian: sent little-endian
        np.empty((0, 3)),
    ],
    ids=lambda a: f"{a.dtype}{a.shape}",
)
def test_arrays_round_trip(array):
    status, payload = decode_reply(encode_reply("ok", {"a": array, "note": "hi", "n": 3}))
    assert status == "ok" and payload["note"] == "hi" and payload["n"] == 3
    assert payload["a"].shape == array.shape
    expected = pd.Series(array.ravel()).fillna(np.nan)
    pd.testing.assert_series_equal(pd.Series(payload["a"].ravel()), expected, check_dtype=False)


def _raw(header: dict, body: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(HEADER_LENGTH, "little") + text + body


BAD = {
    "short": b"\x01",
    "length past the end": (10**6).to_bytes(HEADER_LENGTH, "little") + b"{}",
    "not json": (3).to_bytes(HEADER_LENGTH, "little") + b"\xff\xfe\xfd",
    "not a record": _raw([]),  # type: ignore[arg-type]
    "no status": _raw({"plain": {}, "arrays": []}),
    "object dtype": _raw({"status": "ok", "plain": {}, "arrays": [
        {"key": "y", "dtype": "|O", "shape": [1]}]}, b"\0" * 8),
    "negative shape": _raw({"status": "ok", "plain": {}, "arrays": [
        {"key": "y", "dtype": "<f8", "shape": [-1]}]}),
    "bool shape": _raw({"status": "ok", "plain": {}, "arrays": [
        {"key": "y", "dtype": "<f8", "shape": [True]}]}, b"\0" * 8),
    "array past the end": _raw({"status": "ok", "plain": {}, "arrays": [
        {"key": "y", "dtype": "<f8", "shape": [1000]}]}, b"\0" * 8),
    "huge shape": _raw({"status": "ok", "plain": {}, "arrays": [
        {"key": "y", "dtype": "<f8", "shape": [2**62, 2**62]}]}, b"\0" * 8),
    "trailing bytes": _raw({"status": "ok", "plain": {}, "arrays": []}, b"extra"),
    "code past values": _raw({"status": "ok", "plain": {}, "arrays": [
        {"key": "y", "dtype": "<i8", "shape": [1], "values": ["a"]}]},
        (5).to_bytes(8, "little")),
    "negative code": _raw({"status": "ok", "plain": {}, "arrays": [
        {"key": "y", "dtype": "<i8", "shape": [1], "values": ["a"]}]},
        (-1).to_bytes(8, "little", signed=True)),
    "float codes": _raw({"status": "ok", "plain": {}, "arrays": [
        {"key": "y", "dtype": "<f8", "shape": [1], "values": ["a"]}]}, b"\0" * 8),
    "nested values": _raw({"status": "ok", "plain": {}, "arrays": [
        {"key": "y", "dtype": "<i8", "shape": [1], "values": [["a"]]}]}, b"\0" * 8),
    "deep json": (40_004).to_bytes(HEADER_LENGTH, "little") + b"[" * 20_002 + b"]" * 20_002,
}  # fmt: skip


@pytest.mark.parametrize("raw", BAD.values(), ids=BAD.keys())
def test_malformed_replies_are_refused(raw):
    with pytest.raises(MalformedReply):
        decode_reply(raw)
