"""Untrusted text (names of models, columns, classes, files) shown literally in Markdown."""

from __future__ import annotations

import re
import string

# Every ASCII punctuation character: CommonMark lets a backslash escape each one, and
# Streamlit's extras (":red[...]", ":material/x:", "$math$", "~~", tables) start with them.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")
# Streamlit's Markdown (remark-gfm) turns bare "http://", "www." and "a@b.c" into links after
# escapes are resolved, so no escape stops it; an invisible WORD JOINER (U+2060) before the
# ":" of "://", the "." of "www." and every "@" does (checked in Chromium, Streamlit 1.67).
WORD_JOINER = "\u2060"
_LINK_STARTS = re.compile(r"(?=://)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)


def literal(text: object) -> str:
    """``str(text)`` escaped so Streamlit's Markdown shows exactly its characters: every ASCII
    punctuation character backslash-escaped, line breaks made spaces (one line, no heading),
    and a ``WORD_JOINER`` where a bare web or mail address would otherwise become a link."""
    one_line = _LINE_BREAKS.sub(" ", str(text))
    return _PUNCTUATION.sub(r"\\\1", _LINK_STARTS.sub(WORD_JOINER, one_line))


def literal_lines(text: object) -> str:
    """``literal`` for plain text of several lines (a message): each line escaped, the lines
    kept apart as Markdown hard breaks."""
    return "  \n".join(literal(line) for line in str(text).splitlines())
