"""Tests for lib/store.py: the model library on disk, with real files under tmp_path."""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from lib import store as store_mod
from lib.errors import StoreError, UserError
from lib.store import LibraryEntry, ModelStore, validate_name


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The library folder, one level below tmp_path so escapes upwards are visible."""
    return tmp_path / "library"


@pytest.fixture
def store(root: Path) -> ModelStore:
    return ModelStore(root)


def _tree(path: Path) -> set[str]:
    """All paths under ``path`` relative to it (files and folders)."""
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def _real_files(root: Path) -> set[str]:
    """Files under their real names: everything except hidden temp files and the lock file."""
    return {p.name for p in root.iterdir() if not p.name.startswith(".")}


def _temp_files(root: Path) -> list[str]:
    return [p.name for p in root.iterdir() if p.name.endswith(".tmp")]


# -- round trip ------------------------------------------------------------------------------


def test_root_is_created(tmp_path: Path) -> None:
    ModelStore(str(tmp_path / "a" / "b"))
    assert (tmp_path / "a" / "b").is_dir()


def test_save_list_read_delete_round_trip(store: ModelStore, root: Path) -> None:
    data = b"\x80\x04fake model bytes\x00\xff" * 100
    entry = store.save("  house prices v2 ", data, {"task": "regression"})

    assert entry.name == "house prices v2"
    assert entry.filename == "house prices v2.joblib"
    assert entry.size_bytes == len(data)
    assert entry.sha256 == hashlib.sha256(data).hexdigest()
    assert entry.metadata == {"task": "regression"}
    assert (root / "house prices v2.joblib").read_bytes() == data
    sidecar = json.loads((root / "house prices v2.json").read_text(encoding="utf-8"))
    assert set(sidecar) == {"name", "filename", "size_bytes", "sha256", "created_at", "metadata"}
    assert sidecar["sha256"] == entry.sha256

    assert store.exists("house prices v2")
    assert store.list() == [entry]
    assert store.entry("house prices v2") == entry
    assert store.read("house prices v2") == data

    store.delete("house prices v2")
    assert not store.exists("house prices v2")
    assert store.list() == []
    assert _real_files(root) == set()


def test_created_at_is_iso_utc(store: ModelStore) -> None:
    from datetime import datetime, timedelta

    entry = store.save("m", b"x")
    created = datetime.fromisoformat(entry.created_at)
    assert created.utcoffset() == timedelta(0)


def test_metadata_defaults_to_empty_dict(store: ModelStore) -> None:
    assert store.save("m", b"x").metadata == {}
    assert store.entry("m").metadata == {}


def test_metadata_round_trip_with_numpy_and_non_finite(store: ModelStore) -> None:
    meta = {
        "task": "classification",
        "metrics": {
            "accuracy": np.float64(0.91),
            "f1": np.float32(0.5),
            "n": np.int64(7),
            "bad": float("nan"),
            "worse": np.float64("inf"),
            "neg": -float("inf"),
            "flag": np.bool_(True),
        },
        "classes": np.array([1, 2, 3]),
        "pair": (1, "a"),
        "nested": [{"x": np.nan}],
        "label": "café ☕",
        3: "int key",
    }
    saved = store.save("m", b"x", meta)
    expected = {
        "task": "classification",
        "metrics": {
            "accuracy": 0.91,
            "f1": 0.5,
            "n": 7,
            "bad": None,
            "worse": None,
            "neg": None,
            "flag": True,
        },
        "classes": [1, 2, 3],
        "pair": [1, "a"],
        "nested": [{"x": None}],
        "label": "café ☕",
        "3": "int key",
    }
    assert saved.metadata == expected
    assert store.entry("m").metadata == expected
    assert type(store.entry("m").metadata["metrics"]["n"]) is int


def test_unserialisable_metadata_is_a_type_error_and_writes_nothing(
    store: ModelStore, root: Path
) -> None:
    with pytest.raises(TypeError, match="plain data"):
        store.save("m", b"x", {"model": object()})
    assert _real_files(root) == set()


def test_model_bytes_must_be_bytes(store: ModelStore) -> None:
    with pytest.raises(TypeError):
        store.save("m", "not bytes")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="empty"):
        store.save("m", b"")
    assert store.save("m", bytearray(b"ok")).size_bytes == 2


def test_list_is_newest_first(store: ModelStore, monkeypatch: pytest.MonkeyPatch) -> None:
    times = iter(
        [
            "2024-01-01T10:00:00.000000+00:00",
            "2024-03-01T10:00:00.000000+00:00",
            "2024-02-01T10:00:00.000000+00:00",
            "2024-03-01T10:00:00.000000+00:00",
        ]
    )
    monkeypatch.setattr(store_mod, "_now", lambda: next(times))
    for name in ["oldest", "newest b", "middle", "newest a"]:
        store.save(name, name.encode())
    assert [e.name for e in store.list()] == ["newest a", "newest b", "middle", "oldest"]


def test_list_order_real_clock(store: ModelStore) -> None:
    for name in ["a", "b", "c"]:
        store.save(name, b"x")
    assert [e.name for e in store.list()] == ["c", "b", "a"]


def test_list_ignores_readme_temp_and_lock_files(store: ModelStore, root: Path) -> None:
    (root / "README.md").write_text("hello")
    (root / ".tmp-abc.tmp").write_bytes(b"half")
    (root / ".hidden.json").write_text("{}")
    store.save("m", b"x")
    assert [e.name for e in store.list()] == ["m"]


# -- refusing and overwriting ----------------------------------------------------------------


def test_refuses_existing_name(store: ModelStore, root: Path) -> None:
    first = store.save("m", b"first", {"v": 1})
    with pytest.raises(StoreError) as info:
        store.save("m", b"second", {"v": 2})
    assert str(info.value) == (
        "A model named 'm' already exists. Pick another name or tick 'Overwrite'."
    )
    assert isinstance(info.value, UserError)
    assert store.read("m") == b"first"
    assert store.entry("m") == first
    assert _temp_files(root) == []


def test_name_match_is_exact(store: ModelStore) -> None:
    store.save("Model", b"a")
    store.save("model", b"b")  # case differs: a different name
    assert store.read("Model") == b"a"
    assert store.read(" model ") == b"b"


def test_overwrite_replaces_both_files(store: ModelStore, root: Path) -> None:
    store.save("m", b"first", {"v": 1})
    second = store.save("m", b"second version", {"v": 2}, overwrite=True)
    assert store.read("m") == b"second version"
    assert store.entry("m") == second
    assert second.metadata == {"v": 2}
    assert second.size_bytes == len(b"second version")
    sidecar = json.loads((root / "m.json").read_text(encoding="utf-8"))
    assert sidecar["sha256"] == hashlib.sha256(b"second version").hexdigest()
    assert len(store.list()) == 1
    assert _real_files(root) == {"m.joblib", "m.json"}


def test_overwrite_of_missing_name_just_saves(store: ModelStore) -> None:
    store.save("m", b"x", overwrite=True)
    assert store.read("m") == b"x"


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "type a name"),
        ("   ", "type a name"),
        ("a" * 101, "at most 100"),
        ("../evil", "a slash"),
        ("..\\evil", "a slash"),
        ("a/b", "a slash"),
        ("/etc/passwd", "a slash"),
        ("a\\b", "a slash"),
        ("..", "dots and spaces"),
        (". .", "dots and spaces"),
        ("...", "dots and spaces"),
        (".hidden", "start with '.'"),
        ("a..b", "'..'"),
        ("bad\x00name", "control character"),
        ("tab\tname", "control character"),
        ("new\nline", "control character"),
        ("zero\u200bwidth", "invisible"),
        ("bidi\u202eoverride", "invisible"),
        ("日本語" * 30, "too long"),
    ],
)
def test_bad_names_are_refused(
    store: ModelStore, root: Path, tmp_path: Path, name: str, expected: str
) -> None:
    before = _tree(tmp_path)
    with pytest.raises(StoreError) as info:
        store.save(name, b"payload")
    message = str(info.value)
    assert expected.lower() in message.lower()
    assert "house prices v2" in message  # every message gives an example of a good name
    for method in (store.read, store.entry, store.delete):
        with pytest.raises(StoreError):
            method(name)
    assert store.exists(name) is False
    assert _tree(tmp_path) == before == {"library"}  # nothing written, inside or outside root


@pytest.mark.parametrize(
    "name",
    [
        "house prices v2",
        "model-1_(final)",
        "v1.2",
        "Ünïcödé",
        "日本語モデル",
        "модель",
        "CON",
        "a" * 100,
        "emoji 🚀",
        "x.json",
        "README.md",
    ],
)
def test_good_names_are_accepted(store: ModelStore, root: Path, name: str) -> None:
    assert validate_name(f"  {name}\n") == name
    store.save(name, b"data")
    assert store.read(name) == b"data"
    assert [e.name for e in store.list()] == [name]
    assert {p.parent for p in root.rglob("*")} == {root}


def test_validate_name_none_and_non_str() -> None:
    with pytest.raises(StoreError):
        validate_name(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        validate_name(3)  # type: ignore[arg-type]


# -- damage ----------------------------------------------------------------------------------

DAMAGED = "The saved model 'm' is damaged: its contents no longer match its checksum."


def test_tampered_model_bytes_are_detected(store: ModelStore, root: Path) -> None:
    store.save("m", b"original bytes")
    (root / "m.joblib").write_bytes(b"original bytez")  # same size, different content
    with pytest.raises(StoreError) as info:
        store.read("m")
    assert str(info.value) == DAMAGED + " Delete it and save it again."


def test_truncated_model_is_detected(store: ModelStore, root: Path) -> None:
    store.save("m", b"original bytes")
    (root / "m.joblib").write_bytes(b"orig")
    with pytest.raises(StoreError, match="damaged"):
        store.read("m")


def test_missing_model_file(store: ModelStore, root: Path) -> None:
    store.save("m", b"x")
    (root / "m.joblib").unlink()
    with pytest.raises(StoreError, match="damaged"):
        store.read("m")
    store.delete("m")  # the damaged entry can still be removed
    assert store.list() == []


def test_missing_entry(store: ModelStore) -> None:
    with pytest.raises(StoreError) as info:
        store.entry("nope")
    assert "'nope'" in str(info.value)
    assert "Pick one from the list" in str(info.value)
    with pytest.raises(StoreError, match="'nope'"):
        store.read("nope")
    with pytest.raises(StoreError, match="'nope'"):
        store.delete("nope")
    assert store.exists("nope") is False


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"name": "broken"}',
        "",
        '{"name": "other", "filename": "other.joblib", "size_bytes": 1, "sha256": "'
        + "0" * 64
        + '", "created_at": "2024-01-01T00:00:00+00:00", "metadata": {}}',
        '{"name": "broken", "filename": "broken.joblib", "size_bytes": 1, "sha256": "'
        + "0" * 64
        + '", "created_at": "yesterday", "metadata": {}}',
    ],
)
def test_broken_sidecar_is_skipped_by_list(
    store: ModelStore, root: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = store.save("good", b"x")
    (root / "broken.json").write_text(content, encoding="utf-8")
    (root / "broken.joblib").write_bytes(b"x")
    with caplog.at_level(logging.WARNING, logger="lib.store"):
        assert store.list() == [good]
    assert "broken.json" in caplog.text
    with pytest.raises(StoreError, match="damaged"):
        store.entry("broken")
    with pytest.raises(StoreError, match="damaged"):
        store.read("broken")
    store.delete("broken")
    assert _real_files(root) == {"good.joblib", "good.json"}


def test_undecodable_sidecar_is_skipped(store: ModelStore, root: Path) -> None:
    (root / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    assert store.list() == []


# -- atomicity -------------------------------------------------------------------------------


def test_no_temp_files_left_after_saves(store: ModelStore, root: Path) -> None:
    for i in range(5):
        store.save(f"m{i}", os.urandom(1000), {"i": i})
    store.save("m0", b"again", overwrite=True)
    with pytest.raises(StoreError):
        store.save("m1", b"refused")
    store.delete("m2")
    assert _temp_files(root) == []
    assert _real_files(root) == {f"m{i}.{ext}" for i in (0, 1, 3, 4) for ext in ("joblib", "json")}


@pytest.mark.parametrize("fail_on_call", [1, 2])
def test_crash_during_save_leaves_no_entry(
    store: ModelStore, root: Path, monkeypatch: pytest.MonkeyPatch, fail_on_call: int
) -> None:
    """os.replace fails after the temp files are written: for the model (1) or sidecar (2)."""
    real_replace = os.replace
    calls = {"n": 0}

    def crashing_replace(src: str | Path, dst: str | Path) -> None:
        calls["n"] += 1
        assert Path(src).exists() and Path(src).name.endswith(".tmp")  # temp was written
        if calls["n"] == fail_on_call:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(store_mod.os, "replace", crashing_replace)
    with pytest.raises(StoreError, match="Could not save the model 'm'"):
        store.save("m", b"model bytes", {"a": 1})
    assert calls["n"] == fail_on_call
    assert _real_files(root) == set()
    assert _temp_files(root) == []
    assert store.list() == []
    monkeypatch.setattr(store_mod.os, "replace", real_replace)
    store.save("m", b"model bytes")  # the name is free again
    assert store.read("m") == b"model bytes"


def test_crash_during_overwrite_keeps_old_entry(
    store: ModelStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save("m", b"old", {"v": 1})

    def crashing_replace(src: str | Path, dst: str | Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_mod.os, "replace", crashing_replace)
    with pytest.raises(StoreError):
        store.save("m", b"new", {"v": 2}, overwrite=True)
    monkeypatch.undo()
    assert store.read("m") == b"old"
    assert store.entry("m").metadata == {"v": 1}
    assert _temp_files(root) == []


def test_crash_while_writing_temp_leaves_nothing(
    store: ModelStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store_mod.os, "fsync", failing_fsync)
    with pytest.raises(StoreError, match="Input/output error"):
        store.save("m", b"x")
    monkeypatch.undo()
    assert _real_files(root) == set()
    assert _temp_files(root) == []


def test_leftover_model_without_sidecar_does_not_block_name(store: ModelStore, root: Path) -> None:
    """A hard crash between the two renames leaves an unlisted model; the name stays usable."""
    (root / "m.joblib").write_bytes(b"orphan")
    assert store.list() == []
    assert not store.exists("m")
    store.save("m", b"fresh")
    assert store.read("m") == b"fresh"


# -- concurrency -----------------------------------------------------------------------------


def _save_in_thread(
    store: ModelStore, name: str, data: bytes, barrier: threading.Barrier, results: list[str]
) -> None:
    barrier.wait()
    try:
        store.save(name, data)
        results.append("ok")
    except StoreError as error:
        results.append(f"refused: {error}")


def test_threads_saving_same_name_exactly_one_wins(root: Path) -> None:
    n = 8
    barrier = threading.Barrier(n)
    results: list[str] = []
    payloads = [f"payload {i}".encode() * 1000 for i in range(n)]
    # Each thread gets its own ModelStore, like separate Streamlit sessions.
    threads = [
        threading.Thread(
            target=_save_in_thread, args=(ModelStore(root), "same", payloads[i], barrier, results)
        )
        for i in range(n)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    assert len(results) == n
    assert all("already exists" in r for r in results if r != "ok")
    store = ModelStore(root)
    assert store.read("same") in payloads
    assert [e.name for e in store.list()] == ["same"]
    assert _temp_files(root) == []


def test_threads_saving_different_names_all_kept(root: Path) -> None:
    n = 8
    barrier = threading.Barrier(n)
    results: list[str] = []
    payloads = {f"model {i}": os.urandom(50_000) for i in range(n)}
    threads = [
        threading.Thread(
            target=_save_in_thread, args=(ModelStore(root), name, data, barrier, results)
        )
        for name, data in payloads.items()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["ok"] * n
    store = ModelStore(root)
    assert {e.name for e in store.list()} == set(payloads)
    for name, data in payloads.items():
        assert store.read(name) == data  # read() verifies the SHA-256 too
        assert store.entry(name).sha256 == hashlib.sha256(data).hexdigest()
    assert _temp_files(root) == []


def _save_in_process(root: str, index: int, barrier: object, queue: object) -> None:
    store = ModelStore(root)
    barrier.wait()  # type: ignore[attr-defined]
    try:
        store.save("same", f"process {index}".encode() * 1000, {"index": index})
        queue.put(("ok", index))  # type: ignore[attr-defined]
    except StoreError as error:
        queue.put((str(error), index))  # type: ignore[attr-defined]


def test_processes_saving_same_name_exactly_one_wins(root: Path) -> None:
    n = 4
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    barrier = ctx.Barrier(n)
    queue = ctx.Queue()
    ModelStore(root)
    procs = [
        ctx.Process(target=_save_in_process, args=(str(root), i, barrier, queue)) for i in range(n)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in range(n)]  # ceilings for a busy machine
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    winners = [index for outcome, index in results if outcome == "ok"]
    assert len(winners) == 1
    assert all("already exists" in outcome for outcome, _ in results if outcome != "ok")
    store = ModelStore(root)
    assert store.read("same") == f"process {winners[0]}".encode() * 1000
    assert store.entry("same").metadata == {"index": winners[0]}
    assert _temp_files(root) == []


def test_read_during_overwrites_never_sees_a_mix(root: Path) -> None:
    """Readers hold a shared lock, so a concurrent overwrite never looks like damage."""
    store = ModelStore(root)
    versions = [bytes([i]) * (10_000 + i) for i in range(20)]
    store.save("m", versions[0])
    errors: list[Exception] = []
    done = threading.Event()

    def reader() -> None:
        reader_store = ModelStore(root)
        while not done.is_set():
            try:
                assert reader_store.read("m") in versions
            except Exception as error:  # collected and re-checked in the main thread
                errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for data in versions[1:]:
        store.save("m", data, overwrite=True)
    done.set()
    for t in threads:
        t.join()
    assert errors == []
    assert store.read("m") == versions[-1]


def test_entry_is_frozen(store: ModelStore) -> None:
    entry = store.save("m", b"x")
    assert isinstance(entry, LibraryEntry)
    with pytest.raises(AttributeError):
        entry.name = "other"  # type: ignore[misc]


def test_default_root_honours_env_at_construction(tmp_path: Path, monkeypatch) -> None:
    repo = Path(store_mod.__file__).resolve().parent.parent
    monkeypatch.delenv("MODEL_STUDIO_LIBRARY", raising=False)
    assert store_mod.default_root() == repo / "saved_models"
    monkeypatch.setenv("MODEL_STUDIO_LIBRARY", str(tmp_path / "from-env"))
    assert ModelStore().root == tmp_path / "from-env"
    assert (tmp_path / "from-env").is_dir()
