"""Organizations operations through boto3: one success and one error case each."""

import datetime
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers import provisioned_account

MANAGEMENT = "111111111111"
LOG_ARCHIVE = "222222222222"
AUDIT = "333333333333"


def error_code(raised):
    return raised.value.response["Error"]["Code"]


def member_client(base_url, sts, service):
    """A client signed with credentials of a role in the log-archive member account."""
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{LOG_ARCHIVE}:role/AWSControlTowerExecution",
        RoleSessionName="conformance",
    )["Credentials"]
    return boto3.client(
        service,
        endpoint_url=base_url,
        region_name="eu-west-2",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def test_describe_organization(organizations):
    organization = organizations.describe_organization()["Organization"]
    assert organization["Id"] == "o-xxxxxxxxxx"
    assert organization["MasterAccountId"] == MANAGEMENT
    assert organization["MasterAccountEmail"] == "aws-management@example.com"
    assert organization["FeatureSet"] == "ALL"


def test_describe_organization_from_member_account(base_url, sts):
    member = member_client(base_url, sts, "organizations")
    with pytest.raises(ClientError) as raised:
        member.describe_organization()
    assert error_code(raised) == "AccessDeniedException"


def test_list_roots(organizations):
    roots = organizations.list_roots()["Roots"]
    assert roots == [
        {
            "Id": "r-xxxx",
            "Arn": "arn:aws:organizations::111111111111:root/o-xxxxxxxxxx/r-xxxx",
            "Name": "Root",
            "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
        }
    ]


def test_list_roots_page_size_above_limit(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.list_roots(MaxResults=21)
    assert error_code(raised) == "InvalidInputException"
    assert raised.value.response["Reason"] == "MAX_VALUE_EXCEEDED"


def test_list_organizational_units_for_parent(organizations, control):
    paginator = organizations.get_paginator("list_organizational_units_for_parent")
    pages = list(paginator.paginate(ParentId="r-xxxx", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    names = [ou["Name"] for page in pages for ou in page["OrganizationalUnits"]]
    assert names == ["Security", "kore-managed", "Production", "Workloads", "sandbox"]
    nested = organizations.list_organizational_units_for_parent(ParentId=control.ou_id("Workloads"))
    assert [ou["Name"] for ou in nested["OrganizationalUnits"]] == ["Production", "Staging"]
    assert nested["OrganizationalUnits"][0]["Path"].startswith("o-xxxxxxxxxx/r-xxxx/")


def test_list_organizational_units_for_unknown_parent(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.list_organizational_units_for_parent(ParentId="ou-xxxx-00000000")
    assert error_code(raised) == "ParentNotFoundException"


def test_describe_organizational_unit(organizations, control):
    ou_id = control.ou_id("kore-managed")
    ou = organizations.describe_organizational_unit(OrganizationalUnitId=ou_id)["OrganizationalUnit"]
    assert ou["Name"] == "kore-managed"
    assert ou["Arn"] == f"arn:aws:organizations::111111111111:ou/o-xxxxxxxxxx/{ou_id}"


def test_describe_unknown_organizational_unit(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.describe_organizational_unit(OrganizationalUnitId="ou-xxxx-00000000")
    assert error_code(raised) == "OrganizationalUnitNotFoundException"


def test_list_parents(organizations, control):
    assert organizations.list_parents(ChildId=AUDIT)["Parents"] == [
        {"Id": control.ou_id("Security"), "Type": "ORGANIZATIONAL_UNIT"}
    ]
    assert organizations.list_parents(ChildId=control.ou_id("Security"))["Parents"] == [
        {"Id": "r-xxxx", "Type": "ROOT"}
    ]


def test_list_parents_unknown_child(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.list_parents(ChildId="999999999999")
    assert error_code(raised) == "ChildNotFoundException"


def test_list_children(organizations, control):
    accounts = organizations.list_children(ParentId=control.ou_id("Security"), ChildType="ACCOUNT")
    assert sorted(child["Id"] for child in accounts["Children"]) == [LOG_ARCHIVE, AUDIT]
    ous = organizations.list_children(ParentId=control.ou_id("Workloads"), ChildType="ORGANIZATIONAL_UNIT")
    assert [child["Type"] for child in ous["Children"]] == ["ORGANIZATIONAL_UNIT"] * 2


def test_list_children_bad_child_type(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.list_children(ParentId="r-xxxx", ChildType="POLICY")
    assert error_code(raised) == "InvalidInputException"


def test_list_accounts(organizations):
    paginator = organizations.get_paginator("list_accounts")
    accounts = [a for page in paginator.paginate(PaginationConfig={"PageSize": 1}) for a in page["Accounts"]]
    assert [a["Id"] for a in accounts] == [MANAGEMENT, LOG_ARCHIVE, AUDIT]
    audit = accounts[2]
    assert audit["Email"] == "aws-audit@example.com"
    assert audit["Status"] == "ACTIVE"
    assert audit["State"] == "ACTIVE"
    assert audit["JoinedMethod"] == "CREATED"
    assert isinstance(audit["JoinedTimestamp"], datetime.datetime)
    assert audit["Arn"] == f"arn:aws:organizations::111111111111:account/o-xxxxxxxxxx/{AUDIT}"


def test_list_accounts_bad_token(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.list_accounts(NextToken="forged")
    assert error_code(raised) == "InvalidInputException"
    assert raised.value.response["Reason"] == "INVALID_NEXT_TOKEN"


def test_list_accounts_for_parent(organizations, control, catalog):
    _, account_id = provisioned_account(catalog, control)
    accounts = organizations.list_accounts_for_parent(ParentId=control.ou_id("kore-managed"))["Accounts"]
    assert [a["Id"] for a in accounts] == [account_id]
    assert accounts[0]["Name"] == "kore-alpha-notprod"


def test_list_accounts_for_unknown_parent(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.list_accounts_for_parent(ParentId="ou-xxxx-00000000")
    assert error_code(raised) == "ParentNotFoundException"


def test_describe_account(organizations):
    account = organizations.describe_account(AccountId=AUDIT)["Account"]
    assert account["Name"] == "Audit"
    assert account["Paths"][0].endswith(f"/{AUDIT}/")


def test_describe_unknown_account(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.describe_account(AccountId="999999999999")
    assert error_code(raised) == "AccountNotFoundException"


def test_move_account(organizations, control):
    security = control.ou_id("Security")
    sandbox = control.ou_id("sandbox")
    organizations.move_account(AccountId=AUDIT, SourceParentId=security, DestinationParentId=sandbox)
    assert organizations.list_parents(ChildId=AUDIT)["Parents"][0]["Id"] == sandbox


def test_move_account_to_unknown_destination(organizations, control):
    with pytest.raises(ClientError) as raised:
        organizations.move_account(
            AccountId=AUDIT, SourceParentId=control.ou_id("Security"), DestinationParentId="ou-xxxx-00000000"
        )
    assert error_code(raised) == "DestinationParentNotFoundException"


def test_close_account(organizations):
    organizations.close_account(AccountId=AUDIT)
    assert organizations.describe_account(AccountId=AUDIT)["Account"]["State"] == "PENDING_CLOSURE"
    deadline = time.monotonic() + 5
    while organizations.describe_account(AccountId=AUDIT)["Account"]["State"] != "SUSPENDED":
        assert time.monotonic() < deadline, "closure did not finish"
        time.sleep(0.05)
    assert organizations.describe_account(AccountId=AUDIT)["Account"]["Status"] == "SUSPENDED"


def test_close_account_already_closed(organizations):
    organizations.close_account(AccountId=AUDIT)
    with pytest.raises(ClientError) as raised:
        organizations.close_account(AccountId=AUDIT)
    assert error_code(raised) == "AccountAlreadyClosedException"


def test_close_account_quota_exceeded(organizations, control):
    control.faults(close_quota_remaining=0)
    with pytest.raises(ClientError) as raised:
        organizations.close_account(AccountId=AUDIT)
    assert error_code(raised) == "ConstraintViolationException"
    assert raised.value.response["Reason"] == "CLOSE_ACCOUNT_QUOTA_EXCEEDED"
    assert organizations.describe_account(AccountId=AUDIT)["Account"]["State"] == "ACTIVE"


def test_tag_resource(organizations, control):
    ou_id = control.ou_id("kore-managed")
    organizations.tag_resource(ResourceId=ou_id, Tags=[{"Key": "owner", "Value": "platform"}])
    organizations.tag_resource(ResourceId="r-xxxx", Tags=[{"Key": "scope", "Value": "all"}])
    assert organizations.list_tags_for_resource(ResourceId=ou_id)["Tags"] == [
        {"Key": "owner", "Value": "platform"}
    ]
    assert organizations.list_tags_for_resource(ResourceId="r-xxxx")["Tags"] == [
        {"Key": "scope", "Value": "all"}
    ]


def test_tag_resource_unknown_target(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.tag_resource(ResourceId="999999999999", Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(raised) == "TargetNotFoundException"


def test_tag_resource_too_many_tags(organizations):
    tags = [{"Key": f"key-{index}", "Value": "v"} for index in range(51)]
    with pytest.raises(ClientError) as raised:
        organizations.tag_resource(ResourceId=AUDIT, Tags=tags)
    assert error_code(raised) == "ConstraintViolationException"
    assert raised.value.response["Reason"] == "MAX_TAG_LIMIT_EXCEEDED"


def test_untag_resource(organizations):
    organizations.tag_resource(ResourceId=AUDIT, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    organizations.untag_resource(ResourceId=AUDIT, TagKeys=["a"])
    assert organizations.list_tags_for_resource(ResourceId=AUDIT)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_untag_resource_unknown_target(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.untag_resource(ResourceId="ou-xxxx-00000000", TagKeys=["a"])
    assert error_code(raised) == "TargetNotFoundException"


def test_list_tags_for_resource(organizations, control):
    control.console("tag-account", account_id=LOG_ARCHIVE, tags={"team": "security"})
    assert organizations.list_tags_for_resource(ResourceId=LOG_ARCHIVE)["Tags"] == [
        {"Key": "team", "Value": "security"}
    ]


def test_list_tags_for_resource_unknown_target(organizations):
    with pytest.raises(ClientError) as raised:
        organizations.list_tags_for_resource(ResourceId="r-zzzz")
    assert error_code(raised) == "TargetNotFoundException"


def test_throttling_is_reported(organizations, control):
    control.faults(throttle_rate=1.0, rate_operations=["ListAccounts"])
    with pytest.raises(ClientError) as raised:
        organizations.list_accounts()
    assert error_code(raised) == "TooManyRequestsException"
    assert organizations.list_roots()["Roots"]
