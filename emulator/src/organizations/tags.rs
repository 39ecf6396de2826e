//! Tags on accounts, OUs and the root: TagResource, UntagResource and ListTagsForResource.

use serde::Deserialize;
use serde_json::{json, Value};

use super::accounts::log_account;
use super::common::{missing, PageRequest};
use crate::protocol::json::parse_input;
use crate::protocol::AwsError;
use crate::runtime::Runtime;
use crate::state::{LandingZone, Tags};

/// Organizations allows at most 50 tags per resource.
const MAX_TAGS: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

fn target_not_found(resource_id: &str) -> AwsError {
    AwsError::client(
        "TargetNotFoundException",
        format!("We can't find a resource with the ResourceId that you specified: {resource_id}."),
    )
}

fn tags_of<'a>(zone: &'a LandingZone, resource_id: &str) -> Option<&'a Tags> {
    if resource_id == zone.organization.root_id {
        return Some(&zone.root_tags);
    }
    if let Some(account) = zone.account(resource_id) {
        return Some(&account.tags);
    }
    zone.organizational_unit(resource_id).map(|ou| &ou.tags)
}

fn tags_of_mut<'a>(zone: &'a mut LandingZone, resource_id: &str) -> Option<&'a mut Tags> {
    if resource_id == zone.organization.root_id {
        return Some(&mut zone.root_tags);
    }
    if zone.account(resource_id).is_some() {
        return zone
            .account_mut(resource_id)
            .map(|account| &mut account.tags);
    }
    zone.organizational_unit_mut(resource_id)
        .map(|ou| &mut ou.tags)
}

pub fn tag_resource(runtime: &mut Runtime, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        resource_id: Option<String>,
        tags: Option<Vec<Tag>>,
    }
    let request: Request = parse_input(input)?;
    let resource_id = request.resource_id.ok_or_else(|| missing("ResourceId"))?;
    let tags = request.tags.ok_or_else(|| missing("Tags"))?;

    for tag in &tags {
        if tag.key.is_empty() || tag.key.chars().count() > 128 || tag.value.chars().count() > 256 {
            return Err(super::common::invalid_input(
                "MAX_LENGTH_EXCEEDED",
                format!(
                    "Tag key {:?} must be 1 to 128 characters and its value at most 256.",
                    tag.key
                ),
            ));
        }
    }

    let existing =
        tags_of(&runtime.zone, &resource_id).ok_or_else(|| target_not_found(&resource_id))?;
    let mut merged = existing.clone();
    for tag in tags {
        merged.insert(tag.key, tag.value);
    }
    if merged.len() > MAX_TAGS {
        let message = format!(
            "A resource can have at most {MAX_TAGS} tags, and this request would give {resource_id} {}.",
            merged.len()
        );
        return Err(AwsError::client("ConstraintViolationException", message)
            .with_reason("MAX_TAG_LIMIT_EXCEEDED"));
    }

    if let Some(target) = tags_of_mut(&mut runtime.zone, &resource_id) {
        *target = merged;
    }
    record_tag_change(runtime, &resource_id);
    Ok(json!({}))
}

pub fn untag_resource(runtime: &mut Runtime, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        resource_id: Option<String>,
        tag_keys: Option<Vec<String>>,
    }
    let request: Request = parse_input(input)?;
    let resource_id = request.resource_id.ok_or_else(|| missing("ResourceId"))?;
    let keys = request.tag_keys.ok_or_else(|| missing("TagKeys"))?;
    let target = tags_of_mut(&mut runtime.zone, &resource_id)
        .ok_or_else(|| target_not_found(&resource_id))?;
    for key in keys {
        target.remove(&key);
    }
    record_tag_change(runtime, &resource_id);
    Ok(json!({}))
}

pub fn list_tags_for_resource(zone: &LandingZone, input: &Value) -> Result<Value, AwsError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        resource_id: Option<String>,
        #[serde(flatten)]
        page: PageRequest,
    }
    let request: Request = parse_input(input)?;
    let resource_id = request
        .resource_id
        .clone()
        .ok_or_else(|| missing("ResourceId"))?;
    let tags = tags_of(zone, &resource_id).ok_or_else(|| target_not_found(&resource_id))?;
    let tags: Vec<Value> = tags
        .iter()
        .map(|(key, value)| json!({"Key": key, "Value": value}))
        .collect();
    let (page, next) = request.page.page(&tags)?;
    Ok(json!({"Tags": page, "NextToken": next}))
}

fn record_tag_change(runtime: &mut Runtime, resource_id: &str) {
    if runtime.zone.account(resource_id).is_some() {
        log_account(runtime, resource_id, "tagged", None);
    } else {
        runtime.mark_changed();
    }
}
