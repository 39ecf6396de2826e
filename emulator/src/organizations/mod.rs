//! AWS Organizations over awsJson 1.1 (`X-Amz-Target: AWSOrganizationsV20161128.<Operation>`):
//! the organization and its OU tree, accounts with moves and closure, and tags.

pub mod accounts;
mod common;
mod tags;
mod tree;

use serde_json::Value;

use crate::context::RequestContext;
use crate::protocol::AwsError;
use crate::runtime::Runtime;

pub use accounts::finish_closure;

pub const TARGET_PREFIX: &str = "AWSOrganizationsV20161128";

/// Runs one Organizations operation.
pub fn handle(
    runtime: &mut Runtime,
    context: &RequestContext,
    operation: &str,
    input: &Value,
) -> Result<Value, AwsError> {
    common::require_management_account(&runtime.zone, context)?;
    match operation {
        "DescribeOrganization" => tree::describe_organization(&runtime.zone),
        "ListRoots" => tree::list_roots(&runtime.zone, input),
        "ListOrganizationalUnitsForParent" => {
            tree::list_organizational_units_for_parent(&runtime.zone, input)
        }
        "DescribeOrganizationalUnit" => tree::describe_organizational_unit(&runtime.zone, input),
        "ListParents" => tree::list_parents(&runtime.zone, input),
        "ListChildren" => tree::list_children(&runtime.zone, input),
        "ListAccounts" => accounts::list_accounts(&runtime.zone, input),
        "ListAccountsForParent" => accounts::list_accounts_for_parent(&runtime.zone, input),
        "DescribeAccount" => accounts::describe_account(&runtime.zone, input),
        "MoveAccount" => accounts::move_account_operation(runtime, input),
        "CloseAccount" => accounts::close_account_operation(runtime, input),
        "TagResource" => tags::tag_resource(runtime, input),
        "UntagResource" => tags::untag_resource(runtime, input),
        "ListTagsForResource" => tags::list_tags_for_resource(&runtime.zone, input),
        other => Err(common::unknown_operation(other)),
    }
}
