"""Starts the emulator binary once per session on a free loopback port and resets it before
each test. EMULATOR_BIN overrides the binary path (default target/debug/account-factory-emulator
under the repository root)."""

import os
import pathlib
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config

from helpers import Control

REPOSITORY = pathlib.Path(__file__).resolve().parents[3]
REGION = "eu-west-2"

# No test may read the host's AWS configuration or reach AWS.
for variable in list(os.environ):
    if variable.startswith("AWS_ENDPOINT_URL") or variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        del os.environ[variable]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "NO_PROXY": "127.0.0.1,localhost",
    }
)


@pytest.fixture(scope="session")
def base_url():
    binary = os.environ.get(
        "EMULATOR_BIN", str(REPOSITORY / "target" / "debug" / "account-factory-emulator")
    )
    if not os.path.exists(binary):
        pytest.fail(
            f"emulator binary {binary} not found; run `cargo build -p account-factory-emulator` "
            "or set EMULATOR_BIN"
        )
    process = subprocess.Popen(
        [
            binary,
            "--listen",
            "127.0.0.1:0",
            "--provision-seconds",
            "0.2",
            "--close-seconds",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline().strip()
    prefix = "account-factory-emulator listening on "
    if not line.startswith(prefix):
        process.kill()
        pytest.fail(f"emulator did not start; first output line: {line!r}")
    try:
        yield line[len(prefix):]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            print("emulator did not stop within 10 s and was killed", file=sys.stderr)


@pytest.fixture(scope="session")
def control(base_url):
    return Control(base_url)


@pytest.fixture(autouse=True)
def fresh_landing_zone(control):
    control.reset()


def client(base_url, service, **extra):
    return boto3.client(
        service,
        endpoint_url=base_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **extra),
    )


@pytest.fixture
def catalog(base_url):
    return client(base_url, "servicecatalog")


@pytest.fixture
def organizations(base_url):
    return client(base_url, "organizations")


@pytest.fixture
def sts(base_url):
    return client(base_url, "sts")


@pytest.fixture
def account(base_url):
    return client(base_url, "account")
