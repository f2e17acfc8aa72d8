"""Tests for lib/library: every test runs twice, on a local folder and on moto's S3 server."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lib.errors import StoreError
from lib.library import Library, open_library, open_storage
from lib.library._records import MAX_RECORD_BYTES, name_key, object_key, record_key
from lib.store import ModelStore
from tests.library.conftest import RawStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def library(library_url: str) -> Library:
    return open_library(library_url)


def library_keys(raw: RawStore) -> list[str]:
    """Every key in the store but the audit log's."""
    return [key for key in raw.listing() if not key.startswith("audit/")]


# -- save, list, read, delete ----------------------------------------------------------------


def test_save_list_read_round_trip(library: Library, raw: RawStore) -> None:
    data = b"\x80\x04fake model bytes\x00\xff" * 100
    record = library.save(
        "  house prices ", data, {"task": "regression", "r2": np.float64(0.5)}, saved_by="ana"
    )

    assert (record.name, record.version, record.size_bytes) == ("house prices", 1, len(data))
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert record.saved_by == "ana"
    assert record.metadata == {"task": "regression", "r2": 0.5}
    assert library.read("house prices") == data
    [summary] = library.names()
    assert (summary.name, summary.latest_version, summary.count) == ("house prices", 1, 1)
    assert library.versions("house prices") == [record]
    # Bytes under their hash, the record under the name's key, the save's audit event.
    assert len([k for k in raw.listing() if k.startswith("audit/")]) == 1
    assert library_keys(raw) == [object_key(record.sha256), record_key("house prices", 1)]
    stored = json.loads(raw.get(record_key("house prices", 1)))
    assert stored["name"] == "house prices" and stored["metadata"]["r2"] == 0.5


def test_a_real_model_and_its_metadata_round_trip(library: Library) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from lib.display import store_metadata
    from lib.model_info import describe_model
    from lib.persistence import dump_model
    from lib.safe_load import load_model

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    data = dump_model(model)
    metadata = store_metadata(describe_model(model))
    library.save("iris", data, metadata)

    record = library.record("iris")
    assert record.metadata == json.loads(json.dumps(metadata))
    loaded = load_model(library.read("iris"), sandbox=False).model
    assert (loaded.predict(X) == model.predict(X)).all()


def test_saving_a_name_again_adds_the_next_version(library: Library) -> None:
    for i in range(1, 4):
        assert library.save("churn", f"model {i}".encode()).version == i

    assert [r.version for r in library.versions("churn")] == [1, 2, 3]
    assert library.read("churn") == b"model 3"
    assert library.read("churn", 1) == b"model 1"
    assert library.record("churn").version == 3
    [summary] = library.names()
    assert (summary.latest_version, summary.count, summary.latest.version) == (3, 3, 3)


def test_identical_bytes_are_stored_once_and_shared(library: Library, raw: RawStore) -> None:
    library.save("a", b"same bytes")
    library.save("b", b"same bytes")
    library.delete_name("a")

    assert library.read("b") == b"same bytes"  # still there: "b" refers to the same object
    assert [k for k in raw.listing() if k.startswith("objects/")] == [
        object_key(hashlib.sha256(b"same bytes").hexdigest())
    ]


def test_names_are_listed_case_blind_and_unicode_and_spaces_work(library: Library) -> None:
    names = ["Zürich Häuser", "model", "Model", "a b  c", "東京 価格 v2", "x" * 100]
    for i, name in enumerate(names):
        library.save(name, f"bytes {i}".encode())

    listed = [s.name for s in library.names()]
    assert sorted(listed) == sorted(names)
    assert listed.index("Model") < listed.index("Zürich Häuser")
    for i, name in enumerate(names):
        assert library.read(name) == f"bytes {i}".encode()  # "model" and "Model" stay apart


def test_bad_names_and_empty_models_are_refused_with_a_reason(library: Library) -> None:
    with pytest.raises(StoreError, match="slash"):
        library.save("../escape", b"x")
    with pytest.raises(StoreError, match="type a name"):
        library.save("   ", b"x")
    with pytest.raises(StoreError, match="empty"):
        library.save("fine", b"")
    with pytest.raises(StoreError, match="at most 200"):
        library.save("fine", b"x", saved_by="p" * 201)
    assert library.names() == []


def test_missing_names_and_versions_say_what_exists(library: Library) -> None:
    library.save("churn", b"one")
    library.save("churn", b"two")

    with pytest.raises(StoreError, match="no saved model named 'other'"):
        library.read("other")
    with pytest.raises(StoreError, match=r"no version 7\. Its versions are 1, 2"):
        library.read("churn", 7)
    with pytest.raises(StoreError, match="no saved model named 'other'"):
        library.delete_name("other")


def test_delete_version_keeps_the_others_and_never_reuses_its_number(
    library: Library, raw: RawStore
) -> None:
    library.grace = 0  # bytes go at once (the grace period has its own tests below)
    library.save("churn", b"one")
    second = library.save("churn", b"two")
    library.delete_version("churn", 2)
    library.purge_expired(0)  # for good (a delete only moves it to the trash)

    assert [r.version for r in library.versions("churn")] == [1]
    assert library.read("churn") == b"one"
    assert object_key(second.sha256) not in raw.listing()  # its bytes went with it
    assert library.save("churn", b"three").version == 3
    with pytest.raises(StoreError, match="no version 2"):
        library.read("churn", 2)


def test_delete_name_removes_every_version_and_its_bytes(library: Library, raw: RawStore) -> None:
    library.grace = 0
    library.save("churn", b"one")
    library.save("churn", b"two")
    library.save("keep", b"kept")
    assert library.delete_name("churn") == 0
    assert library.purge_expired(0) == 2

    assert [s.name for s in library.names()] == ["keep"]
    assert library.versions("churn") == []
    assert library_keys(raw) == [
        object_key(hashlib.sha256(b"kept").hexdigest()),
        record_key("keep", 1),
        record_key("churn", 1, "deleted"),  # purge markers: the numbers stay taken
        record_key("churn", 2, "deleted"),
    ]
    assert library.save("churn", b"again").version == 3


# -- damage ----------------------------------------------------------------------------------


def test_damaged_object_is_reported_and_hides_nothing_else(
    library: Library, raw: RawStore, caplog: pytest.LogCaptureFixture
) -> None:
    first = library.save("churn", b"good one")
    library.save("churn", b"good two")
    library.save("other", b"other")
    raw.put(object_key(first.sha256), b"good onX")  # same size, different bytes

    with caplog.at_level(logging.WARNING), pytest.raises(StoreError) as error:
        library.read("churn", 1)
    assert "Version 1 of the saved model 'churn' is damaged" in str(error.value)
    assert "Delete this version and save the model again" in str(error.value)
    assert "Checksum mismatch" in caplog.text
    assert library.read("churn", 2) == b"good two"
    assert library.read("other") == b"other"
    assert [s.count for s in library.names()] == [2, 1]


def test_missing_object_is_reported_as_damaged(library: Library, raw: RawStore) -> None:
    record = library.save("churn", b"bytes")
    raw.delete(object_key(record.sha256))

    with pytest.raises(StoreError, match="model file is missing from the library"):
        library.read("churn")
    assert [s.name for s in library.names()] == ["churn"]  # listed, so it can be deleted
    library.delete_version("churn", 1)
    assert library.names() == []


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        json.dumps({"format": 1, "name": "churn", "version": 2}).encode(),
        json.dumps(
            {
                "format": 1,
                "name": "someone else",
                "version": 2,
                "sha256": "0" * 64,
                "size_bytes": 1,
                "created_at": "2024-01-01T00:00:00+00:00",
                "saved_by": None,
                "metadata": {},
            }
        ).encode(),
        b"{" + b" " * MAX_RECORD_BYTES + b"}",
    ],
    ids=["bad-json", "not-utf8", "not-object", "missing-fields", "name-mismatch", "too-big"],
)
def test_damaged_record_is_skipped_and_reported(
    library: Library, raw: RawStore, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    library.save("churn", b"one")
    library.save("other", b"other")
    raw.put(record_key("churn", 2), content)
    library.save("churn", b"three")  # the damaged record's number is not reused

    with caplog.at_level(logging.WARNING):
        assert [r.version for r in library.versions("churn")] == [1, 3]
        assert [(s.name, s.latest_version) for s in library.names()] == [("churn", 3), ("other", 1)]
    assert "Skipping unreadable model library record" in caplog.text
    [problem] = library.problems()
    assert problem.key == record_key("churn", 2) and problem.reason
    assert library.read("churn") == b"three"


def test_a_damaged_newest_record_falls_back_to_the_version_before(
    library: Library, raw: RawStore
) -> None:
    library.save("churn", b"one")
    library.save("churn", b"two")
    library.save("other", b"other")
    raw.put(record_key("churn", 2), b"{oops")

    assert [(s.name, s.latest_version, s.count) for s in library.names()] == [
        ("churn", 1, 1),
        ("other", 1, 1),
    ]
    assert library.read("churn") == b"one"
    assert [p.key for p in library.problems()] == [record_key("churn", 2)]
    assert library.save("churn", b"three").version == 3


def test_stray_keys_in_the_library_are_ignored(library: Library, raw: RawStore) -> None:
    library.save("churn", b"one")
    raw.put("records/README.txt", b"hello")
    raw.put(f"records/{name_key('churn')}/notes.txt", b"hello")

    assert [s.name for s in library.names()] == ["churn"]
    assert library.problems() == []
    assert library.save("churn", b"two").version == 2


# -- the old one-file-per-name library -------------------------------------------------------


def _legacy_entries(tmp_path: Path, raw: RawStore, entries: dict[str, bytes]) -> ModelStore:
    """Save ``entries`` with the old ModelStore, then copy its files into the store."""
    old = ModelStore(tmp_path / "old")
    for name, data in entries.items():
        old.save(name, data, {"task": "classification"})
    for path in (tmp_path / "old").iterdir():
        if not path.name.startswith("."):
            raw.put(path.name, path.read_bytes())
    return old


def test_old_library_is_read_in_place_as_version_1(
    library: Library, raw: RawStore, tmp_path: Path
) -> None:
    _legacy_entries(tmp_path, raw, {"iris": b"old iris", "Zürich": b"old z"})
    before = raw.listing()

    assert [(s.name, s.latest_version, s.count) for s in library.names()] == [
        ("iris", 1, 1),
        ("Zürich", 1, 1),
    ]
    [record] = library.versions("iris")
    assert record.legacy and record.metadata == {"task": "classification"}
    assert library.read("iris") == b"old iris"
    assert library.read("Zürich", 1) == b"old z"
    assert raw.listing() == before  # reading migrated nothing
    assert library.problems() == []


def test_mixed_old_and_new_library(library: Library, raw: RawStore, tmp_path: Path) -> None:
    _legacy_entries(tmp_path, raw, {"iris": b"old iris", "wine": b"old wine"})
    assert library.save("iris", b"new iris").version == 2
    library.save("fresh", b"fresh")

    assert [(s.name, s.count) for s in library.names()] == [
        ("fresh", 1),
        ("iris", 2),
        ("wine", 1),
    ]
    assert library.read("iris", 1) == b"old iris"
    assert library.read("iris") == b"new iris"

    raw.put("iris.joblib", b"old irix")  # damage the old file: its checksum catches it
    with pytest.raises(StoreError, match="Version 1 of the saved model 'iris' is damaged"):
        library.read("iris", 1)

    library.delete_version("iris", 1)
    assert [r.version for r in library.versions("iris")] == [2]
    library.restore_version("iris", 1)
    assert [r.version for r in library.versions("iris")] == [1, 2]  # an old entry restores
    library.delete_version("iris", 1)
    assert library.purge_expired(0) == 1
    assert "iris.json" not in raw.listing() and "iris.joblib" not in raw.listing()
    assert [r.version for r in library.versions("iris")] == [2]
    library.delete_name("wine")
    assert [s.name for s in library.names()] == ["fresh", "iris"]


def test_an_old_entry_written_after_version_1_exists_is_reported_not_shown(
    library: Library, raw: RawStore, tmp_path: Path
) -> None:
    library.save("iris", b"new iris")
    _legacy_entries(tmp_path, raw, {"iris": b"old iris"})  # the old app saved it later

    assert [(s.name, s.count) for s in library.names()] == [("iris", 1)]
    assert library.read("iris", 1) == b"new iris"
    assert [p.key for p in library.problems()] == ["iris.json"]
    assert library.save("iris", b"newer").version == 2


def test_damaged_old_sidecar_is_reported(library: Library, raw: RawStore, tmp_path: Path) -> None:
    _legacy_entries(tmp_path, raw, {"iris": b"old iris"})
    raw.put("broken.json", b"{oops")

    assert [s.name for s in library.names()] == ["iris"]
    assert [p.key for p in library.problems()] == ["broken.json"]


# -- the storage layer -----------------------------------------------------------------------


def test_create_is_exclusive_and_keeps_the_first(library_url: str) -> None:
    storage = open_storage(library_url)
    assert storage.create("records/x/00000001.json", b"first")
    assert not storage.create("records/x/00000001.json", b"second")

    assert storage.read("records/x/00000001.json") == b"first"
    assert storage.list("records") == ["records/x/00000001.json"]
    assert storage.list("", recursive=False) == []
    with pytest.raises(FileNotFoundError):
        storage.read("records/x/00000002.json")
    storage.delete("records/x/00000001.json")
    storage.delete("records/x/00000001.json")  # already gone: fine
    assert storage.list() == []


def test_unsupported_protocols_are_refused_in_plain_words() -> None:
    with pytest.raises(StoreError, match=r"'ftp://'.*create-only-if-absent.*s3://"):
        open_storage("ftp://example.org/models")
    with pytest.raises(StoreError, match="no bucket name"):
        open_storage("s3://")


def test_default_location_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_STUDIO_LIBRARY", str(tmp_path / "env-lib"))
    open_library().save("a", b"x")
    assert (tmp_path / "env-lib" / record_key("a", 1)).is_file()
    assert open_storage(f"file://{tmp_path / 'env-lib'}").list("records") == [record_key("a", 1)]


def test_the_environment_variable_takes_a_folder_or_an_s3_url(
    library_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_STUDIO_LIBRARY", library_url)
    open_library().save("from env", b"x")
    assert open_library(library_url).read("from env") == b"x"


def test_an_unwritable_local_library_gives_a_plain_message(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(StoreError, match=r"Could not write to the model library at .*a-file"):
        open_library(str(tmp_path / "a-file" / "lib")).save("m", b"x")


@pytest.mark.usefixtures("s3_endpoint")
def test_a_missing_bucket_gives_a_plain_message() -> None:
    library = open_library("s3://no-such-bucket-here/models")
    assert library.names() == []
    with pytest.raises(StoreError, match="no bucket named 'no-such-bucket-here'"):
        library.save("m", b"x")


def test_an_unreachable_s3_library_gives_a_plain_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(StoreError, match=r"Could not .* the model library at s3://nowhere"):
        open_library("s3://nowhere/models").save("m", b"x")


# -- concurrency -----------------------------------------------------------------------------


def test_concurrent_saves_from_two_processes_all_become_versions(
    library_url: str, tmp_path: Path
) -> None:
    """2 processes x 25 saves of one name at once: 50 distinct versions 1..50, none lost."""
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    savers = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_race_saver.py")), library_url,
             "shared name", "25", tag, str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
        )
        for tag in ("alpha", "beta")
    ]  # fmt: skip
    go.touch()
    outputs = [saver.communicate(timeout=300) for saver in savers]
    for saver, (_, err) in zip(savers, outputs, strict=True):
        assert saver.returncode == 0, err
    saved = dict(line.split() for out, _ in outputs for line in out.splitlines())

    library = open_library(library_url)
    versions = library.versions("shared name")
    assert [r.version for r in versions] == list(range(1, 51))
    assert sorted(int(v) for v in saved) == list(range(1, 51))
    for record in versions:
        assert library.read("shared name", record.version).hex() == saved[str(record.version)]
    assert {r.saved_by for r in versions} == {"alpha", "beta"}
