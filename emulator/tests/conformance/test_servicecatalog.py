"""Service Catalog operations through boto3: one success and one error case each, with
botocore validating the requests and parsing the responses."""

import datetime

import pytest
from botocore.exceptions import ClientError

from helpers import (
    PRODUCT_NAME,
    outputs,
    parameters,
    product_ids,
    provision,
    provisioned_account,
    wait_for_record,
)


def error_code(raised):
    return raised.value.response["Error"]["Code"]


def error_message(raised):
    return raised.value.response["Error"]["Message"]


def test_search_products(catalog):
    response = catalog.search_products(Filters={"FullTextSearch": ["control tower account"]})
    summaries = response["ProductViewSummaries"]
    assert [summary["Name"] for summary in summaries] == [PRODUCT_NAME]
    assert summaries[0]["ProductId"].startswith("prod-")
    assert summaries[0]["HasDefaultPath"] is True
    assert response["ResponseMetadata"]["RequestId"]


def test_search_products_without_portfolio_access_is_empty(catalog, control):
    control.console("portfolio-access", enabled=False)
    assert catalog.search_products()["ProductViewSummaries"] == []


def test_search_products_unknown_filter(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.search_products(Filters={"Colour": ["blue"]})
    assert error_code(raised) == "InvalidParametersException"


def test_search_products_as_admin(catalog):
    details = catalog.search_products_as_admin()["ProductViewDetails"]
    assert details[0]["Status"] == "AVAILABLE"
    assert details[0]["ProductARN"].startswith("arn:aws:catalog:eu-west-2:111111111111:product/prod-")
    assert isinstance(details[0]["CreatedTime"], datetime.datetime)


def test_search_products_as_admin_unknown_portfolio(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.search_products_as_admin(PortfolioId="port-doesnotexist")
    assert error_code(raised) == "ResourceNotFoundException"


def test_describe_product(catalog):
    product_id, artifact_id, path_id = product_ids(catalog)
    response = catalog.describe_product(Id=product_id)
    assert response["ProductViewSummary"]["Name"] == PRODUCT_NAME
    assert response["ProvisioningArtifacts"][0] == {
        "Id": artifact_id,
        "Name": PRODUCT_NAME,
        "Description": "AWS Control Tower Account Factory Template",
        "CreatedTime": response["ProvisioningArtifacts"][0]["CreatedTime"],
        "Guidance": "DEFAULT",
    }
    assert response["LaunchPaths"] == [
        {"Id": path_id, "Name": "AWS Control Tower Account Factory Portfolio"}
    ]


def test_describe_product_unknown_name(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.describe_product(Name="Some Other Product")
    assert error_code(raised) == "ResourceNotFoundException"


def test_describe_product_as_admin(catalog):
    response = catalog.describe_product_as_admin(Name=PRODUCT_NAME)
    assert response["ProductViewDetail"]["ProductViewSummary"]["Owner"] == "AWS Control Tower"
    assert response["ProvisioningArtifactSummaries"][0]["Id"].startswith("pa-")


def test_describe_product_as_admin_missing_product(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.describe_product_as_admin(Name="AWS Control Tower Account Factory (old)")
    assert error_code(raised) == "ResourceNotFoundException"
    assert error_message(raised) == "Product with name AWS Control Tower Account Factory (old) not found"


def test_list_launch_paths(catalog):
    product_id, _, _ = product_ids(catalog)
    paths = catalog.list_launch_paths(ProductId=product_id)["LaunchPathSummaries"]
    assert len(paths) == 1
    assert paths[0]["Id"].startswith("lpv2-")
    assert paths[0]["Name"] == "AWS Control Tower Account Factory Portfolio"
    assert paths[0]["ConstraintSummaries"] == []


def test_list_launch_paths_without_portfolio_access(catalog, control):
    product_id, _, _ = product_ids(catalog)
    control.console("portfolio-access", enabled=False)
    with pytest.raises(ClientError) as raised:
        catalog.list_launch_paths(ProductId=product_id)
    assert error_code(raised) == "ResourceNotFoundException"
    assert error_message(raised) == f"No launch paths found for resource: {product_id}"


def test_list_provisioning_artifacts(catalog):
    product_id, _, _ = product_ids(catalog)
    details = catalog.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]
    assert details[0]["Active"] is True
    assert details[0]["Guidance"] == "DEFAULT"
    assert details[0]["Type"] == "CLOUD_FORMATION_TEMPLATE"


def test_list_provisioning_artifacts_unknown_product(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.list_provisioning_artifacts(ProductId="prod-doesnotexist1")
    assert error_code(raised) == "ResourceNotFoundException"


def test_describe_provisioning_parameters(catalog, control):
    product_id, artifact_id, path_id = product_ids(catalog)
    response = catalog.describe_provisioning_parameters(
        ProductId=product_id, ProvisioningArtifactId=artifact_id, PathId=path_id
    )
    by_key = {p["ParameterKey"]: p for p in response["ProvisioningArtifactParameters"]}
    assert sorted(by_key) == [
        "AccountEmail",
        "AccountName",
        "ManagedOrganizationalUnit",
        "SSOUserEmail",
        "SSOUserFirstName",
        "SSOUserLastName",
    ]
    allowed = by_key["ManagedOrganizationalUnit"]["ParameterConstraints"]["AllowedValues"]
    assert control.ou_value("Workloads/Production") in allowed
    assert control.ou_value("kore-managed") in allowed
    assert not any(value.startswith("sandbox") for value in allowed)
    output_keys = {item["Key"] for item in response["ProvisioningArtifactOutputKeys"]}
    assert output_keys == {"AccountId", "AccountEmail", "SSOUserEmail", "SSOUserPortal"}


def test_describe_provisioning_parameters_both_product_id_and_name(catalog):
    product_id, artifact_id, _ = product_ids(catalog)
    with pytest.raises(ClientError) as raised:
        catalog.describe_provisioning_parameters(
            ProductId=product_id, ProductName=PRODUCT_NAME, ProvisioningArtifactId=artifact_id
        )
    assert error_code(raised) == "InvalidParametersException"


def test_provision_product(catalog, control):
    record = provision(
        catalog, "kore-alpha-notprod", "cloud-team+kore-alpha-notprod@example.com",
        control.ou_value("kore-managed"),
    )
    assert record["Status"] == "CREATED"
    assert record["RecordType"] == "PROVISION_PRODUCT"
    assert record["ProvisionedProductType"] == "CONTROL_TOWER_ACCOUNT"
    assert record["RecordId"].startswith("rec-")
    assert record["ProvisionedProductId"].startswith("pp-")
    assert record["RecordErrors"] == []
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - record["CreatedTime"]).total_seconds()) < 60


def test_provision_product_reused_name(catalog, control):
    provisioned_account(catalog, control, "kore-taken")
    with pytest.raises(ClientError) as raised:
        provision(catalog, "kore-taken", "cloud-team+other@example.com", control.ou_value("kore-managed"))
    assert error_code(raised) == "InvalidParametersException"
    assert error_message(raised) == "A stack named kore-taken already exists."


def test_provision_product_name_with_space(catalog, control):
    with pytest.raises(ClientError) as raised:
        provision(catalog, "kore alpha", "cloud-team+alpha@example.com", control.ou_value("kore-managed"))
    assert error_code(raised) == "ValidationException"
    assert "Member must satisfy regular expression pattern" in error_message(raised)


def test_provision_product_without_portfolio_access(catalog, control):
    product_id, artifact_id, _ = product_ids(catalog)
    control.console("portfolio-access", enabled=False)
    with pytest.raises(ClientError) as raised:
        catalog.provision_product(
            ProductId=product_id,
            ProvisioningArtifactId=artifact_id,
            ProvisionedProductName="kore-denied",
            ProvisioningParameters=parameters("kore-denied", "x+denied@example.com", "kore-managed"),
        )
    assert error_code(raised) == "ResourceNotFoundException"
    assert error_message(raised) == f"No launch paths found for resource: {product_id}"


def test_describe_record(catalog, control):
    record = provision(
        catalog, "kore-record", "cloud-team+kore-record@example.com", control.ou_value("kore-managed")
    )
    finished = wait_for_record(catalog, record["RecordId"])
    assert finished["RecordDetail"]["Status"] == "SUCCEEDED"
    values = outputs(finished)
    assert values["AccountEmail"] == "cloud-team+kore-record@example.com"
    assert values["SSOUserEmail"] == "cloud-team@example.com"
    assert values["SSOUserPortal"] == "https://d-xxxxxxxxxx.awsapps.com/start"
    assert len(values["AccountId"]) == 12
    first_page = catalog.describe_record(Id=record["RecordId"], PageSize=2)
    assert len(first_page["RecordOutputs"]) == 2
    second_page = catalog.describe_record(
        Id=record["RecordId"], PageSize=2, PageToken=first_page["NextPageToken"]
    )
    assert len(second_page["RecordOutputs"]) == 2
    assert "NextPageToken" not in second_page


def test_describe_record_failed_record_errors(catalog, control):
    record = provision(catalog, "kore-bad-ou", "cloud-team+bad-ou@example.com", "Workloads/Production")
    finished = wait_for_record(catalog, record["RecordId"])
    assert finished["RecordDetail"]["Status"] == "FAILED"
    error = finished["RecordDetail"]["RecordErrors"][0]
    assert error["Code"] == "InvalidParametersException"
    assert error["Description"].startswith("InvalidParametersException  ")
    assert error["Description"].endswith("is not enrolled in AWS Control Tower.")


def test_describe_record_unknown(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.describe_record(Id="rec-doesnotexist1")
    assert error_code(raised) == "ResourceNotFoundException"


def test_describe_provisioned_product(catalog, control):
    product_id, _ = provisioned_account(catalog, control)
    detail = catalog.describe_provisioned_product(Id=product_id)["ProvisionedProductDetail"]
    assert detail["Status"] == "AVAILABLE"
    assert detail["Type"] == "CONTROL_TOWER_ACCOUNT"
    assert detail["Arn"] == (
        f"arn:aws:servicecatalog:eu-west-2:111111111111:stack/kore-alpha-notprod/{product_id}"
    )
    assert detail["LastSuccessfulProvisioningRecordId"] == detail["LastRecordId"]
    by_name = catalog.describe_provisioned_product(Name="kore-alpha-notprod")
    assert by_name["ProvisionedProductDetail"]["Id"] == product_id


def test_describe_provisioned_product_needs_exactly_one_key(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.describe_provisioned_product(Id="pp-a", Name="b")
    assert error_code(raised) == "InvalidParametersException"


def test_describe_provisioned_product_unknown(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.describe_provisioned_product(Id="pp-doesnotexist1")
    assert error_code(raised) == "ResourceNotFoundException"


def test_search_provisioned_products(catalog, control):
    first_product, first_account = provisioned_account(catalog, control, "kore-a")
    provisioned_account(catalog, control, "kore-b")
    response = catalog.search_provisioned_products(
        Filters={"SearchQuery": [f"physicalId:{first_account}", "type:CONTROL_TOWER_ACCOUNT"]}
    )
    assert response["TotalResultsCount"] == 1
    found = response["ProvisionedProducts"][0]
    assert found["Id"] == first_product
    assert found["PhysicalId"] == first_account
    assert found["ProductName"] == PRODUCT_NAME

    by_status = catalog.search_provisioned_products(
        Filters={"SearchQuery": ["status:AVAILABLE"]}, SortBy="name", SortOrder="DESCENDING"
    )
    assert [p["Name"] for p in by_status["ProvisionedProducts"]] == ["kore-b", "kore-a"]

    page = catalog.search_provisioned_products(PageSize=1)
    assert len(page["ProvisionedProducts"]) == 1
    assert page["TotalResultsCount"] == 2
    rest = catalog.search_provisioned_products(PageSize=1, PageToken=page["NextPageToken"])
    assert rest["ProvisionedProducts"][0]["Id"] != page["ProvisionedProducts"][0]["Id"]

    by_name = catalog.search_provisioned_products(Filters={"SearchQuery": ['name:"kore-b"']})
    assert [p["Name"] for p in by_name["ProvisionedProducts"]] == ["kore-b"]


def test_search_provisioned_products_unknown_field(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.search_provisioned_products(Filters={"SearchQuery": ["colour:blue"]})
    assert error_code(raised) == "InvalidParametersException"


def test_scan_provisioned_products(catalog, control):
    product_id, _ = provisioned_account(catalog, control)
    response = catalog.scan_provisioned_products(AccessLevelFilter={"Key": "Account", "Value": "self"})
    assert [p["Id"] for p in response["ProvisionedProducts"]] == [product_id]


def test_scan_provisioned_products_bad_access_level(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.scan_provisioned_products(AccessLevelFilter={"Key": "Account", "Value": "everyone"})
    assert error_code(raised) == "InvalidParametersException"


def test_get_provisioned_product_outputs(catalog, control):
    product_id, account_id = provisioned_account(catalog, control)
    response = catalog.get_provisioned_product_outputs(
        ProvisionedProductId=product_id, OutputKeys=["AccountId"]
    )
    assert response["Outputs"] == [
        {"OutputKey": "AccountId", "OutputValue": account_id, "Description": "The ID of the managed account"}
    ]
    by_name = catalog.get_provisioned_product_outputs(ProvisionedProductName="kore-alpha-notprod")
    assert len(by_name["Outputs"]) == 4


def test_get_provisioned_product_outputs_unknown(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.get_provisioned_product_outputs(ProvisionedProductName="kore-nothing")
    assert error_code(raised) == "ResourceNotFoundException"


def test_update_provisioned_product(catalog, control, organizations):
    product_id, account_id = provisioned_account(catalog, control)
    staging = control.ou_value("Workloads/Staging")
    record = catalog.update_provisioned_product(
        ProvisionedProductId=product_id,
        ProvisioningParameters=[
            {"Key": "AccountName", "Value": "kore-alpha-dev"},
            {"Key": "ManagedOrganizationalUnit", "Value": staging},
            {"Key": "AccountEmail", "UsePreviousValue": True},
        ],
    )["RecordDetail"]
    assert record["RecordType"] == "UPDATE_PROVISIONED_PRODUCT"
    assert catalog.describe_provisioned_product(Id=product_id)["ProvisionedProductDetail"]["Status"] == "UNDER_CHANGE"
    finished = wait_for_record(catalog, record["RecordId"])
    assert finished["RecordDetail"]["Status"] == "SUCCEEDED"
    assert organizations.describe_account(AccountId=account_id)["Account"]["Name"] == "kore-alpha-dev"
    parents = organizations.list_parents(ChildId=account_id)["Parents"]
    assert parents == [{"Id": control.ou_id("Workloads/Staging"), "Type": "ORGANIZATIONAL_UNIT"}]


def test_update_provisioned_product_unknown_parameter(catalog, control):
    product_id, _ = provisioned_account(catalog, control)
    with pytest.raises(ClientError) as raised:
        catalog.update_provisioned_product(
            ProvisionedProductId=product_id,
            ProvisioningParameters=[{"Key": "Region", "Value": "eu-west-1"}],
        )
    assert error_code(raised) == "InvalidParametersException"


def test_update_provisioned_product_unknown_product(catalog):
    with pytest.raises(ClientError) as raised:
        catalog.update_provisioned_product(ProvisionedProductName="kore-nothing")
    assert error_code(raised) == "ResourceNotFoundException"


def test_update_into_unregistered_ou_taints(catalog, control):
    product_id, _ = provisioned_account(catalog, control)
    record = catalog.update_provisioned_product(
        ProvisionedProductId=product_id,
        ProvisioningParameters=[{"Key": "ManagedOrganizationalUnit", "Value": control.ou_value("sandbox")}],
    )["RecordDetail"]
    assert wait_for_record(catalog, record["RecordId"])["RecordDetail"]["Status"] == "FAILED"
    detail = catalog.describe_provisioned_product(Id=product_id)["ProvisionedProductDetail"]
    assert detail["Status"] == "TAINTED"
    assert "is not enrolled in AWS Control Tower" in detail["StatusMessage"]


def test_terminate_provisioned_product(catalog, control, organizations):
    product_id, account_id = provisioned_account(catalog, control)
    record = catalog.terminate_provisioned_product(ProvisionedProductId=product_id)["RecordDetail"]
    assert record["RecordType"] == "TERMINATE_PROVISIONED_PRODUCT"
    assert wait_for_record(catalog, record["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    account = organizations.describe_account(AccountId=account_id)["Account"]
    assert account["State"] == "ACTIVE"
    assert organizations.list_parents(ChildId=account_id)["Parents"] == [{"Id": "r-xxxx", "Type": "ROOT"}]
    with pytest.raises(ClientError) as raised:
        catalog.describe_provisioned_product(Id=product_id)
    assert error_code(raised) == "ResourceNotFoundException"


def test_terminate_provisioned_product_twice(catalog, control):
    product_id, _ = provisioned_account(catalog, control)
    record = catalog.terminate_provisioned_product(ProvisionedProductId=product_id)["RecordDetail"]
    wait_for_record(catalog, record["RecordId"])
    with pytest.raises(ClientError) as raised:
        catalog.terminate_provisioned_product(ProvisionedProductId=product_id)
    assert error_code(raised) == "ResourceNotFoundException"


def test_terminate_errored_product_needs_ignore_errors(catalog, control):
    record = provision(catalog, "kore-broken", "AWS-Audit@example.com", control.ou_value("kore-managed"))
    finished = wait_for_record(catalog, record["RecordId"])
    assert finished["RecordDetail"]["Status"] == "FAILED"
    product_id = record["ProvisionedProductId"]
    assert catalog.describe_provisioned_product(Id=product_id)["ProvisionedProductDetail"]["Status"] == "ERROR"

    refused = catalog.terminate_provisioned_product(ProvisionedProductId=product_id)["RecordDetail"]
    assert wait_for_record(catalog, refused["RecordId"])["RecordDetail"]["Status"] == "FAILED"
    accepted = catalog.terminate_provisioned_product(
        ProvisionedProductId=product_id, IgnoreErrors=True
    )["RecordDetail"]
    assert wait_for_record(catalog, accepted["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"


def test_concurrency_limit_fails_the_record(catalog, control):
    control.faults(max_concurrent_operations=1, provision_seconds=1.0)
    ou = control.ou_value("kore-managed")
    first = provision(catalog, "kore-one", "cloud-team+one@example.com", ou)
    second = provision(catalog, "kore-two", "cloud-team+two@example.com", ou)
    assert wait_for_record(catalog, first["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    failed = wait_for_record(catalog, second["RecordId"])["RecordDetail"]
    assert failed["Status"] == "FAILED"
    assert failed["RecordErrors"][0]["Code"] == "ResourceInUseException"
    assert "another AWS Control Tower operation is in progress" in failed["RecordErrors"][0]["Description"]
    counters = control.counters()
    assert counters["max_operations_in_flight"] == 1
    assert counters["operations_rejected_for_concurrency"] == 1
