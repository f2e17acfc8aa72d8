"""Shared bytes and their collection: damage named across versions, the grace period, orphans
and a delete racing a save of identical bytes. Each test runs on a local folder and on S3."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace

import pytest

from lib.errors import DamagedModelError
from lib.library import Library, open_library
from lib.library._records import encode_record, object_key, record_key
from lib.library._storage import Storage
from tests.library.conftest import RawStore

X, Y, Z = b"model X " * 20, b"model Y " * 20, b"model Z " * 20


def key_of(data: bytes) -> str:
    return object_key(hashlib.sha256(data).hexdigest())


def wait_until_older(storage: Storage, key: str, seconds: float) -> None:
    """Wait until the store says ``key`` was last written over ``seconds`` ago (S3 gives whole
    seconds, so this waits on the store's own figure, as the collection does)."""
    deadline = time.monotonic() + 60
    while time.time() - storage.modified(key) <= seconds:
        assert time.monotonic() < deadline, f"{key} never got {seconds} s old"
        time.sleep(0.05)


@pytest.fixture
def library(library_url: str) -> Library:
    return open_library(library_url)  # the default grace period: 10 minutes


# -- versions sharing damaged bytes ----------------------------------------------------------


def test_damage_to_shared_bytes_names_every_version_using_them(
    library: Library, raw: RawStore
) -> None:
    for data in (X, Y, X, X):
        library.save("churn", data)
    raw.put(key_of(X), b"not the model")

    with pytest.raises(DamagedModelError) as error:
        library.read("churn", 4)
    assert str(error.value) == (
        "Version 4 of the saved model 'churn' is damaged: its contents no longer match its "
        "checksum. Versions 1 and 3 share this file and are damaged too (identical models are "
        "stored once): delete versions 1, 3 and 4, then save the model again."
    )
    with pytest.raises(DamagedModelError, match="Versions 3 and 4 share this file"):
        library.read("churn", 1)
    assert library.read("churn", 2) == Y


def test_one_other_version_sharing_missing_bytes_is_named(library: Library, raw: RawStore) -> None:
    library.save("churn", X)
    library.save("churn", X)
    library.save("other", X)  # another name: not listed in the message (one name is read)
    raw.delete(key_of(X))

    with pytest.raises(DamagedModelError) as error:
        library.read("churn", 2)
    message = str(error.value)
    assert "its model file is missing from the library" in message
    assert "Version 1 shares this file and is damaged too" in message
    assert "delete versions 1 and 2, then save the model again" in message


def test_saving_the_same_model_again_repairs_every_version_sharing_it(
    library: Library, raw: RawStore
) -> None:
    library.save("churn", X)
    raw.delete(key_of(X))
    with pytest.raises(DamagedModelError):
        library.read("churn", 1)

    library.save("churn", X)  # a save always puts its bytes, even when they seem stored
    assert library.read("churn", 1) == library.read("churn", 2) == X


# -- collection of unreferenced bytes --------------------------------------------------------


def test_fresh_unreferenced_bytes_survive_a_delete(library: Library, raw: RawStore) -> None:
    library.save("churn", X)
    library.save("churn", Y)
    library.storage.put(key_of(Z), Z)  # a save in flight, its record not created yet
    library.delete_version("churn", 2)

    assert {key_of(X), key_of(Y), key_of(Z)} <= set(raw.listing())
    assert library.read("churn") == X


def test_trashed_bytes_stay_and_purged_ones_go_after_the_grace(
    library_url: str, raw: RawStore
) -> None:
    library = open_library(library_url, grace=1)
    library.save("churn", X)
    library.save("churn", Y)
    wait_until_older(library.storage, key_of(Y), 1)
    library.delete_version("churn", 2)  # to the trash: restorable, so its bytes stay

    assert {key_of(X), key_of(Y)} <= set(raw.listing())
    library.save("other", Z)
    wait_until_older(library.storage, key_of(Z), 1)
    library.delete_version("other", 1)  # a collection runs at every delete: Y survives it
    assert key_of(Y) in raw.listing()
    library.restore_version("churn", 2)
    assert library.read("churn", 2) == Y

    library.delete_version("churn", 2)
    assert library.purge_expired(0) == 2
    objects = [key for key in raw.listing() if key.startswith("objects/")]
    assert objects == [key_of(X)]  # as old, but still used by version 1
    assert library.read("churn") == X


def test_orphan_bytes_older_than_the_grace_are_collected(library_url: str, raw: RawStore) -> None:
    library = open_library(library_url, grace=1)
    library.save("keep", X)
    library.save("gone", Y)
    library.storage.put(key_of(Z), Z)  # as a save that stopped before creating its record
    raw.put("objects/notes.txt", b"not ours")
    for data in (X, Y, Z):
        wait_until_older(library.storage, key_of(data), 1)
    library.delete_name("gone")

    objects = {key for key in raw.listing() if key.startswith("objects/")}
    assert objects == {key_of(X), key_of(Y), "objects/notes.txt"}  # orphan Z went at the
    # delete; "gone" is in the trash and a stray file stays
    library.purge_expired(0)
    objects = {key for key in raw.listing() if key.startswith("objects/")}
    assert objects == {key_of(X), "objects/notes.txt"}
    assert library.read("keep") == X


def test_a_delete_racing_a_save_of_identical_bytes_keeps_them(
    library_url: str, raw: RawStore
) -> None:
    # 3 s: S3 times are whole seconds, so bytes just put may already look 1 s old.
    library = open_library(library_url, grace=3)
    first = library.save("churn", X)
    wait_until_older(library.storage, key_of(X), 3)  # old: a delete alone would collect them

    library.storage.put(key_of(X), X)  # 1. a second save of X puts its bytes...
    library.delete_version("churn", 1)  # 2. ...the version using them is deleted and
    assert library.purge_expired(0) == 1  # purged (collecting unreferenced bytes)...
    second = replace(first, version=2)
    assert library.storage.create(record_key("churn", 2), encode_record(second))  # 3. record

    assert library.read("churn", 2) == X
    assert key_of(X) in raw.listing()


def test_without_grace_a_save_puts_back_bytes_collected_under_it(
    library_url: str, raw: RawStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The save's own check after creating its record: with ``grace=0`` a delete between the
    put and the record collects the bytes, and the save puts them back."""
    saver, deleter = open_library(library_url, grace=0), open_library(library_url, grace=0)
    saver.save("churn", X)
    real_create = saver.storage.create

    def delete_then_create(key: str, data: bytes) -> bool:
        if key == record_key("churn", 2):
            deleter.delete_version("churn", 1)
            deleter.purge_expired(0)  # collects X: no record refers to it now
            assert key_of(X) not in raw.listing()
        return real_create(key, data)

    monkeypatch.setattr(saver.storage, "create", delete_then_create)
    assert saver.save("churn", X).version == 2
    assert saver.read("churn", 2) == X
