"""Browser tests: one generous default for every Playwright ``expect`` in this folder.

``expect`` waits 5 s by default and ``page.set_default_timeout`` does not apply to it; on a
busy machine 5 s is too short for a Streamlit rerun. The tests pass ``timeout=`` explicitly as
well; this default covers any ``expect`` written without one.

``s3_endpoint`` (``tests.s3_server``, shared with tests/library): a moto S3 server for the
tests of several app servers over one S3 library.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.server import WAIT
from tests.s3_server import s3_endpoint

__all__ = ["s3_endpoint"]

expect.set_options(timeout=WAIT)
