//! The organization, its root and the OU tree: DescribeOrganization, ListRoots,
//! ListOrganizationalUnitsForParent, DescribeOrganizationalUnit, ListParents and ListChildren.

use serde::Deserialize;
use serde_json::{json, Value};

use super::common::{
    self, check_parent_id, missing, organizational_unit_json, parent_not_found, PageRequest,
};
use crate::protocol::json::parse_input;
use crate::protocol::AwsError;
use crate::state::LandingZone;

pub fn describe_organization(zone: &LandingZone) -> Result<Value, AwsError> {
    let management_id = &zone.organization.management_account_id;
    let management_email = zone
        .account(management_id)
        .map(|account| account.email.clone())
        .unwrap_or_default();
    Ok(json!({
        "Organization": {
            "Id": zone.organization.id,
            "Arn": zone.organization_arn(),
            "FeatureSet": zone.organization.feature_set,
            "MasterAccountArn": zone.account_arn(management_id),
            "MasterAccountId": management_id,
            "MasterAccountEmail": management_email,
            "AvailablePolicyTypes": common::policy_types(),
        }
    }))
}

pub fn list_roots(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    let request: PageRequest = parse_input(input)?;
    let roots = vec![json!({
        "Id": zone.organization.root_id,
        "Arn": zone.root_arn(),
        "Name": zone.organization.root_name,
        "PolicyTypes": common::policy_types(),
    })];
    let (page, next) = request.page(&roots)?;
    Ok(json!({"Roots": page, "NextToken": next}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParentRequest {
    parent_id: Option<String>,
    child_type: Option<String>,
    #[serde(flatten)]
    page: PageRequest,
}

impl ParentRequest {
    /// Returns the parent id after checking its pattern and existence.
    fn existing_parent(&self, zone: &LandingZone) -> Result<String, AwsError> {
        let parent_id = self.parent_id.clone().ok_or_else(|| missing("ParentId"))?;
        check_parent_id(&parent_id)?;
        if !zone.is_parent(&parent_id) {
            return Err(parent_not_found(&parent_id));
        }
        Ok(parent_id)
    }
}

pub fn list_organizational_units_for_parent(
    zone: &LandingZone,
    input: &Value,
) -> Result<Value, AwsError> {
    let request: ParentRequest = parse_input(input)?;
    let parent_id = request.existing_parent(zone)?;
    let children: Vec<Value> = zone
        .organizational_units
        .iter()
        .filter(|ou| ou.parent_id == parent_id)
        .map(|ou| organizational_unit_json(zone, ou))
        .collect();
    let (page, next) = request.page.page(&children)?;
    Ok(json!({"OrganizationalUnits": page, "NextToken": next}))
}

pub fn describe_organizational_unit(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        organizational_unit_id: Option<String>,
    }
    let request: Request = parse_input(input)?;
    let ou_id = request
        .organizational_unit_id
        .ok_or_else(|| missing("OrganizationalUnitId"))?;
    let ou = zone.organizational_unit(&ou_id).ok_or_else(|| {
        AwsError::client(
            "OrganizationalUnitNotFoundException",
            format!(
                "We can't find an OU with the OrganizationalUnitId that you specified: {ou_id}."
            ),
        )
    })?;
    Ok(json!({"OrganizationalUnit": organizational_unit_json(zone, ou)}))
}

pub fn list_parents(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        child_id: Option<String>,
        #[serde(flatten)]
        page: PageRequest,
    }
    let request: Request = parse_input(input)?;
    let child_id = request.child_id.clone().ok_or_else(|| missing("ChildId"))?;
    let parent_id = zone
        .account(&child_id)
        .map(|account| account.parent_id.clone())
        .or_else(|| {
            zone.organizational_unit(&child_id)
                .map(|ou| ou.parent_id.clone())
        })
        .ok_or_else(|| {
            AwsError::client(
                "ChildNotFoundException",
                format!("We can't find an account or OU with the ChildId that you specified: {child_id}."),
            )
        })?;
    let parent_type = if parent_id == zone.organization.root_id {
        "ROOT"
    } else {
        "ORGANIZATIONAL_UNIT"
    };
    let parents = vec![json!({"Id": parent_id, "Type": parent_type})];
    let (page, next) = request.page.page(&parents)?;
    Ok(json!({"Parents": page, "NextToken": next}))
}

pub fn list_children(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    let request: ParentRequest = parse_input(input)?;
    let parent_id = request.existing_parent(zone)?;
    let child_type = request
        .child_type
        .as_deref()
        .ok_or_else(|| missing("ChildType"))?;
    let children: Vec<Value> = match child_type {
        "ACCOUNT" => zone
            .accounts
            .iter()
            .filter(|account| account.parent_id == parent_id)
            .map(|account| json!({"Id": account.id, "Type": "ACCOUNT"}))
            .collect(),
        "ORGANIZATIONAL_UNIT" => zone
            .organizational_units
            .iter()
            .filter(|ou| ou.parent_id == parent_id)
            .map(|ou| json!({"Id": ou.id, "Type": "ORGANIZATIONAL_UNIT"}))
            .collect(),
        other => {
            return Err(common::invalid_input(
                "INVALID_ENUM",
                format!("ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT, got {other:?}."),
            ))
        }
    };
    let (page, next) = request.page.page(&children)?;
    Ok(json!({"Children": page, "NextToken": next}))
}
