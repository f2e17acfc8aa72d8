"""Untrusted names shown literally: ``lib.literal`` for Markdown, ``lib.display`` spreadsheet
CSV for downloads. What the escaped forms look like in a real browser is checked by
tests/e2e/test_untrusted_text_browser.py."""

import io
import string

import numpy as np
import pandas as pd
import pytest

from lib.display import defuse, predictions_csv, spreadsheet_csv, spreadsheet_safe
from lib.literal import WORD_JOINER, literal, literal_lines


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        (
            "![x](http://127.0.0.1:9/x.png)",
            "\\!\\[x\\]\\(http⁠\\:\\/\\/127\\.0\\.0\\.1\\:9\\/x\\.png\\)",
        ),
        ("[click](http://evil.example)", "\\[click\\]\\(http⁠\\:\\/\\/evil\\.example\\)"),
        (":red[alarm] :material/delete:", "\\:red\\[alarm\\] \\:material\\/delete\\:"),
        ("$x^2$", "\\$x\\^2\\$"),
        ("**bold**", "\\*\\*bold\\*\\*"),
        ("<b>x</b>", "\\<b\\>x\\<\\/b\\>"),
        ("a|b", "a\\|b"),
        ("`code`", "\\`code\\`"),
        ("~~s~~", "\\~\\~s\\~\\~"),
        ("www.evil.example", "www⁠\\.evil\\.example"),
        ("me@evil.example", "me⁠\\@evil\\.example"),
        ("plain words 42", "plain words 42"),
        ("café ünïcode", "café ünïcode"),
    ],
)
def test_every_ascii_punctuation_character_is_escaped(raw, escaped):
    assert literal(raw) == escaped.replace("⁠", WORD_JOINER)


def test_all_punctuation_and_nothing_else_gets_a_backslash():
    text = string.punctuation + string.ascii_letters + string.digits + " "
    out = literal(text).replace(WORD_JOINER, "")  # one before "@"
    assert out == "".join("\\" + c if c in string.punctuation else c for c in text)
    # Removing the backslashes and word joiners gives the original characters back.
    assert (
        out.replace(WORD_JOINER, "").replace("\\\\", "\0").replace("\\", "").replace("\0", "\\")
        == text
    )


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85"])
def test_a_name_is_one_line_so_it_cannot_start_a_heading_or_a_list(brk):
    assert literal(f"a{brk}# heading{brk}- item") == "a \\# heading \\- item"


def test_anything_is_shown_as_its_str():
    assert (
        literal(3.5) == "3\\.5"
        and literal(None) == "None"
        and literal(("a", 1)) == ("\\(\\'a\\'\\, 1\\)")
    )


def test_a_message_keeps_its_lines_as_hard_breaks():
    assert literal_lines("Column '**x**' is empty.\nPick another.") == (
        "Column \\'\\*\\*x\\*\\*\\' is empty\\.  \nPick another\\."
    )


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_is_prefixed_with_a_quote(text):
    assert defuse(text) == "'" + text


@pytest.mark.parametrize("value", ["a=1", "1-2", "'=quoted", "", 3, -1.5, None, np.nan])
def test_other_values_are_unchanged(value):
    assert defuse(value) is value


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            '=HYPERLINK("http://evil.example","x")': ["=1+2", "plain", "-3", "@x"],
            "amount": [-1.5, 2.0, -3.25, 0.0],
            "count": [-1, 2, 3, 4],
            "flag": [True, False, True, False],
            "when": pd.to_datetime(["2024-01-01"] * 4),
            "class": pd.Categorical(["+a", "b", "+a", "b"]),
            "text": pd.array(["\tt", "u", None, "-v"], dtype="string"),
        }
    )


def test_the_spreadsheet_csv_neutralises_header_and_text_cells_and_keeps_numbers():
    frame = hostile_frame()
    read = pd.read_csv(io.BytesIO(spreadsheet_csv(frame)), keep_default_na=False)
    assert list(read.columns) == [
        "'=HYPERLINK(\"http://evil.example\",\"x\")", "amount", "count", "flag", "when", "class",
        "text",
    ]  # fmt: skip
    assert read.iloc[:, 0].tolist() == ["'=1+2", "plain", "'-3", "'@x"]
    assert read["amount"].tolist() == [-1.5, 2.0, -3.25, 0.0]  # negative numbers stay numbers
    assert read["count"].tolist() == [-1, 2, 3, 4]
    assert read["class"].tolist() == ["'+a", "b", "'+a", "b"]
    assert read["text"].tolist() == ["'\tt", "u", "", "'-v"]
    assert b"'=HYPERLINK" in spreadsheet_csv(frame).splitlines()[0]


def test_the_raw_csv_is_the_frame_untouched():
    frame = hostile_frame()
    read = pd.read_csv(io.BytesIO(predictions_csv(frame)), keep_default_na=False)
    assert list(read.columns) == list(frame.columns)
    assert read.iloc[:, 0].tolist() == frame.iloc[:, 0].tolist()
    assert read["class"].tolist() == ["+a", "b", "+a", "b"]
    assert read["amount"].tolist() == frame["amount"].tolist()


def test_neutralising_leaves_the_frame_itself_alone():
    frame = hostile_frame()
    before = frame.copy()
    safe = spreadsheet_safe(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert safe.shape == frame.shape and safe["amount"].dtype == frame["amount"].dtype


def test_duplicate_column_names_are_handled_by_position():
    frame = pd.DataFrame([["=a", 1]], columns=["-x", "-x"])
    assert spreadsheet_safe(frame).values.tolist() == [["'=a", 1]]
    assert list(spreadsheet_safe(frame).columns) == ["'-x", "'-x"]
