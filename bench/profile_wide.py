"""How long ``lib.profile.profile_table`` takes on wide and on long tables, new against old.

Three synthetic frames, each profiled once by the current profiler and once by the per-column
profiler it replaced (``lib/profile.py`` at commit 793e3c7, read with ``git show`` and loaded
as a module), in one process:

- wide numbers: 20,000 float64 columns x 1,000 rows, as ``read_csv`` gives a numeric CSV
  (a few percent missing, some 0/1 and whole-number columns);
- wide strings: 20,000 columns x 1,000 rows of short words (pandas' ``str`` dtype);
- long: 1,000,000 rows x 20 columns, 12 numeric and 8 categorical (sampled to 100,000 rows).

It prints each time, the ratio new/old, and whether both give the same profiles.

    .venv/bin/python bench/profile_wide.py
    .venv/bin/python bench/profile_wide.py --columns 5000 --no-old

Target: each wide frame within a few seconds (< 3 s on 2 cores); the long frame no slower.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.profile import profile_table  # noqa: E402

OLD_REVISION = "793e3c7"


def old_profiler(revision: str):
    """The profiler module as it was at ``revision``."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:lib/profile.py"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    spec = importlib.util.spec_from_loader("old_profile", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_profile"] = module  # dataclasses look their module up
    exec(compile(source, f"{revision}:lib/profile.py", "exec"), module.__dict__)
    return module


def wide_numbers(columns: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(rows, columns)).round(3)
    values[rng.random(size=values.shape) < 0.02] = np.nan
    values[:, ::10] = rng.integers(0, 2, size=(rows, len(range(0, columns, 10))))
    values[:, 5::10] = rng.integers(0, 100, size=(rows, len(range(5, columns, 10))))
    return pd.DataFrame(values, columns=[f"x{i}" for i in range(columns)])


def wide_strings(columns: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    words = np.array(["red", "green", "blue", "grey", "a1", "b22", "yes", "no", "2024-01-02"])
    picks = rng.integers(0, len(words), size=(rows, columns))
    picks[:, ::3] %= 4  # some columns with fewer values
    frame = pd.DataFrame(words[picks], columns=[f"s{i}" for i in range(columns)])
    return frame.astype("str")


def long_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(rows, 10)).round(4), columns=[f"n{i}" for i in range(10)])
    frame["count"] = rng.poisson(3.0, size=rows)
    frame["row"] = np.arange(1, rows + 1)
    for i, size in enumerate([3, 5, 12, 40, 150, 2, 7, 1000]):
        labels = np.array([f"c{i}_{j}" for j in range(size)])
        frame[f"cat{i}"] = pd.Series(labels[rng.integers(0, size, size=rows)], dtype="str")
    frame.loc[rng.random(rows) < 0.05, "n0"] = np.nan
    return frame


def timed(function, frame: pd.DataFrame) -> tuple[float, list]:
    started = time.perf_counter()
    profiles = function(frame)
    return time.perf_counter() - started, profiles


def same(new: list, old: list) -> str:
    differ = [a.name for a, b in zip(new, old, strict=True) if a.__dict__ != b.__dict__]
    return "yes" if not differ else f"no, {len(differ)} differ (first {differ[:3]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=1_000, help="rows of the wide frames")
    parser.add_argument("--long-rows", type=int, default=1_000_000)
    parser.add_argument("--no-old", action="store_true", help="time the new profiler only")
    args = parser.parse_args()
    old = None if args.no_old else old_profiler(OLD_REVISION)

    frames = {
        f"wide numbers {args.rows:,} x {args.columns:,}": wide_numbers(args.columns, args.rows),
        f"wide strings {args.rows:,} x {args.columns:,}": wide_strings(args.columns, args.rows),
        f"long {args.long_rows:,} x 20": long_frame(args.long_rows),
    }
    print(f"{'frame':<34} {'new s':>8} {'old s':>8} {'new/old':>8}  same profiles")
    for label, frame in frames.items():
        seconds, profiles = timed(profile_table, frame)
        if old is None:
            print(f"{label:<34} {seconds:8.2f}")
            continue
        old_seconds, old_profiles = timed(old.profile_table, frame)
        ratio = seconds / old_seconds
        print(
            f"{label:<34} {seconds:8.2f} {old_seconds:8.2f} {ratio:8.3f}  "
            f"{same(profiles, old_profiles)}"
        )


if __name__ == "__main__":
    main()
