"""Reading an upload in its capped process against reading it in the web process.

The app reads and profiles every upload in a separate, confined process (``lib.data.
read_upload``) and takes the table back as Arrow IPC. This measures that against doing the same
work in process (``read_table`` then ``profile_table``), each in a fresh Python process (so
neither reuses memory the other faulted in), alternating, on the overhead bench's table.

    .venv/bin/python bench/table_reader.py               # 1,000,000 rows x 20 columns, 5 rounds
    .venv/bin/python bench/table_reader.py --rows 100000 --rounds 3

Target: worker / in-process <= 1.15 in time (the read step of bench/overhead.py).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def child(which: str, csv_path: Path) -> None:
    from overhead import settle_imports

    from lib.data import read_table, read_upload
    from lib.profile import profile_table
    from lib.worker import warm_up

    warm_up()  # the app starts the forkserver with the server; one small read waits for it
    read_upload(b"a,b\n1,2\n", "warm.csv")
    data = csv_path.read_bytes()
    settle_imports()
    t = time.perf_counter()
    if which == "in-process":
        frame = read_table(data, csv_path.name)
        profiles = profile_table(frame)
    else:
        upload = read_upload(data, csv_path.name)
        frame, profiles = upload.frame, upload.profiles
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "shape": list(frame.shape),
                      "columns": len(profiles)}))  # fmt: skip


def run(which: str, csv_path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", which, "--csv", str(csv_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child")
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.csv)
        return
    from overhead import make_csv

    csv_path = make_csv(args.rows)
    results: dict[str, list[dict]] = {"in-process": [], "worker": []}
    for _ in range(args.rounds):
        for which in results:
            results[which].append(run(which, csv_path))
    size = csv_path.stat().st_size / 1e6
    print(f"{args.rows:,} rows x 20 columns ({size:.0f} MB CSV), median of {args.rounds} rounds")
    medians = {}
    for which, runs in results.items():
        medians[which] = statistics.median(r["seconds"] for r in runs)
        peak = statistics.median(r["peak_mb"] for r in runs)
        print(
            f"  {which:>10}: read + profile {medians[which]:.2f} s, web process peak {peak:.0f} MB"
        )
    print(f"  worker / in-process: {medians['worker'] / medians['in-process']:.2f} (target 1.15)")


if __name__ == "__main__":
    main()
