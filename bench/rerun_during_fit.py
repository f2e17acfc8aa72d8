"""Another session's rerun latency while a 1,000,000-row fit runs, before and after training
became a job (issue 11).

Before: the app at commit 0e0a864, which trains inline, in the page's script thread inside the
web process. After: this checkout, where training runs as a job in its own process
(``lib.jobs``, ``pages/_jobs.py``). Each version runs as its own ``streamlit run`` server (own
model library and jobs folder, ``MODEL_STUDIO_TRAIN_JOBS`` unset) driven by headless Chromium:

1. Session A uploads a generated table (``--rows``, default 1,000,000: six numbers, a
   category, a numeric target; Parquet, so the upload is quick) on the Train page.
2. Session B, in another browser context, picks "Use a sample" on the Train page and then
   switches the "Sample table" select between two samples. One rerun is timed from the click
   on the option until the page has it: the server's ``script_finished`` has arrived (as
   Playwright sees the websocket), the text "Using sample: <title>" is shown, and no
   ``stStatusWidget`` or stale element is left (with this repo's config.toml the status
   widget never shows; the other two decide). Two warm-up reruns are not counted.
3. ``--reruns`` (8) reruns with nothing else running, ``--pause`` (0.5 s) apart: the idle
   baseline.
4. A clicks "Train model" (default model, histogram gradient boosting, 5-fold CV and a 20%
   holdout); 2 s later B times ``--reruns`` more, ``--pause`` apart. A rerun counts only when
   the fit is running before its click and after it ends (before: A's script run has not
   finished and its page says "Training <model>…"; after: the job's record says queued or
   running); if the fit ends, A trains again and that is noted. The fit is not waited for:
   stopping the server ends it (and its workers). At 1,000,000 rows and the default pause
   the reruns fall in the first ~15 s of the fit (the folds, on loky workers in both
   versions); ``--pause 5`` spreads them over about a minute.

The "after" version runs twice, with ``OMP_WAIT_POLICY`` unset and with ``=PASSIVE`` in the web
server's environment (its job processes inherit it): do spinning OpenMP threads steal CPU?

The machine is shared and noisy, so what matters are ratios taken in one run: each version's
during-fit rerun against its own idle baseline, and after against before. Prints a table and
writes ``bench/out/rerun_during_fit.json``; server logs go to ``bench/out/rerun_logs/``.

    .venv/bin/python bench/rerun_during_fit.py
    .venv/bin/python bench/rerun_during_fit.py --rows 200000 --reruns 5 --no-omp
    .venv/bin/python bench/rerun_during_fit.py --pause 5

``--before`` defaults to a detached worktree of 0e0a864 at /work/wt-rerun-before (made when
absent, and removed at the end unless it was there already or ``--keep-before``); ``--after``
to this checkout. No assertions: it reports.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, free_port  # noqa: E402

BEFORE_COMMIT = "0e0a864"
BEFORE_PATH = Path("/work/wt-rerun-before")
OUT = ROOT / "bench" / "out"
SAMPLES = ("Restaurant tips", "Iris flowers")  # B switches between these; the first is the default
LONG_MS = 300_000  # a step longer than this is broken, not slow
POLL_S = 0.02
PAUSE_S = 0.5  # default pause between two timed reruns, idle or not (--pause)
TRAINING = re.compile(r"Training [^…]+…")  # the old page's status label while it trains
FRAGMENT_RUN = 3  # ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
UNSET = ("MODEL_STUDIO_TRAIN_JOBS", "OMP_WAIT_POLICY")


# --- the table and the servers ----------------------------------------------------------------


def write_table(folder: Path, n_rows: int) -> Path:
    """A regression table as Parquet: a..f numeric, ``kind`` (3 levels), ``target`` last."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(n_rows, 6)), columns=list("abcdef"))
    frame["kind"] = rng.choice(["x", "y", "z"], n_rows)
    frame["target"] = 2 * frame["a"] + frame["b"] * frame["c"] + rng.normal(size=n_rows)
    path = folder / "table.parquet"
    frame.to_parquet(path, index=False)
    return path


def ensure_before(path: Path) -> bool:
    """A detached worktree of ``BEFORE_COMMIT`` at ``path`` (with this checkout's .venv linked);
    True when it was made here."""
    if (path / "app.py").exists():
        return False
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path),
                    BEFORE_COMMIT], check=True, capture_output=True)  # fmt: skip
    venv = ROOT / ".venv"
    if venv.exists() and not (path / ".venv").exists():
        (path / ".venv").symlink_to(venv.resolve())
    return True


def remove_before(path: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                   check=False, capture_output=True)  # fmt: skip


def healthy(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
            return answer.read().strip() == b"ok"
    except OSError:
        return False


@contextlib.contextmanager
def serve(checkout: Path, folder: Path, log_path: Path,
          env: dict[str, str]) -> Iterator[str]:  # fmt: skip
    """``streamlit run <checkout>/app.py`` on a free port, as tests/e2e/server.py starts the
    app (which runs its own checkout's app.py only), with its own library and jobs folder
    under ``folder``; yield its URL."""
    port = free_port()
    server_env = {k: v for k, v in os.environ.items() if k not in UNSET} | env | {
        "MODEL_STUDIO_LIBRARY": str(folder / "library"),
        "MODEL_STUDIO_JOBS_DIR": str(folder / "jobs"),
    }  # fmt: skip
    command = [
        sys.executable, "-m", "streamlit", "run", str(checkout / "app.py"),
        "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=checkout, env=server_env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 120
            while not healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start; see {log_path}")
                time.sleep(0.3)
            yield url
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """End the server and whatever it started that is still running (a fit left running by
    the bench: the old page's loky workers, a job's process and its workers)."""
    import psutil

    with contextlib.suppress(psutil.Error):
        children = psutil.Process(process.pid).children(recursive=True)
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(children, timeout=10)


# --- a browser session and its reruns ---------------------------------------------------------


@dataclass
class Wire:
    """When each of the page's script runs finished (``perf_counter``, as Playwright got the
    ``script_finished`` message; fragment runs are left out), and whether one runs now (a
    ``new_session`` message came after the last ``script_finished``)."""

    finished: list[float] = field(default_factory=list)
    running: bool = False

    def attach(self, page) -> None:
        page.on("websocket", lambda ws: ws.on("framereceived", self._received))

    def _received(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        got = time.perf_counter()
        if not isinstance(payload, bytes):
            return
        with contextlib.suppress(Exception):
            msg = ForwardMsg.FromString(payload)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.running = True
            elif kind == "script_finished" and msg.script_finished != FRAGMENT_RUN:
                self.running = False
                if msg.script_finished == 0:  # FINISHED_SUCCESSFULLY
                    self.finished.append(got)


def open_session(browser, url: str) -> tuple:
    """A new browser context on the app, drawn; its page and wire."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(LONG_MS)
    wire = Wire()
    wire.attach(page)
    page.goto(url)
    expect(page.get_by_role("heading", name="Train a model")).to_be_visible(timeout=LONG_MS)
    wait_idle(page)
    return page, wire


IDLE_JS = """(text) => ({
  running: document.querySelectorAll('[data-testid="stStatusWidget"]').length > 0,
  stale: document.querySelectorAll('[data-stale="true"]').length > 0,
  shown: text === null || document.body.innerText.includes(text),
})"""


def wait_idle(page, text: str | None = None, after: Callable[[], bool] = lambda: True) -> None:
    """Until the page shows ``text``, has no status widget or stale element and ``after()``."""
    deadline = time.perf_counter() + LONG_MS / 1000
    while True:
        state = page.evaluate(IDLE_JS, text)
        if state["shown"] and not state["running"] and not state["stale"] and after():
            return
        if time.perf_counter() > deadline:
            raise TimeoutError(f"page not idle after {LONG_MS / 1000:.0f} s ({text})")
        time.sleep(POLL_S)


def pick_sample_source(page) -> None:
    page.get_by_text("Use a sample").click()
    wait_idle(page, "Using sample:")


def rerun(page, wire: Wire, title: str, pause: float = 0.0) -> tuple[float, float]:
    """Pick sample ``title`` in B after ``pause`` seconds; seconds until the page has it, and
    until its run's ``script_finished`` arrived."""
    time.sleep(pause)
    page.get_by_label("Sample table").click()
    option = page.get_by_role("option", name=title)
    option.wait_for()
    seen = len(wire.finished)
    t0 = time.perf_counter()
    option.click()
    wait_idle(page, f"Using sample: {title}", after=lambda: len(wire.finished) > seen)
    return time.perf_counter() - t0, wire.finished[seen] - t0


# --- session A's fit --------------------------------------------------------------------------


class Fit:
    """Session A's training: start it and tell whether it still runs. As a job: its record
    says queued or running. Inline: A's script run, which the click started, has not sent
    ``script_finished`` and A's page still shows "Training <model>…" (the run goes on to draw
    the results after the fit, which is not counted)."""

    def __init__(self, page, wire: Wire, jobs_dir: Path, as_job: bool) -> None:
        self.page, self.wire, self.jobs_dir, self.as_job = page, wire, jobs_dir, as_job
        self.starts: list[float] = []

    def start(self) -> None:
        self.page.get_by_role("button", name="Train model").click()
        self.starts.append(time.perf_counter())
        deadline = time.perf_counter() + 60
        while not self.running():
            if time.perf_counter() > deadline:
                self.page.screenshot(path=OUT / "rerun_logs" / "fit_not_started.png")
                raise TimeoutError("the fit did not start (see rerun_logs/fit_not_started.png)")
            time.sleep(0.2)

    def running(self) -> bool:
        if self.as_job:
            return any(status in ("queued", "running") for status in self._job_statuses())
        self.page.evaluate("0")  # lets Playwright hand over the messages that came meanwhile
        return self.wire.running and self.page.get_by_text(TRAINING).count() > 0

    def _job_statuses(self) -> list[str]:
        statuses = []
        for path in self.jobs_dir.glob("*/*/record.json"):
            with contextlib.suppress(OSError, ValueError):
                statuses.append(json.loads(path.read_text())["status"])
        return statuses


# --- one server -------------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    idle: list[float]
    during: list[float]
    idle_server: list[float]
    during_server: list[float]
    fit_starts: int
    fit_seconds: float  # from the last fit's click to the end of the measurements
    fit_still_running: bool  # then (the bench stops it with the server)
    discarded: int  # reruns not counted: the fit ended while they ran
    log_errors: int


def measure_version(browser, name: str, checkout: Path, env: dict[str, str], table: Path,
                    reruns: int, pause: float, work: Path) -> Figures:  # fmt: skip
    """Start ``checkout``'s server; B's reruns idle, then while A's fit runs; stop it all."""
    folder = work / name
    folder.mkdir()
    log_path = OUT / "rerun_logs" / f"{name}.log"
    print(f"{name}: {checkout} {env or ''}", flush=True)
    with serve(checkout, folder, log_path, env) as url:
        page_a, wire_a = open_session(browser, url)
        upload(page_a, table)
        page_b, wire = open_session(browser, url)
        pick_sample_source(page_b)
        titles = itertools.cycle(SAMPLES[::-1])  # the first one is shown at first
        for _ in range(2):  # warm-up
            rerun(page_b, wire, next(titles))

        idle = [rerun(page_b, wire, next(titles), pause) for _ in range(reruns)]
        print(f"  idle   {fmt([t for t, _ in idle])}", flush=True)
        as_job = (checkout / "pages" / "_jobs.py").exists()
        fit = Fit(page_a, wire_a, folder / "jobs", as_job)
        during, discarded = reruns_during_fit(page_b, wire, titles, fit, reruns, pause)
        print(f"  during {fmt([t for t, _ in during])}", flush=True)
        fit_s, still = time.perf_counter() - fit.starts[-1], fit.running()
        print(
            f"  fit started {len(fit.starts)}x; the last one {fit_s:.0f} s ago, "
            + ("still running (stopped with the server)" if still else "ended"),
            flush=True,
        )
        if any(page.get_by_test_id("stException").count() for page in (page_a, page_b)):
            print("  !! a page shows an exception", flush=True)
        page_a.context.close()
        page_b.context.close()
    # Tracebacks while it served (stopping it mid-fit makes joblib complain: not counted).
    errors = log_path.read_text(errors="replace").split("Stopping...")[0].count("Traceback")
    return Figures(name, [t for t, _ in idle], [t for t, _ in during],
                   [s for _, s in idle], [s for _, s in during],
                   len(fit.starts), fit_s, still, discarded, errors)  # fmt: skip


def upload(page, table: Path) -> None:
    from playwright.sync_api import expect

    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(table))
    expect(page.get_by_text(f"Using {table.name}:")).to_be_visible(timeout=LONG_MS)
    wait_idle(page)


def reruns_during_fit(page_b, wire: Wire, titles: Iterator[str], fit: Fit, reruns: int,
                      pause: float) -> tuple[list[tuple[float, float]], int]:  # fmt: skip
    """``reruns`` of B's reruns that began and ended while A's fit ran (A trains again when
    its fit ends first), and how many were not counted for that."""
    fit.start()
    time.sleep(2)  # past the table's hand-over: the folds are running
    during, discarded = [], 0
    while len(during) < reruns:
        if not fit.running():
            print("  (the fit ended: training again)", flush=True)
            wait_idle(fit.page)
            fit.start()
            time.sleep(2)
        timed = rerun(page_b, wire, next(titles), pause)
        if fit.running():
            during.append(timed)
        else:
            discarded += 1
    return during, discarded


# --- the report -------------------------------------------------------------------------------


def fmt(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s, max {max(values):.2f} s"


def summary(figures: Figures) -> dict:
    idle, during = statistics.median(figures.idle), statistics.median(figures.during)
    return {
        "idle_median_s": idle, "idle_max_s": max(figures.idle),
        "during_median_s": during, "during_max_s": max(figures.during),
        "during_over_idle": during / idle,
        "during_max_over_idle_median": max(figures.during) / idle,
        "server_idle_median_s": statistics.median(figures.idle_server),
        "server_during_median_s": statistics.median(figures.during_server),
    }  # fmt: skip


def report(results: list[Figures]) -> dict:
    summaries = {f.name: summary(f) for f in results}
    print("\nrerun of another session (s)    idle med/max    during fit med/max   during/idle")
    for f in results:
        s = summaries[f.name]
        print(
            f"  {f.name:<29} {s['idle_median_s']:5.2f} / {s['idle_max_s']:5.2f}"
            f"     {s['during_median_s']:6.2f} / {s['during_max_s']:6.2f}"
            f"      {s['during_over_idle']:5.2f}x"
            + (f"  (fit restarted {f.fit_starts - 1}x)" if f.fit_starts > 1 else "")
            + (f"  ({f.log_errors} tracebacks in the log)" if f.log_errors else "")
        )
    ratios = {}
    if "before" in summaries and "after" in summaries:
        b, a = summaries["before"], summaries["after"]
        ratios["after_over_before_during_median"] = a["during_median_s"] / b["during_median_s"]
        ratios["before_over_after_during_ratio"] = b["during_over_idle"] / a["during_over_idle"]
        print(
            f"  after/before, during-fit medians: {ratios['after_over_before_during_median']:.2f}x"
            f" (slowdown during/idle {b['during_over_idle']:.2f}x -> "
            f"{a['during_over_idle']:.2f}x)"
        )
    if "after" in summaries and "after OMP_WAIT_POLICY=PASSIVE" in summaries:
        a, p = summaries["after"], summaries["after OMP_WAIT_POLICY=PASSIVE"]
        ratios["passive_over_unset_idle_median"] = p["idle_median_s"] / a["idle_median_s"]
        ratios["passive_over_unset_during_median"] = p["during_median_s"] / a["during_median_s"]
        idle, during = (
            ratios["passive_over_unset_idle_median"],
            ratios["passive_over_unset_during_median"],
        )
        print(f"  OMP_WAIT_POLICY=PASSIVE / unset: idle {idle:.2f}x, during fit {during:.2f}x")
    return {"summaries": summaries, "ratios": ratios, "raw": [asdict(f) for f in results]}


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, default=BEFORE_PATH)
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reruns", type=int, default=8)
    parser.add_argument(
        "--pause",
        type=float,
        default=PAUSE_S,
        help="seconds between timed reruns: more spreads them over the fit",
    )
    parser.add_argument("--no-omp", action="store_true", help="skip the OMP_WAIT_POLICY run")
    parser.add_argument("--keep-before", action="store_true")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    (OUT / "rerun_logs").mkdir(parents=True, exist_ok=True)
    made_before = args.before == BEFORE_PATH and ensure_before(args.before)
    versions = [("before", args.before.resolve(), {}), ("after", args.after.resolve(), {})]
    if not args.no_omp:
        versions.append(("after OMP_WAIT_POLICY=PASSIVE", args.after.resolve(),
                         {"OMP_WAIT_POLICY": "PASSIVE"}))  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
            work = Path(tmp)
            table = write_table(work, args.rows)
            print(f"{args.rows:,}-row table: {table.stat().st_size / 1e6:.1f} MB Parquet")
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            results = [
                measure_version(browser, name, checkout, env, table, args.reruns, args.pause, work)
                for name, checkout, env in versions
            ]
            browser.close()
    finally:
        if made_before and not args.keep_before:
            remove_before(args.before)
    setup = {"rows": args.rows, "reruns": args.reruns, "pause_s": args.pause,
             "cores": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M")}  # fmt: skip
    out = report(results) | setup
    (OUT / "rerun_during_fit.json").write_text(json.dumps(out, indent=2))
    print(f"\nwrote {OUT / 'rerun_during_fit.json'}")


if __name__ == "__main__":
    main()
