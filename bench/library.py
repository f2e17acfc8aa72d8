"""Benchmark: saving and listing a versioned model library of 1,000 versions.

Run: ``.venv/bin/python bench/library.py`` from the repository root (``--backends local`` to skip
the S3 server). Builds 100 names x 10 versions (1 KB payloads) on a local folder and on moto's
S3 server (started here, on a free port). Prints the median time of ``Library.names()`` (one
listing plus the newest record of each name) at 100, 300 and 1,000 versions, the growth ratios
(target: time per version <= ~1x, i.e. no worse than linear; local list < 1 s), and the time of
``Library.problems()``, which reads all 1,000 records, and of ``names()`` for a signed-in person
(not an administrator): the first listing reads every record once, later ones only the newest.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.access import Person
from lib.library import Library, open_library

NAMES = 100
ROUNDS = 10  # versions per name
CHECKPOINTS = {1: 100, 3: 300, 10: 1000}  # after this many rounds: this many versions
REPEATS = 5


def _median_time(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(label: str, library: Library) -> None:
    """Fill ``library`` round by round, timing saves and the listing at each checkpoint."""
    list_times: dict[int, float] = {}
    save_time = 0.0
    for round_no in range(1, ROUNDS + 1):
        start = time.perf_counter()
        for i in range(NAMES):
            payload = f"model {i} version {round_no} ".encode() * 40  # ~1 KB, all distinct
            library.save(f"model {i:03d}", payload, {"task": "classification", "round": round_no})
        save_time += time.perf_counter() - start
        if round_no in CHECKPOINTS:
            n_versions = CHECKPOINTS[round_no]
            summaries = library.names()
            assert len(summaries) == NAMES and sum(s.count for s in summaries) == n_versions
            list_times[n_versions] = _median_time(library.names)
    total = NAMES * ROUNDS
    print(f"{label}: {total} saves in {save_time:.1f} s ({1000 * save_time / total:.1f} ms each)")
    for n, seconds in list_times.items():
        print(
            f"{label}: names() over {n:>5} versions: {seconds * 1000:8.1f} ms "
            f"({seconds * 1e6 / n:6.1f} us per version)"
        )
    per_small = list_times[100] / 100
    per_large = list_times[1000] / 1000
    print(
        f"{label}: names() at 1,000 / at 100 versions = {list_times[1000] / list_times[100]:.2f}"
        f" for 10x the versions; time per version ratio {per_large / per_small:.2f} "
        "(<= ~1: grows no worse than linearly)"
    )
    full = _median_time(library.problems, repeats=3)
    print(f"{label}: problems() (reads all 1,000 records): {full * 1000:.1f} ms")
    one_name = _median_time(lambda: library.versions("model 050"))
    print(f"{label}: versions() of one name (10 versions): {one_name * 1000:.1f} ms")
    # With sign-in on, a person who is not an administrator may not see others' private
    # versions, so listing reads every version's record (not one per name).
    # A fresh Library (a server that just started) reads them all once, then remembers each
    # version's owner and visibility.
    person = Person(id="someone@example.com", name="Someone", signed_in=True)
    fresh = Library(library.storage)
    start = time.perf_counter()
    fresh.names(viewer=person)
    first = time.perf_counter() - start
    later = _median_time(lambda: fresh.names(viewer=person))
    print(
        f"{label}: names() for a signed-in person over 1,000 versions: first {first * 1000:.1f}"
        f" ms, then {later * 1000:.1f} ms ({later / list_times[1000]:.2f}x the listing without "
        "sign-in)"
    )


def _moto_library() -> tuple[Library, object]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    import boto3

    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return open_library(f"s3://{bucket}/models"), server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="local,s3", help="comma-separated: local, s3")
    args = parser.parse_args()
    backends = args.backends.split(",")
    print(f"{NAMES} names x {ROUNDS} versions, ~1 KB each; median of {REPEATS} listings")
    if "local" in backends:
        with tempfile.TemporaryDirectory() as folder:
            run("local", open_library(folder))
    if "s3" in backends:
        library, server = _moto_library()
        try:
            run("s3 (moto server)", library)
        finally:
            server.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
