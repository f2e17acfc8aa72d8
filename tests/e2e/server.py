"""Start the app with ``streamlit run`` on a free local port, for the browser journey and the
screenshots script; and the waits every browser test uses.

Every wait is explicit and generous: the tests run on a shared 2-core machine where a rerun can
take many seconds. Playwright's ``expect`` waits 5 s unless told otherwise, and
``page.set_default_timeout`` does not change that, so tests/e2e/conftest.py raises the default
with ``expect.set_options`` and each ``expect`` in these tests also passes ``timeout=``.
Nothing here measures speed: a wait only bounds how long a test may hang.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Timeouts in ms. WAIT: something on the page appears or changes. LONG: the app trains, loads
# or checks a model, or a page is opened. Both are ceilings, not expectations.
WAIT = 60_000
LONG = 120_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(
    library: Path, log_path: Path, timeout: float = 90, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run the app with its model library at ``library``; yield its base URL. ``env`` adds to
    (or overrides) the server's environment variables."""
    with running_app_process(library, log_path, timeout, env) as (url, _):
        yield url


@contextlib.contextmanager
def running_app_process(
    library: Path, log_path: Path, timeout: float = 90, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``running_app``, yielding the server process too (for a profiler to attach to, or for
    a test to check it is still alive)."""
    port = free_port()
    jobs = library.with_name(f"{library.name}-jobs")
    server_env = (
        os.environ
        | {"MODEL_STUDIO_LIBRARY": str(library), "MODEL_STUDIO_JOBS_DIR": str(jobs)}
        | (env or {})
    )
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=server_env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit exited early; see {log_path}")
                if _healthy(url):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not answer in {timeout} s; see {log_path}")
                time.sleep(0.3)
            yield url, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
            return answer.read().strip() == b"ok"
    except OSError:
        return False


def configure_page(page: Page) -> Page:
    """Give ``page``'s actions (click, fill, upload) and navigations generous timeouts."""
    page.set_default_timeout(LONG)
    page.set_default_navigation_timeout(LONG)
    return page


def settle(page: Page) -> None:
    """Wait until the app has finished its current run: the app root's script state, which
    Streamlit keeps in ``data-test-script-state``, reads "notRunning". (Its "Running..."
    widget is no sign: with ``toolbarMode = "minimal"`` it is never drawn.)

    Only meaningful once something the run draws has been awaited: before the first run starts,
    the state reads "notRunning" too.
    """
    from playwright.sync_api import expect

    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=LONG)
