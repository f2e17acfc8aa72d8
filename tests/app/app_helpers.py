"""Helpers for the AppTest suite (fixtures live in conftest.py)."""

from __future__ import annotations

import re
import string
import time
from pathlib import Path

from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from lib.literal import WORD_JOINER
from lib.records import CurrentModel
from pages import _state

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 60


_ESCAPED = re.compile(r"\\([" + re.escape(string.punctuation) + r"])")


def plain(markdown: str) -> str:
    """``markdown`` as a person reads it: the backslash escapes and word joiners that
    ``lib.literal`` adds to names taken out (AppTest shows the Markdown source)."""
    return _ESCAPED.sub(r"\1", markdown.replace(WORD_JOINER, ""))


def by_label(elements, label: str):
    """The one element of ``elements`` whose label reads ``label``."""
    found = [element for element in elements if plain(element.label) == label]
    assert len(found) == 1, f"{label!r} among {[e.label for e in elements]}"
    return found[0]


def table_with(at: AppTest, column: str):
    """The first dataframe shown whose columns include ``column`` (a pandas DataFrame)."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no table with a '{column}' column is shown")


def texts(elements) -> str:
    """Every value of ``elements`` joined, as a person reads it (``plain``), to search in."""
    return "\n".join(plain(str(element.value)) for element in elements)


def no_trouble(at: AppTest) -> None:
    """No exception reached the page."""
    assert not at.exception, [e.value for e in at.exception]


def finish_jobs(at: AppTest, ceiling_s: float = 240) -> AppTest:
    """Rerun the page until none of its jobs is unfinished (no Cancel button left), as a
    person watching the Train page would; the finished job's result is then taken in."""
    deadline = time.monotonic() + ceiling_s
    while time.monotonic() < deadline:
        at.run()
        if not any("::cancel::" in (button.key or "") for button in at.button):
            return at
        time.sleep(0.2)
    raise AssertionError(f"a job was still unfinished after {ceiling_s} s")


def malicious_pickle(marker: Path) -> bytes:
    """A pickle whose GLOBAL is os.system, built by hand. It must never be loaded."""
    command = f"touch {marker}".encode()
    return b"\x80\x02cos\nsystem\n(X" + len(command).to_bytes(4, "little") + command + b"tR."


def with_model(at: AppTest, current: CurrentModel) -> AppTest:
    """Put ``current`` in the session as the current model."""
    at.session_state[_state.MODEL] = current
    return at


def downloaded(manager: MediaFileManager, button) -> bytes:
    """The bytes a click on a deferred download button sends."""
    url = manager.execute_deferred(button.proto.deferred_file_id)  # "/mock/media/<id>.joblib"
    file_id = url.rsplit("/", 1)[-1].split(".")[0]
    return manager.read_file(file_id).content  # AppTest keeps media in memory
