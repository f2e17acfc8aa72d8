"""Predict & plot in a real browser: upload-to-idle and page switches, 300 rows against 300,000.

What a person waits for, measured end to end in headless Chromium against ``streamlit run``:

1. A table shaped like vega's cars (Name, Miles_per_Gallon with some missing, Cylinders,
   Displacement, Horsepower, Weight_in_lbs, Acceleration, Year as a date, Origin) is resampled
   with noise to the small and the large row count. The 406 real rows come from the
   ``vega_datasets`` package when it is installed (it ships cars offline), else a synthetic
   table of the same shape is used; the output says which.
2. A HistGradientBoosting regression model for Miles_per_Gallon is trained with
   ``lib.training.train`` on another resample (2,000 rows) and saved to a temporary model
   library, which the app is pointed at (``MODEL_STUDIO_LIBRARY``).
3. The app is started headless on a free port. For each row count, a fresh browser session
   loads the model from the library (Upload model page), opens Predict & plot and measures:

   - upload: from ``set_input_files`` of the CSV until the page is idle (below);
   - away: a click on "Train" in the sidebar until that page is idle;
   - back: a click on "Predict & plot" until the page is idle again (everything is cached);
   - rerun: the "r" key (a plain rerun of the page, no page switch).

   A warm-up round (small file, not reported) first takes the server's imports out of the
   figures. away/back/rerun are repeated (``--repeats``) and the medians are reported.
4. In this process, on the same file: ``lib.data.read_table`` of its bytes and the pipeline's
   own ``predict`` on the frame (the work no page can avoid; median of 3).
5. It prints the times, the ratios against the targets, and for each step where the time went:
   the server's run (from the first to the last message of the run, as the browser received
   them), the browser after the last message, the bytes received and the largest elements.

"Idle" means all of: the last script run the action started has sent ``script_finished`` and
none started again for ``--quiet`` seconds; no ``stStatusWidget`` and no stale element on the
page; the page's heading is shown; on Predict & plot, the "Explore" header, the predictions
table and every chart of the open tab are drawn (plotly's ``.main-svg``); and the browser's
main thread has run an animation frame (so layout and painting have caught up). The time is
taken when these first hold, not after the quiet period.

    .venv/bin/python bench/predict_page_browser.py                  # 300 and 300,000 rows
    .venv/bin/python bench/predict_page_browser.py --rows 100000 --repeats 5

Targets (issue "Predict & plot at 300,000 rows"), as ratios in one run:
upload / (read + predict) at the large size <= 2; back and away at large / at small <= 1.5.
No assertions: it reports.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib import training  # noqa: E402
from lib.data import read_table  # noqa: E402
from lib.display import store_metadata  # noqa: E402
from lib.model_info import describe_model  # noqa: E402
from lib.persistence import dump_model  # noqa: E402
from lib.store import ModelStore  # noqa: E402
from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, running_app_process  # noqa: E402

TARGET = "Miles_per_Gallon"
MODEL_NAME = "cars HGB"
TRAIN_ROWS = 2_000
LONG_MS = 600_000  # a step that takes longer than this is broken, not slow
POLL_S = 0.05
VERBOSE = False

# --- the table ---------------------------------------------------------------------------------


def cars_base() -> tuple[pd.DataFrame, str]:
    """The 406 rows of vega's cars, or a synthetic table of the same shape and kinds."""
    try:
        from vega_datasets import data  # ships cars.json: no network needed
    except ImportError:
        return synthetic_cars(406, seed=0), "synthetic cars-shaped table (vega_datasets absent)"
    return data.cars(), "vega_datasets cars (406 real rows)"


MAKES = ["chevrolet", "ford", "plymouth", "amc", "dodge", "toyota", "datsun", "honda", "mazda",
         "volkswagen", "peugeot", "fiat", "audi", "volvo", "buick", "pontiac", "saab", "renault",
         "subaru", "mercury", "oldsmobile", "opel", "bmw", "chrysler", "cadillac"]  # fmt: skip
ORIGIN_OF = {"toyota": "Japan", "datsun": "Japan", "honda": "Japan", "mazda": "Japan",
             "subaru": "Japan", "volkswagen": "Europe", "peugeot": "Europe", "fiat": "Europe",
             "audi": "Europe", "volvo": "Europe", "saab": "Europe", "renault": "Europe",
             "opel": "Europe", "bmw": "Europe"}  # fmt: skip
WORDS = ["malibu", "torino", "satellite", "rebel", "galaxie", "impala", "fury", "corolla",
         "civic", "rabbit", "pinto", "maverick", "colt", "corona", "510", "skylark", "sst",
         "wagon", "custom", "sedan", "coupe", "deluxe", "gl", "2000", "brougham"]  # fmt: skip


def synthetic_cars(rows: int, seed: int) -> pd.DataFrame:
    """A cars-shaped table: free-text names, a date, a categorical and numeric columns."""
    rng = np.random.default_rng(seed)
    make = rng.choice(MAKES, size=rows)
    origin = np.array([ORIGIN_OF.get(m, "USA") for m in make])
    usa = origin == "USA"
    cylinders = np.where(
        usa,
        rng.choice([4, 6, 8], size=rows, p=[0.3, 0.3, 0.4]),
        rng.choice([3, 4, 5, 6], size=rows, p=[0.05, 0.8, 0.05, 0.1]),
    )
    displacement = np.round(cylinders * rng.normal(38, 6, size=rows), 0)
    horsepower = np.round(np.maximum(45, displacement * 0.45 + rng.normal(25, 12, size=rows)), 0)
    weight = np.round(1400 + displacement * 7 + rng.normal(0, 250, size=rows)).astype(int)
    acceleration = np.round(np.clip(24 - horsepower / 18 + rng.normal(0, 1.5, size=rows), 8, 25), 1)
    year = rng.integers(1970, 1983, size=rows)
    mpg = 55 - weight / 130 + (year - 1970) * 0.7 + rng.normal(0, 2.5, size=rows)
    mpg = np.round(np.clip(mpg, 9, 47), 1)
    name = [f"{m} {rng.choice(WORDS)} {rng.choice(WORDS)}" for m in make]
    frame = pd.DataFrame({
        "Name": name, TARGET: mpg, "Cylinders": cylinders, "Displacement": displacement,
        "Horsepower": horsepower, "Weight_in_lbs": weight, "Acceleration": acceleration,
        "Year": pd.to_datetime([f"{y}-01-01" for y in year]), "Origin": origin,
    })  # fmt: skip
    frame.loc[rng.random(rows) < 0.02, TARGET] = np.nan
    frame.loc[rng.random(rows) < 0.015, "Horsepower"] = np.nan
    return frame


def resample(base: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """``rows`` rows drawn from ``base`` with replacement, numbers moved by a little noise."""
    rng = np.random.default_rng(seed)
    out = base.iloc[rng.integers(0, len(base), size=rows)].reset_index(drop=True)
    for name in ["Displacement", "Horsepower", "Acceleration", TARGET]:
        values = out[name].to_numpy(dtype=float)
        noisy = values + rng.normal(0, 0.03 * np.nanstd(base[name]), size=rows)
        out[name] = np.round(noisy, 1)
    out["Weight_in_lbs"] = np.round(out["Weight_in_lbs"] + rng.normal(0, 40, size=rows)).astype(int)
    return out


# --- the app -----------------------------------------------------------------------------------


# The app is started as the browser tests start it (tests/e2e/server.py).


# --- what the browser receives ----------------------------------------------------------------

# Before any page script: note when each websocket message reaches the page (the main thread).
WS_CLOCK = """
(() => {
  const Native = window.WebSocket;
  window.__wsLog = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const d = event.data;
        const size = d.byteLength ?? d.size ?? d.length;
        window.__wsLog.push([performance.now(), size]);
      });
    }
  };
})();
"""


@dataclass
class Message:
    size: int
    kind: str  # ForwardMsg type; for deltas "delta:<element type>"
    got: float  # time.perf_counter() when Playwright reported it
    at: float | None = None  # browser clock (ms) when the page's script got it


@dataclass
class Wire:
    """Every ForwardMsg the page received, parsed, in order."""

    messages: list[Message] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("websocket", lambda ws: ws.on("framereceived", self._received))

    def _received(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        got = time.perf_counter()
        data = payload if isinstance(payload, bytes) else payload.encode()
        try:
            msg = ForwardMsg.FromString(data)
        except Exception:  # not a ForwardMsg: count it, name it
            self.messages.append(Message(len(data), "unparsed", got))
            return
        kind = msg.WhichOneof("type") or "?"
        if kind == "delta":
            delta = msg.delta
            sub = delta.WhichOneof("type")
            if sub == "new_element":
                kind = f"delta:{delta.new_element.WhichOneof('type')}"
            else:
                kind = f"delta:{sub}"
        self.messages.append(Message(len(data), kind, got))

    def run_state(self, start: int) -> tuple[int, bool]:
        """Since message ``start``: how many runs finished, and whether one is running now."""
        finished, running = 0, False
        for message in self.messages[start:]:
            if message.kind == "new_session":
                running = True
            elif message.kind == "script_finished":
                finished += 1
                running = False
        return finished, running

    def stamp(self, page) -> None:
        """Copy the page's arrival times onto the messages (same order, sizes checked)."""
        log = page.evaluate("window.__wsLog")
        if len(log) != len(self.messages):
            return
        for message, (at, size) in zip(self.messages, log, strict=True):
            if size == message.size:
                message.at = at


# --- idle --------------------------------------------------------------------------------------

PAGE_STATE = """
async ({heading, explore}) => {
  const all = (s, root = document) => Array.from(root.querySelectorAll(s));
  const state = {
    running: all('[data-testid="stStatusWidget"]').length > 0,
    stale: all('[data-stale="true"]').length,
    heading: all("h1").some((h) => h.textContent.trim().startsWith(heading)),
    ready: true, charts: 0, drawn: 0,
  };
  if (explore) {
    const main = document.querySelector('[data-testid="stMain"]') || document.body;
    const header = all("h2", main).some((h) => h.textContent.trim().startsWith("Explore"));
    const table = all('[data-testid="stDataFrame"]', main).length > 0;
    const panel = all('[role="tabpanel"]', main).find((p) => !p.hidden && p.offsetParent !== null);
    const charts = panel ? all('[data-testid="stPlotlyChart"]', panel) : [];
    state.charts = charts.length;
    state.drawn = charts.filter((c) => c.querySelector(".main-svg")).length;
    state.ready = header && table && !!panel && state.drawn === state.charts;
  }
  // Resolve only after the main thread has produced a frame: rendering has caught up.
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  state.now = performance.now();
  return state;
}
"""


@dataclass
class Step:
    seconds: float
    run_s: float  # the first run's new_session to the last script_finished, as the page got them
    to_run_s: float  # action to the first run's new_session (an upload's transfer, queueing)
    after_s: float  # last script_finished to idle
    bytes: int
    messages: list[Message]
    main_thread: dict[str, float] = field(default_factory=dict)  # Chromium's busy seconds


def wait_idle(page, wire: Wire, start: int, t0: float, heading: str, explore: bool,
              quiet: float) -> float:  # fmt: skip
    """Seconds from ``t0`` until the page is idle (see the module doc)."""
    deadline = t0 + LONG_MS / 1000
    first_ok = None
    while True:
        now = time.perf_counter()
        if now > deadline:
            raise TimeoutError(f"page not idle after {LONG_MS / 1000:.0f} s ({heading})")
        finished, running = wire.run_state(start)
        state = page.evaluate(PAGE_STATE, {"heading": heading, "explore": explore})
        checked = time.perf_counter()
        ok = (
            finished > 0 and not running and not state["running"] and not state["stale"]
            and state["heading"] and state["ready"]
        )  # fmt: skip
        if ok:
            first_ok = first_ok if first_ok is not None else checked
            if checked - first_ok >= quiet:
                return first_ok - t0
        else:
            first_ok = None
        time.sleep(POLL_S)


BUSY = {"TaskDuration": "task", "ScriptDuration": "script", "LayoutDuration": "layout",
        "RecalcStyleDuration": "style"}  # fmt: skip


def busy(cdp) -> dict[str, float]:
    """Chromium's cumulative main-thread seconds (all tasks; script; layout; style)."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {short: metrics.get(name, 0.0) for name, short in BUSY.items()}


def measure(page, wire: Wire, action, heading: str, explore: bool, quiet: float,
            cdp=None) -> Step:  # fmt: skip
    start = len(wire.messages)
    page.evaluate("0")  # flush pending events
    before = busy(cdp) if cdp else {}
    browser_t0 = page.evaluate("performance.now()")
    t0 = time.perf_counter()
    action()
    seconds = wait_idle(page, wire, start, t0, heading, explore, quiet)
    wire.stamp(page)
    mine = wire.messages[start:]
    # The run starts with its new_session message (an upload first gets file_urls_response).
    stamped = [m.at for m in mine if m.kind == "new_session" and m.at is not None]
    finishes = [m.at for m in mine if m.kind == "script_finished" and m.at is not None]
    if stamped and finishes:
        first = (stamped[0] - browser_t0) / 1000
        last = (finishes[-1] - browser_t0) / 1000
        server, browser = last - first, seconds - last
    else:
        first = server = browser = float("nan")
    step = Step(seconds, server, first, browser, sum(m.size for m in mine), mine)
    if cdp:
        after = busy(cdp)
        step.main_thread = {k: after[k] - before[k] for k in after}
    if VERBOSE and mine:
        cdp_finish = [m.got - t0 for m in mine if m.kind == "script_finished"]
        print(
            f"    (Playwright got script_finished at {cdp_finish}; main thread "
            + ", ".join(f"{k} {v:.2f}" for k, v in step.main_thread.items())
            + ")"
        )
    if VERBOSE:
        print(
            f"    {heading}: {seconds:.2f} s (to run {first:.2f}, run {server:.2f}, "
            f"after {browser:.2f}, {step.bytes / 1e6:.2f} MB)",
            flush=True,
        )
    return step


# --- one row count ------------------------------------------------------------------------------


def heading_of(title: str) -> str:
    return {"Train": "Train a model", "Predict & plot": "Predict & plot",
            "Upload model": "Upload a model"}[title]  # fmt: skip


def click_page(page, title: str):
    return lambda: page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()


def session_steps(browser, url: str, csv_path: Path, repeats: int, quiet: float,
                  profile=None) -> dict[str, list[Step]]:  # fmt: skip
    """A fresh session: load the model, open Predict & plot, upload, switch away and back."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(WS_CLOCK)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    wire = Wire()
    wire.attach(page)
    steps: dict[str, list[Step]] = collections.defaultdict(list)
    record = profile or (lambda name, cdp: contextlib.nullcontext())
    predict_heading = heading_of("Predict & plot")

    def step(name: str | None, action, heading: str, explore: bool, spy: bool = False) -> None:
        with record(name, cdp) if spy else contextlib.nullcontext():
            measured = measure(page, wire, action, heading, explore, quiet, cdp)
        if name:
            steps[name].append(measured)

    try:
        page.goto(url)
        expect(page.get_by_role("heading", name="Train a model")).to_be_visible(timeout=LONG_MS)
        step(None, click_page(page, "Upload model"), heading_of("Upload model"), False)
        page.get_by_text("Load from library").click()
        expect(page.get_by_test_id("stFileUploader")).to_have_count(0, timeout=LONG_MS)
        page.get_by_role("button", name="Load", exact=True).click()
        expect(page.get_by_text("It is now the current model")).to_be_visible(timeout=LONG_MS)
        step(None, click_page(page, "Predict & plot"), predict_heading, False)
        uploader = page.get_by_test_id("stFileUploader").locator("input[type=file]")
        step("upload", lambda: uploader.set_input_files(str(csv_path)), predict_heading, True,
             spy=True)  # fmt: skip
        for i in range(repeats):
            step("away", click_page(page, "Train"), heading_of("Train"), False, spy=i == 0)
            step("back", click_page(page, "Predict & plot"), predict_heading, True, spy=i == 0)
        for i in range(repeats):
            page.evaluate("document.activeElement && document.activeElement.blur()")
            step("rerun", lambda: page.keyboard.press("r"), predict_heading, True, spy=i == 0)
        if page.get_by_test_id("stException").count():
            raise RuntimeError("the page shows an exception")
    finally:
        context.close()
    return steps


def unavoidable(csv_path: Path, pipeline, features: list[str]) -> dict[str, float]:
    """Median of 3: read_table of the file's bytes, and the pipeline's predict on the frame."""
    data = csv_path.read_bytes()
    reads, predicts = [], []
    for _ in range(3):
        started = time.perf_counter()
        frame = read_table(data, csv_path.name)
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        pipeline.predict(frame[features])
        predicts.append(time.perf_counter() - started)
    read, predict = statistics.median(reads), statistics.median(predicts)
    return {"read": read, "predict": predict, "read+predict": read + predict}


@contextlib.contextmanager
def py_spy(pid: int, out_dir: Path | None, label: str) -> Iterator[None]:
    """Record the server with py-spy while the block runs (when ``out_dir`` is given)."""
    if out_dir is None:
        yield
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    target = out_dir / f"{label}.speedscope.json"
    recorder = subprocess.Popen(
        [str(spy), "record", "--pid", str(pid), "--rate", "200", "--format", "speedscope",
         "--output", str(target), "--threads"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)  # let it attach
    try:
        yield
    finally:
        recorder.send_signal(2)  # SIGINT: py-spy writes its file and exits
        recorder.wait(timeout=60)


@contextlib.contextmanager
def js_profile(cdp, out_dir: Path | None, label: str) -> Iterator[None]:
    """Record the page's JavaScript with Chromium's sampling profiler (when ``out_dir``)."""
    if out_dir is None:
        yield
        return
    import json

    out_dir.mkdir(parents=True, exist_ok=True)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 500})  # microseconds
    cdp.send("Profiler.start")
    try:
        yield
    finally:
        profile = cdp.send("Profiler.stop")["profile"]
        (out_dir / f"{label}.cpuprofile").write_text(json.dumps(profile))


# --- report ------------------------------------------------------------------------------------


def median_step(steps: list[Step]) -> Step:
    return sorted(steps, key=lambda s: s.seconds)[len(steps) // 2]


def biggest(messages: list[Message], n: int = 4) -> str:
    sizes: dict[str, list[int]] = collections.defaultdict(list)
    for message in messages:
        sizes[message.kind].append(message.size)
    ranked = sorted(sizes.items(), key=lambda kv: -sum(kv[1]))[:n]
    return ", ".join(f"{kind.removeprefix('delta:')} {len(v)}x {sum(v) / 1e6:.2f} MB"
                     for kind, v in ranked)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000, help="the large row count")
    parser.add_argument("--small", type=int, default=300, help="the small row count")
    parser.add_argument("--repeats", type=int, default=3, help="away/back/rerun rounds")
    parser.add_argument(
        "--quiet",
        type=float,
        default=0.5,
        help="seconds with no new run before a step counts as idle",
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="record the server with py-spy during the large steps into DIR",
    )
    parser.add_argument(
        "--js-profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="record the page's JavaScript (Chromium profiler) during the large "
        "steps into DIR (.cpuprofile, opens in DevTools)",
    )
    parser.add_argument("--verbose", action="store_true", help="print every step as it ends")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    load = [os.getloadavg()[0]]
    base, source = cars_base()
    print(f"table: {source}; model: HistGradientBoosting for {TARGET}, "
          f"trained on {TRAIN_ROWS:,} resampled rows", flush=True)  # fmt: skip
    inputs = [c for c in base.columns if c not in (TARGET, "Name")]  # Name: an identifier
    result = training.train(
        resample(base, TRAIN_ROWS, seed=1), TARGET, features=inputs, model="hist_gradient_boosting",
        options=training.Options(cv_folds=0, source_name="cars.csv"),
    )  # fmt: skip
    pipeline = result.pipeline
    if VERBOSE:
        print(f"  trained in {time.perf_counter() - started:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="predict-bench-") as tmp:
        tmp_path = Path(tmp)
        library = tmp_path / "library"
        ModelStore(library).save(
            MODEL_NAME, dump_model(pipeline), store_metadata(describe_model(pipeline))
        )
        sizes = {"warm-up": args.small, "small": args.small, "large": args.rows}
        files = {}
        for label, rows in sizes.items():
            files[label] = tmp_path / f"cars_{label}_{rows}.csv"
            seed = {"warm-up": 5, "small": 2, "large": 3}[label]
            resample(base, rows, seed).to_csv(files[label], index=False)
        mb = {label: path.stat().st_size / 1e6 for label, path in files.items()}
        print(f"files: {args.small:,} rows {mb['small']:.2f} MB, {args.rows:,} rows "
              f"{mb['large']:.1f} MB", flush=True)  # fmt: skip

        measured: dict[str, dict[str, list[Step]]] = {}
        work: dict[str, dict[str, float]] = {}
        app = running_app_process(library, tmp_path / "streamlit.log")
        with app as (url, server), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            try:
                for label in ("warm-up", "small", "large"):
                    profile = None
                    if label == "large" and (args.py_spy or args.js_profile):

                        @contextlib.contextmanager
                        def profile(step, cdp):
                            with py_spy(server.pid, args.py_spy, step), \
                                    js_profile(cdp, args.js_profile, step):  # fmt: skip
                                yield

                    measured[label] = session_steps(
                        browser, url, files[label], 1 if label == "warm-up" else args.repeats,
                        args.quiet, profile,
                    )  # fmt: skip
                    print(f"  {label}: browser steps done", flush=True)
                    if label != "warm-up":
                        work[label] = unavoidable(files[label], pipeline, result.features)
            finally:
                browser.close()
    load.append(os.getloadavg()[0])

    report(args, measured, work, load)


def report(args, measured, work, load) -> None:
    small, large = measured["small"], measured["large"]
    steps = ["upload", "away", "back", "rerun"]
    print(f"\nPredict & plot, headless Chromium: {args.small:,} vs {args.rows:,} rows "
          f"(medians of {args.repeats} for away/back/rerun)")  # fmt: skip
    print(f"{'step (s)':<22}{args.small:>10,}{args.rows:>10,}{'ratio':>8}")
    for name in ["read", "predict", "read+predict"]:
        a, b = work["small"][name], work["large"][name]
        print(f"{name:<22}{a:>10.2f}{b:>10.2f}{b / a:>7.1f}x")
    for name in steps:
        a, b = median_step(small[name]).seconds, median_step(large[name]).seconds
        print(f"{name + ' to idle':<22}{a:>10.2f}{b:>10.2f}{b / a:>7.1f}x")

    print(f"\nwhere the time went at {args.rows:,} rows (median step; seconds)")
    print("  to run: action to the run's new_session message (for an upload, its transfer);")
    print("  run: new_session to the last script_finished, as the page got them (a busy page")
    print("  gets them late); after: last script_finished to idle; main: Chromium's main thread")
    print("  busy during the step (scripts, layout, WebGL, paint)")
    print(
        f"{'step':<8}{'total':>7}{'to run':>8}{'run':>7}{'after':>7}{'main':>7}{'MB':>7}"
        "  largest messages"
    )
    for name in steps:
        s = median_step(large[name])
        print(f"{name:<8}{s.seconds:>7.2f}{s.to_run_s:>8.2f}{s.run_s:>7.2f}"
              f"{s.after_s:>7.2f}{s.main_thread.get('task', float('nan')):>7.2f}"
              f"{s.bytes / 1e6:>7.2f}  {biggest(s.messages)}")  # fmt: skip
    print(
        f"(at {args.small:,} rows: "
        + "; ".join(f"{name} {median_step(small[name]).bytes / 1e6:.2f} MB" for name in steps)
        + ")"
    )

    upload = median_step(large["upload"]).seconds
    unavoidable_s = work["large"]["read+predict"]
    back = median_step(large["back"]).seconds / median_step(small["back"]).seconds
    away = median_step(large["away"]).seconds / median_step(small["away"]).seconds
    rerun = median_step(large["rerun"]).seconds / median_step(small["rerun"]).seconds
    print("\ntargets")
    print(
        f"  upload-to-idle / (read+predict) at {args.rows:,}: "
        f"{upload:.2f} / {unavoidable_s:.2f} = {upload / unavoidable_s:.2f}  (target <= 2)"
    )
    print(f"  back   {args.rows:,} / {args.small:,}: {back:.2f}  (target <= 1.5)")
    print(f"  away   {args.rows:,} / {args.small:,}: {away:.2f}  (target <= 1.5)")
    print(f"  rerun  {args.rows:,} / {args.small:,}: {rerun:.2f}  (no target; for reference)")
    print(
        f"(load average {load[0]:.1f} at the start, {load[-1]:.1f} at the end, on "
        f"{os.cpu_count()} cores; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')})"
    )


if __name__ == "__main__":
    main()
