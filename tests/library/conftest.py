"""Fixtures for the library tests: every test runs on a local folder and on moto's S3 server.

The S3 side is a real S3 API (``moto.server.ThreadedMotoServer``, HTTP on a free port), one
server per test session and a fresh bucket per test; nothing is mocked inside the process.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server for the session; AWS_* variables point every client (and every child
    process started by a test) at it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**AWS_ENV, "AWS_ENDPOINT_URL": endpoint}.items():
            patch.setenv(key, value)
        yield endpoint
    server.stop()


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
    bucket = f"library-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
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
