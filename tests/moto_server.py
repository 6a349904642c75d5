"""An S3-compatible server on loopback (moto's server mode), started and stopped by the test that needs it."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

BUCKET = "evosearch-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(env_extra: dict | None = None):
    """(process, endpoint) of a fresh moto server; the caller stops it."""
    port = free_port()
    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto server did not start")
            time.sleep(0.1)
    return proc, endpoint


def aws_env(endpoint: str) -> dict[str, str]:
    """The environment lance reads for an S3-compatible endpoint (docs/teams.md)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }


def make_bucket(endpoint: str, name: str = BUCKET) -> None:
    req = urllib.request.Request(f"{endpoint}/{name}", method="PUT")
    urllib.request.urlopen(req, timeout=10)


@pytest.fixture
def s3(monkeypatch):
    """An empty bucket on a loopback moto server, with lance's AWS_* environment pointing at it."""
    pytest.importorskip("moto")
    proc, endpoint = start_moto()
    try:
        for k, v in aws_env(endpoint).items():
            monkeypatch.setenv(k, v)
        make_bucket(endpoint)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)
