"""One moto S3 server for the tests that need a real S3 API (tests/library, tests/e2e).

``moto.server.ThreadedMotoServer`` serves the S3 HTTP API on a free local port; nothing is
mocked inside any process. The conftests of both folders import ``s3_endpoint`` from here, so
there is one implementation of starting it and of the AWS settings that point clients at it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def aws_env(endpoint: str) -> dict[str, str]:
    """The AWS_* variables that point s3fs and boto3 (in any process) at ``endpoint``."""
    return {**AWS_ENV, "AWS_ENDPOINT_URL": endpoint}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server for the session (its ``http://host:port``); AWS_* variables point every
    client (and every child process started by a test) at it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        with pytest.MonkeyPatch.context() as patch:
            for key, value in aws_env(endpoint).items():
                patch.setenv(key, value)
            yield endpoint
    finally:
        server.stop()


def new_bucket(prefix: str = "library") -> str:
    """Create an empty bucket with a fresh name on the server ``s3_endpoint`` started."""
    bucket = f"{prefix}-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return bucket
