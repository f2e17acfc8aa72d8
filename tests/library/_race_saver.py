"""Run by the race test in separate processes: save one name many times into a library.

Usage: python _race_saver.py URL NAME COUNT TAG GO_FILE. Waits until GO_FILE exists so all
processes start together, then prints one line per save: "<version> <payload hex>".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from lib.library import open_library


def main() -> None:
    url, name, count, tag, go_file = sys.argv[1:6]
    library = open_library(url)
    while not Path(go_file).exists():
        time.sleep(0.005)
    for i in range(int(count)):
        payload = f"{tag}-{i}-".encode() * 50
        record = library.save(name, payload, {"saver": tag, "i": i}, saved_by=tag)
        print(record.version, payload.hex(), flush=True)


if __name__ == "__main__":
    main()
