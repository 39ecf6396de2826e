"""Print what the demo made, for people: the accounts as a table, and the emulator's record
of each account's termination and closure.

    demo_report.py accounts < terraform-output.json
    demo_report.py lifecycle EMULATOR_URL [AFTER_SEQUENCE]
"""

import json
import sys
import urllib.request


def print_table(rows: list[dict], columns: list[str]) -> None:
    """Print rows as a plain-text table with one column per key in columns."""
    widths = {c: max([len(c)] + [len(str(r.get(c) or "")) for r in rows]) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c) or "").ljust(widths[c]) for c in columns))


def accounts() -> None:
    """Read `terraform output -json accounts` on stdin and print it as a table."""
    rows = json.load(sys.stdin)
    if not rows:
        print("no accounts")
        return
    print_table(rows, ["name", "account_id", "team", "email", "state", "organizational_unit_path"])


def lifecycle(url: str, after: int) -> None:
    """Print, per account, the termination and closure events the emulator recorded."""
    with urllib.request.urlopen(f"{url}/_emulator/log?after={after}", timeout=10) as response:
        events = json.load(response)
    rows = []
    for event in events:
        final = event.get("status") in ("SUCCEEDED", "FAILED", "IN_PROGRESS_IN_ERROR")
        if event.get("kind") == "record" and event.get("record_type") == "TERMINATE_PROVISIONED_PRODUCT" and final:
            rows.append({
                "sequence": event["sequence"],
                "account_id": event.get("account_id"),
                "event": f"product {event['provisioned_product_id']} terminated: {event['status']}",
            })
        elif event.get("kind") == "account" and event.get("change") in ("moved", "closure_requested", "suspended"):
            detail = f" ({event['detail']})" if event.get("detail") else ""
            rows.append({
                "sequence": event["sequence"],
                "account_id": event["account_id"],
                "event": f"account {event['change']}{detail}",
            })
    if not rows:
        print("the emulator recorded no termination or closure")
        return
    with urllib.request.urlopen(f"{url}/_emulator/state", timeout=10) as response:
        state = json.load(response)
    names = {a["id"]: a["name"] for a in state["accounts"]}
    for row in rows:
        row["name"] = names.get(row["account_id"], "")
    print_table(rows, ["sequence", "name", "account_id", "event"])

    print()
    print("Accounts afterwards:")
    touched = {row["account_id"] for row in rows}
    root = state["organization"]["root_id"]
    summary = [
        {
            "name": a["name"],
            "account_id": a["id"],
            "state": a["state"],
            "where": "organization root" if a["parent_id"] == root else a["parent_id"],
        }
        for a in state["accounts"]
        if a["id"] in touched
    ]
    print_table(summary, ["name", "account_id", "state", "where"])


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "accounts":
        accounts()
    elif len(sys.argv) >= 3 and sys.argv[1] == "lifecycle":
        lifecycle(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
