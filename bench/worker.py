"""A model from outside run through its sandboxed worker, against the old in-process way.

Models come from the app's own ``lib.training.train`` (HistGradientBoosting, the default, and
a small random forest; regression and classification) on a sample of a synthetic table of 16
numeric and 4 categorical columns, read with ``lib.data.read_table`` as an upload is, and
are saved with ``lib.persistence.dump_model``. Three measurements, each side alternating with
the other in one run, medians compared:

1. predict: ``lib.predict.predict`` on every row (classifiers add ``predict_proba``) in this
   process, against through ``SandboxedRunner(data)`` opened once and reused (as a page
   does). Target: worker / in-process <= 1.3.
2. open (upload to ready): ``load_model(data)`` (a checker child loads and smoke-predicts,
   then this process parses the file again) plus ``describe_model``, the old path, against
   ``SandboxedRunner(data)``; the forkserver is warmed first, as the app does when it starts.
   Target: new / old <= 1.5.
3. memory: each side in a fresh process (alternating) loads everything, then resets its peak
   (``/proc/self/clear_refs``) and predicts every row once. Target: the web process's peak RSS
   (VmHWM) worker / in-process <= 1.2; the increase over the RSS before predicting, and the
   worker's own peak (a separate process), are shown too.

    .venv/bin/python bench/worker.py              # 300,000 rows x 20 columns, 5 rounds
    .venv/bin/python bench/worker.py --breakdown  # and where each side's predict time goes
    .venv/bin/python bench/worker.py --quick      # a smoke run of the bench (under a minute)

``--quick`` predicts 20,000 rows with the default model only: fixed costs weigh more there,
so its ratios say whether the bench runs, not whether the targets are met. Both sides use
every core for OpenMP, as the app does; on a machine busy with other work that makes each
parallel region wait for a core, and ``OMP_NUM_THREADS=1`` (inherited by the worker) shows
the figures without that noise.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lib.model_ops  # noqa: E402
import lib.predict  # noqa: E402
import lib.runners  # noqa: E402
import lib.worker._process  # noqa: E402
import lib.worker._runner  # noqa: E402
from lib import training  # noqa: E402
from lib.data import read_table  # noqa: E402
from lib.model_info import ModelInfo, describe_model  # noqa: E402
from lib.persistence import dump_model  # noqa: E402
from lib.predict import predict  # noqa: E402
from lib.safe_load import load_model, warm_up  # noqa: E402
from lib.worker import SandboxedRunner  # noqa: E402
from lib.worker._wire import decode_reply, encode_reply  # noqa: E402

TASKS = ("regression", "classification")
N_NUMERIC = 16
CATEGORIES = {
    "colour": ["red", "green", "blue", "grey"],
    "size": ["S", "M", "L"],
    "region": ["north", "south", "east", "west", "centre"],
    "plan": ["basic", "plus", "pro"],
}
TARGETS = {"predict": 1.3, "open": 1.5, "memory": 1.2}
WARM_ROWS = 1_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def synthetic_csv(rows: int, task: str, seed: int) -> bytes:
    """16 numeric and 4 categorical columns plus a target that depends on both, as CSV."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, N_NUMERIC))
    frame = pd.DataFrame(X, columns=[f"x{i:02d}" for i in range(N_NUMERIC)]).round(4)
    for name, values in CATEGORIES.items():
        frame[name] = rng.choice(values, size=rows)
    signal = X[:, 0] * 2 + np.sin(X[:, 1]) + X[:, 2] * X[:, 3]
    signal += (frame["colour"] == "red").to_numpy() * 1.5 - (frame["size"] == "L").to_numpy()
    noisy = signal + rng.normal(scale=0.7, size=rows)
    frame["target"] = noisy.round(4) if task == "regression" else np.where(noisy > 0.5, "yes", "no")
    return frame.to_csv(index=False).encode()


def model_kinds(trees: int, boosting_rounds: int) -> dict[str, tuple[str, dict]]:
    """Label -> (catalog key, hyperparameters) of the models measured."""
    boosting = {} if boosting_rounds == 100 else {"max_iter": boosting_rounds}
    return {
        "HistGradientBoosting": ("hist_gradient_boosting", boosting),
        f"random forest ({trees} trees)": (
            "random_forest",
            {"n_estimators": trees, "max_depth": 12},
        ),
    }


def timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def settle() -> None:
    """Exempt what exists now from garbage collection, as the app does after its imports."""
    gc.collect()
    gc.freeze()


def status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def reset_peak(pid: int | str = "self") -> bool:
    """Start VmHWM again from the current RSS; False when the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int | str = "self") -> float:
    """CPU time (user + system, all threads) a process has used so far."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def load_average() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


# --- 1. predict ------------------------------------------------------------------------------


class Stages:
    """Wall time spent in named functions of lib while predicting, per round.

    ``watch(owner, name, label)`` replaces ``owner.name`` with a timed wrapper (``restore``
    puts every original back). Each round's spans are summed per label.
    """

    def __init__(self) -> None:
        self.rounds: dict[str, list[dict[str, float]]] = {}
        self._current: dict[str, float] | None = None
        self._originals: list[tuple[object, str, object]] = []

    def watch(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed_call(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                if self._current is not None:
                    spent = time.perf_counter() - started
                    self._current[label] = self._current.get(label, 0.0) + spent

        self._originals.append((owner, name, original))
        setattr(owner, name, timed_call)

    def measure(self, side: str, step: Callable[[], object]) -> float:
        self._current = {}
        total = timed(step)
        self._current["rest"] = total - sum(self._current.values())
        self._current["total"] = total
        self.rounds.setdefault(side, []).append(self._current)
        self._current = None
        return total

    def medians(self, side: str) -> dict[str, float]:
        labels = {label for spans in self.rounds[side] for label in spans}
        return {
            label: statistics.median(spans.get(label, 0.0) for spans in self.rounds[side])
            for label in labels
        }

    def restore(self) -> None:
        for owner, name, original in reversed(self._originals):
            setattr(owner, name, original)
        self._originals.clear()


def watched_stages() -> Stages:
    """The stages of ``lib.predict.predict`` on either side (see ``report_stages``)."""
    stages = Stages()
    stages.watch(lib.predict, "align", "align")
    stages.watch(lib.runners.InProcessRunner, "run", "model")
    stages.watch(lib.worker._process, "send_request", "send")
    stages.watch(lib.worker._process.Worker, "_wait", "wait")
    stages.watch(lib.worker._process, "decode_reply", "decode")
    stages.watch(lib.worker._runner, "_checked", "check")
    return stages


def wire_costs(pipeline: object, rows: pd.DataFrame, info: ModelInfo) -> dict[str, float]:
    """Seconds (median of 3) of each serialisation step of a worker's predict, done here on
    the same rows and result: what the request and reply cost without the pipe or the model."""
    X, _ = lib.predict.align(rows, info)
    result = lib.model_ops.predict(pipeline, X, proba=info.has_proba)
    costs: dict[str, list[float]] = {}
    for _ in range(3):
        started = time.perf_counter()
        buffers: list[pickle.PickleBuffer] = []
        body = pickle.dumps(("predict", {"X": X, "proba": info.has_proba}), protocol=5,
                            buffer_callback=buffers.append)  # fmt: skip
        message = len(buffers).to_bytes(4, "little") + body
        raws = [bytes(buffer.raw()) for buffer in buffers]  # what recv_bytes gives the worker
        costs.setdefault("pickle request", []).append(time.perf_counter() - started)
        started = time.perf_counter()
        copies = [bytearray(raw) for raw in raws]
        pickle.loads(message[4:], buffers=copies)
        costs.setdefault("unpickle request (worker)", []).append(time.perf_counter() - started)
        started = time.perf_counter()
        reply = encode_reply("ok", result)
        costs.setdefault("encode reply (worker)", []).append(time.perf_counter() - started)
        started = time.perf_counter()
        decode_reply(reply)
        costs.setdefault("decode reply", []).append(time.perf_counter() - started)
        sizes = {"request bytes": len(message) + sum(map(len, raws)), "reply bytes": len(reply)}
    return {label: statistics.median(values) for label, values in costs.items()} | sizes


def bench_predict(pipeline: object, data: bytes, rows: pd.DataFrame, rounds: int,
                  stages: Stages | None = None) -> dict[str, list[float]]:  # fmt: skip
    info = describe_model(pipeline)
    runner = SandboxedRunner(data)
    try:
        warm = rows.iloc[:WARM_ROWS]
        predict(pipeline, warm, info)
        predict(runner, warm, runner.info)
        inproc = predict(pipeline, rows, info).frame
        through = predict(runner, rows, runner.info).frame
        pd.testing.assert_frame_equal(inproc, through, check_exact=False, rtol=1e-9)
        del inproc, through
        steps = {
            "in-process": lambda: predict(pipeline, rows, info),
            "worker": lambda: predict(runner, rows, runner.info),
        }
        times: dict[str, list[float]] = {side: [] for side in (*steps, "cpu in-process",
                                                               "cpu worker")}  # fmt: skip
        for i in range(rounds):
            for side in ("in-process", "worker") if i % 2 == 0 else ("worker", "in-process"):
                step = steps[side]
                cpu = cpu_seconds() + (cpu_seconds(runner.pid) if side == "worker" else 0.0)
                times[side].append(stages.measure(side, step) if stages else timed(step))
                cpu = cpu_seconds() + (cpu_seconds(runner.pid) if side == "worker" else 0.0) - cpu
                times[f"cpu {side}"].append(cpu)
    finally:
        runner.close()
    return times


# --- 2. open -----------------------------------------------------------------------------------


def open_old(data: bytes) -> None:
    loaded = load_model(data)
    describe_model(loaded.model, loaded.file_sklearn_version)


def open_new(data: bytes) -> SandboxedRunner:
    return SandboxedRunner(data)


def bench_open(data: bytes, rounds: int) -> dict:
    open_old(data)
    open_new(data).close()
    times: dict[str, list[float]] = {"old": [], "new": []}
    for i in range(rounds):
        for side in ("old", "new") if i % 2 == 0 else ("new", "old"):
            if side == "old":
                times[side].append(timed(lambda: open_old(data)))
            else:
                started = time.perf_counter()
                runner = open_new(data)
                times[side].append(time.perf_counter() - started)
                runner.close()
    return times


# --- 3. memory (each side in a fresh process) ----------------------------------------------------


def memory_child(side: str, csv: Path, model: Path) -> None:
    """Load the rows and the model, reset the peak, predict once; print the figures as JSON."""
    rows = read_table(csv.read_bytes(), csv.name).drop(columns="target")
    data = model.read_bytes()
    if side == "in-process":
        # The old app's web process: the checker child changes nothing in this process's
        # memory, so it is skipped here.
        loaded = load_model(data, sandbox=False)
        target, info, pid = loaded.model, describe_model(loaded.model), None
    else:
        warm_up()
        runner = SandboxedRunner(data)
        target, info, pid = runner, runner.info, runner.pid
    predict(target, rows.iloc[:WARM_ROWS], info)  # lazy imports and first-call set-ups
    settle()
    before = status()["VmRSS"]
    worker_before = status(pid)["VmRSS"] if pid else 0
    reset_peak()
    worker_reset = reset_peak(pid) if pid else False
    result = predict(target, rows, info)
    after = status()
    figures = {"before": before, "peak": after["VmHWM"], "after": after["VmRSS"]}
    if pid:
        worker = status(pid)
        figures |= {"worker_before": worker_before, "worker_peak": worker["VmHWM"],
                    "worker_reset": worker_reset}  # fmt: skip
    del result
    print(json.dumps(figures))


def bench_memory(csv: Path, model: Path, rounds: int) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {"in-process": [], "worker": []}
    for i in range(rounds):
        for side in ("in-process", "worker") if i % 2 == 0 else ("worker", "in-process"):
            done = subprocess.run(
                [sys.executable, __file__, "--memory-child", side, str(csv), str(model)],
                capture_output=True, text=True, check=True, cwd=ROOT,
            )  # fmt: skip
            runs[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return runs


# --- the report ----------------------------------------------------------------------------------


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "MISSED"


def measure_model(args: argparse.Namespace, name: str, pipeline: object, rows: pd.DataFrame,
                  csv: Path, model: Path) -> dict:  # fmt: skip
    """All three measurements for one model; prints a line per measurement as it goes."""
    data = model.read_bytes()
    print(f"\n{name}: {len(data) / 1e6:.1f} MB file")
    stages = watched_stages() if args.breakdown else None
    try:
        times = bench_predict(pipeline, data, rows, args.rounds, stages)
    finally:
        if stages:
            stages.restore()
    figures: dict = {"name": name, "size": len(data), "stages": stages}
    figures["predict"] = {side: statistics.median(v) for side, v in times.items()}
    print(f"  predict  in-process {figures['predict']['in-process']:.2f} s, worker "
          f"{figures['predict']['worker']:.2f} s")  # fmt: skip
    if args.breakdown:
        figures["wire"] = wire_costs(pipeline, rows, describe_model(pipeline))
    times = bench_open(data, args.open_rounds)
    figures["open"] = {side: statistics.median(v) for side, v in times.items()}
    print(f"  open     old {figures['open']['old'] * 1e3:.0f} ms, new "
          f"{figures['open']['new'] * 1e3:.0f} ms")  # fmt: skip
    runs = bench_memory(csv, model, args.memory_rounds)
    figures["memory"] = runs
    print(f"  memory   peak in-process {_median(runs, 'in-process', 'peak'):.0f} MB, "
          f"worker {_median(runs, 'worker', 'peak'):.0f} MB")  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000, help="rows to predict")
    parser.add_argument("--train-rows", type=int, default=20_000, help="rows to train on")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of predict")
    parser.add_argument("--open-rounds", type=int, default=9, help="rounds of opening a model")
    parser.add_argument("--memory-rounds", type=int, default=3, help="fresh processes per side")
    parser.add_argument("--trees", type=int, default=30, help="the random forest's trees")
    parser.add_argument("--boosting-rounds", type=int, default=100, help="HistGradientBoosting's")
    parser.add_argument("--default-model-only", action="store_true",
                        help="HistGradientBoosting (the default) only, no forest")  # fmt: skip
    parser.add_argument("--breakdown", action="store_true",
                        help="also show where a predict's time goes, on each side")  # fmt: skip
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and the default model only: a smoke run")  # fmt: skip
    parser.add_argument("--memory-child", nargs=3, metavar=("SIDE", "CSV", "MODEL"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.memory_child:
        side, csv, model = args.memory_child
        memory_child(side, Path(csv), Path(model))
        return
    if args.quick:
        args.rows, args.train_rows, args.trees, args.boosting_rounds = 20_000, 2_000, 10, 20
        args.rounds, args.open_rounds, args.memory_rounds = 3, 3, 1
        args.default_model_only = True

    warm_up()  # the forkserver and the loader's allow-list, as the app does when it starts
    settle()
    kinds = model_kinds(args.trees, args.boosting_rounds)
    if args.default_model_only:
        kinds = dict(list(kinds.items())[:1])
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    print(f"{args.rows:,} rows x {N_NUMERIC + len(CATEGORIES)} columns to predict; models "
          f"trained on {args.train_rows:,}; OMP_NUM_THREADS={threads}; load average "
          f"{load_average()}")  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        for task in TASKS:
            csv = Path(tmp) / f"{task}.csv"
            csv.write_bytes(synthetic_csv(args.rows, task, seed=2))
            rows = read_table(csv.read_bytes(), csv.name).drop(columns="target")
            sample = read_table(synthetic_csv(args.train_rows, task, seed=1), "train.csv")
            for label, (key, params) in kinds.items():
                options = training.Options(test_size=0.0, cv_folds=0, params=params)
                # Training is set-up, not measured: one OpenMP thread, because on a busy
                # machine boosting's thousands of small parallel regions each wait for a
                # free core (2,000 rows took 4 to 43 s with two threads, 0.3 to 0.6 s with one).
                with threadpool_limits(limits=1, user_api="openmp"):
                    result = training.train(sample, "target", model=key, options=options)
                pipeline = result.pipeline
                model = Path(tmp) / f"{task}-{key}.joblib"
                model.write_bytes(dump_model(pipeline))
                name = f"{task}, {label}"
                results.append(measure_model(args, name, pipeline, rows, csv, model))
    report(args, results)


def _median(runs: dict[str, list[dict]], side: str, key: str, minus: str | None = None) -> float:
    values = [run[key] - (run[minus] if minus else 0) for run in runs[side]]
    return statistics.median(values) / 1e6


def report(args: argparse.Namespace, results: list[dict]) -> None:
    print(f"\nload average at the end {load_average()}")
    print(f"\n1. predict {args.rows:,} rows, median of {args.rounds} alternating rounds "
          f"(target worker / in-process <= {TARGETS['predict']})")  # fmt: skip
    print(f"{'model':<44}{'in-process':>12}{'worker':>10}{'ratio':>9}"
          f"{'CPU time: in-process':>30}{'worker + web':>14}{'ratio':>8}")  # fmt: skip
    for result in results:
        med = result["predict"]
        ratio = med["worker"] / med["in-process"]
        cpu_in, cpu_worker = med["cpu in-process"], med["cpu worker"]
        print(f"{result['name']:<44}{med['in-process']:>10.2f} s{med['worker']:>8.2f} s"
              f"{ratio:>8.2f}x  {verdict(ratio, TARGETS['predict']):<8}"
              f"{cpu_in:>18.2f} s{cpu_worker:>12.2f} s{cpu_worker / cpu_in:>7.2f}x")  # fmt: skip
    print("(CPU time of every thread: the worker's and the web process's together on the worker "
          "side; it shows\n whether the worker does more work, which wall time on a busy machine "
          "cannot)")  # fmt: skip
    if args.breakdown:
        report_stages(results)

    print(f"\n2. open (upload to ready), median of {args.open_rounds} alternating rounds "
          f"(target new / old <= {TARGETS['open']})")  # fmt: skip
    print(f"{'model':<44}{'file':>8}{'old':>10}{'new':>10}{'ratio':>9}")
    for result in results:
        med = result["open"]
        ratio = med["new"] / med["old"]
        print(
            f"{result['name']:<44}{result['size'] / 1e6:>5.1f} MB{med['old'] * 1e3:>7.0f} ms"
            f"{med['new'] * 1e3:>7.0f} ms{ratio:>8.2f}x  {verdict(ratio, TARGETS['open'])}"
        )

    print(f"\n3. the web process's memory while predicting {args.rows:,} rows, median of "
          f"{args.memory_rounds} fresh processes per side (target: peak RSS worker / in-process "
          f"<= {TARGETS['memory']})")  # fmt: skip
    print(f"{'model':<44}{'side':<12}{'before':>9}{'peak':>9}{'increase':>10}"
          f"{'worker before':>15}{'worker peak':>13}")  # fmt: skip
    for result in results:
        runs = result["memory"]
        for side in ("in-process", "worker"):
            worker = ""
            if side == "worker":
                worker = (f"{_median(runs, side, 'worker_before'):>12.0f} MB"
                          f"{_median(runs, side, 'worker_peak'):>10.0f} MB")  # fmt: skip
            print(f"{result['name'] if side == 'in-process' else '':<44}{side:<12}"
                  f"{_median(runs, side, 'before'):>6.0f} MB{_median(runs, side, 'peak'):>6.0f} MB"
                  f"{_median(runs, side, 'peak', 'before'):>7.0f} MB{worker}")  # fmt: skip
        peak = _median(runs, "worker", "peak") / _median(runs, "in-process", "peak")
        increase = _median(runs, "worker", "peak", "before") / _median(
            runs, "in-process", "peak", "before"
        )
        print(
            f"{'':<44}peak RSS worker / in-process {peak:.2f}x "
            f"{verdict(peak, TARGETS['memory'])}; increase worker / in-process {increase:.2f}x"
        )
    reset = all(run["worker_reset"] for result in results for run in result["memory"]["worker"])
    print(
        "(MB = 10^6 bytes. 'before' is the RSS just before the predict, 'peak' the VmHWM "
        "during it, 'increase' their difference; the worker is a separate process, its peak "
        + ("measured from its RSS before the predict)" if reset else "over its whole life)")
    )


def report_stages(results: list[dict]) -> None:
    """Where each side's predict time goes (medians over the rounds, seconds)."""
    print(
        "\n   where the time goes (medians, s): align = choosing the columns; model = the "
        "model's own predict here;\n   send = pickling the request and writing it to the "
        "pipe; wait = until the reply has arrived (the worker\n   unpickles, predicts and "
        "encodes); decode + check = reading the reply; rest = building the result frame"
    )
    labels = ["align", "model", "send", "wait", "decode", "check", "rest", "total"]
    print(f"   {'model':<41}{'side':<12}" + "".join(f"{label:>8}" for label in labels))
    for result in results:
        for side in ("in-process", "worker"):
            med = result["stages"].medians(side)
            name = result["name"] if side == "in-process" else ""
            print(f"   {name:<41}{side:<12}" + "".join(f"{med.get(k, 0):>8.3f}" for k in labels))
        wire = result["wire"]
        parts = ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in wire.items() if "bytes" not in k)
        print(
            f"   {'':<41}serialising here: {parts}; request "
            f"{wire['request bytes'] / 1e6:.0f} MB, reply {wire['reply bytes'] / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main()
