"""Helpers for the conformance suite: the control endpoints and Account Factory shortcuts."""

import json
import time
import urllib.request

SSO_EMAIL = "cloud-team@example.com"
PRODUCT_NAME = "AWS Control Tower Account Factory"


class Control:
    """Calls the emulator's /_emulator/ endpoints."""

    def __init__(self, base_url):
        self.base_url = base_url

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_emulator{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def reset(self):
        return self._call("POST", "/reset", None)

    def faults(self, **update):
        return self._call("POST", "/faults", update)

    def state(self):
        return self._call("GET", "/state")

    def counters(self):
        return self._call("GET", "/counters")

    def console(self, action, **body):
        return self._call("POST", f"/console/{action}", body)

    def ou_id(self, path):
        """Returns the id of the OU at a path such as Workloads/Production."""
        state = self.state()
        by_id = {ou["id"]: ou for ou in state["organizational_units"]}

        def path_of(ou):
            names = [ou["name"]]
            while ou["parent_id"] in by_id:
                ou = by_id[ou["parent_id"]]
                names.append(ou["name"])
            return "/".join(reversed(names))

        for ou in state["organizational_units"]:
            if path_of(ou) == path:
                return ou["id"]
        raise AssertionError(f"no OU at {path}")

    def ou_value(self, path):
        """Returns the `Name (ou-id)` value of the OU at `path`."""
        return f"{path.rsplit('/', 1)[-1]} ({self.ou_id(path)})"


def parameters(name, email, ou):
    values = {
        "AccountName": name,
        "AccountEmail": email,
        "SSOUserEmail": SSO_EMAIL,
        "SSOUserFirstName": "Cloud",
        "SSOUserLastName": "Team",
        "ManagedOrganizationalUnit": ou,
    }
    return [{"Key": key, "Value": value} for key, value in values.items()]


def product_ids(catalog):
    """Returns the product, artifact and launch path ids as a client discovers them."""
    product = catalog.search_products(Filters={"FullTextSearch": [PRODUCT_NAME]})[
        "ProductViewSummaries"
    ][0]
    artifact = catalog.list_provisioning_artifacts(ProductId=product["ProductId"])[
        "ProvisioningArtifactDetails"
    ][0]
    path = catalog.list_launch_paths(ProductId=product["ProductId"])["LaunchPathSummaries"][0]
    return product["ProductId"], artifact["Id"], path["Id"]


def provision(catalog, name, email, ou):
    """Starts ProvisionProduct and returns its RecordDetail."""
    product_id, artifact_id, path_id = product_ids(catalog)
    return catalog.provision_product(
        ProductId=product_id,
        ProvisioningArtifactId=artifact_id,
        PathId=path_id,
        ProvisionedProductName=name,
        ProvisioningParameters=parameters(name, email, ou),
    )["RecordDetail"]


def wait_for_record(catalog, record_id, timeout=10.0):
    """Polls DescribeRecord until the record finishes and returns the last response."""
    deadline = time.monotonic() + timeout
    while True:
        response = catalog.describe_record(Id=record_id)
        if response["RecordDetail"]["Status"] in ("SUCCEEDED", "FAILED"):
            return response
        assert time.monotonic() < deadline, f"record {record_id} did not finish"
        time.sleep(0.05)


def outputs(record_response):
    return {item["OutputKey"]: item["OutputValue"] for item in record_response["RecordOutputs"]}


def provisioned_account(catalog, control, name="kore-alpha-notprod"):
    """Provisions an account in kore-managed and returns (product id, account id)."""
    record = provision(catalog, name, f"cloud-team+{name}@example.com", control.ou_value("kore-managed"))
    finished = wait_for_record(catalog, record["RecordId"])
    assert finished["RecordDetail"]["Status"] == "SUCCEEDED", finished["RecordDetail"]
    return record["ProvisionedProductId"], outputs(finished)["AccountId"]
