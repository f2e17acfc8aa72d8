"""Browser tests: one generous default for every Playwright ``expect`` in this folder.

``expect`` waits 5 s by default and ``page.set_default_timeout`` does not apply to it; on a
busy machine 5 s is too short for a Streamlit rerun. The tests pass ``timeout=`` explicitly as
well; this default covers any ``expect`` written without one.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.server import WAIT

expect.set_options(timeout=WAIT)
