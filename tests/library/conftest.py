"""Fixtures for the library tests: every test runs on a local folder and on moto's S3 server.

The S3 side is a real S3 API (``tests.s3_server``: ``moto.server.ThreadedMotoServer``, HTTP on
a free port), one server per test session and a fresh bucket per test; nothing is mocked inside
the process.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from tests.s3_server import new_bucket, s3_endpoint

__all__ = ["s3_endpoint"]  # the session's moto server, a fixture shared with tests/e2e


class RawStore:
    """Direct access to the store's objects, bypassing the library (to damage things)."""

    def __init__(self, url: str, root: Path | None, bucket: str | None, prefix: str) -> None:
        self.url, self.root, self.bucket, self.prefix = url, root, bucket, prefix

    def put(self, key: str, data: bytes) -> None:
        if self.root is not None:
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        else:
            boto3.client("s3").put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}", Body=data)

    def get(self, key: str) -> bytes:
        if self.root is not None:
            return (self.root / key).read_bytes()
        got = boto3.client("s3").get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")
        return bytes(got["Body"].read())

    def delete(self, key: str) -> None:
        if self.root is not None:
            (self.root / key).unlink()
        else:
            boto3.client("s3").delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")

    def listing(self) -> list[str]:
        if self.root is not None:
            return sorted(
                p.relative_to(self.root).as_posix()
                for p in self.root.rglob("*")
                if p.is_file() and not p.name.startswith(".")
            )
        pages = boto3.client("s3").get_paginator("list_objects_v2")
        return sorted(
            item["Key"][len(self.prefix) + 1 :]
            for page in pages.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/")
            for item in page.get("Contents", [])
        )


@pytest.fixture(params=["local", "s3"])
def raw(request: pytest.FixtureRequest, tmp_path: Path) -> RawStore:
    """A fresh, empty library location: a folder, or a new bucket on the moto server."""
    if request.param == "local":
        root = tmp_path / "library"
        return RawStore(str(root), root, None, "")
    request.getfixturevalue("s3_endpoint")
    bucket = new_bucket()
    return RawStore(f"s3://{bucket}/models", None, bucket, "models")


@pytest.fixture
def library_url(raw: RawStore) -> str:
    return raw.url


# Over 20 s on the S3 server (each save is several HTTP calls); the local variant takes ~1 s.
SLOW_ON_S3 = {"test_concurrent_saves_from_two_processes_all_become_versions"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the S3 variant of the slow tests ``slow`` (the local one stays in test-fast)."""
    for item in items:
        if item.name.split("[")[0] in SLOW_ON_S3 and item.name.endswith("[s3]"):
            item.add_marker(pytest.mark.slow)
