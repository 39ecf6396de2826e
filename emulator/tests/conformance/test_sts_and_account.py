"""STS (awsQuery) and Account Management (restJson1) operations through boto3: one success and
one error case each."""

import datetime

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

AUDIT = "333333333333"


def error_code(raised):
    return raised.value.response["Error"]["Code"]


def test_get_caller_identity(sts):
    identity = sts.get_caller_identity()
    assert identity["Account"] == "111111111111"
    assert identity["Arn"] == "arn:aws:iam::111111111111:role/AWSControlTowerAdmin"
    assert identity["UserId"]
    assert identity["ResponseMetadata"]["RequestId"]


def test_get_caller_identity_unsigned(base_url):
    unsigned = boto3.client(
        "sts",
        endpoint_url=base_url,
        region_name="eu-west-2",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1, "mode": "standard"}),
    )
    with pytest.raises(ClientError) as raised:
        unsigned.get_caller_identity()
    assert error_code(raised) == "MissingAuthenticationToken"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_assume_role(sts, base_url):
    response = sts.assume_role(
        RoleArn=f"arn:aws:iam::{AUDIT}:role/AWSControlTowerExecution",
        RoleSessionName="conformance",
        DurationSeconds=900,
    )
    credentials = response["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert isinstance(credentials["Expiration"], datetime.datetime)
    remaining = credentials["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert 800 < remaining.total_seconds() <= 900
    assert response["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{AUDIT}:assumed-role/AWSControlTowerExecution/conformance"
    )
    assumed = boto3.client(
        "sts",
        endpoint_url=base_url,
        region_name="eu-west-2",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    assert assumed.get_caller_identity()["Account"] == AUDIT


def test_assume_role_outside_organization(sts):
    with pytest.raises(ClientError) as raised:
        sts.assume_role(RoleArn="arn:aws:iam::999999999999:role/Outsider", RoleSessionName="conformance")
    assert error_code(raised) == "AccessDenied"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_assume_role_bad_session_name(sts):
    with pytest.raises(ClientError) as raised:
        sts.assume_role(RoleArn=f"arn:aws:iam::{AUDIT}:role/Admin", RoleSessionName="has space")
    assert error_code(raised) == "ValidationError"


def test_put_account_name(account, organizations):
    account.put_account_name(AccountId=AUDIT, AccountName="Audit (renamed)")
    assert organizations.describe_account(AccountId=AUDIT)["Account"]["Name"] == "Audit (renamed)"


def test_put_account_name_too_long(account):
    with pytest.raises(ClientError) as raised:
        account.put_account_name(AccountId=AUDIT, AccountName="x" * 51)
    assert error_code(raised) == "ValidationException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_get_account_information(account):
    information = account.get_account_information(AccountId=AUDIT)
    assert information["AccountId"] == AUDIT
    assert information["AccountName"] == "Audit"
    assert information["AccountState"] == "ACTIVE"
    assert isinstance(information["AccountCreatedDate"], datetime.datetime)
    own = account.get_account_information()
    assert own["AccountId"] == "111111111111"


def test_get_account_information_outside_organization(account):
    with pytest.raises(ClientError) as raised:
        account.get_account_information(AccountId="999999999999")
    assert error_code(raised) == "AccessDeniedException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
