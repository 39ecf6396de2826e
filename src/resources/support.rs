//! Helpers shared by the resources: turning lookup failures into diagnostics and resolving
//! an OU reference against the landing zone.

use std::sync::Arc;

use crate::inventory::{InventoryError, LandingZone};
use crate::plugin::{AttributePath, Diagnostics, Value};
use crate::provider::{Connection, ProviderData};
use crate::rules::{parse_ou_reference, resolve_ou, OuNode};

/// Converts a failed landing-zone lookup into an error diagnostic.
pub fn diagnostic_from_inventory(error: &InventoryError) -> Diagnostics {
    Diagnostics::single_error(
        "Reading the Control Tower landing zone failed",
        error.to_string(),
    )
}

/// Adds an error on the top-level attribute `name` when its value is a known string that
/// `check` rejects. The error's text is the rule's own message.
pub fn check_string<E: std::fmt::Display>(
    config: &Value,
    name: &str,
    summary: &str,
    check: impl Fn(&str) -> Result<(), E>,
    diagnostics: &mut Diagnostics,
) {
    if let Some(text) = config.get(name).as_str() {
        if let Err(error) = check(text) {
            diagnostics.attribute_error(AttributePath::root(name), summary, error.to_string());
        }
    }
}

/// Returns the configured connection and a landing-zone snapshot, or the diagnostics that
/// explain why there is none.
pub async fn connect(
    data: &ProviderData,
) -> Result<(Arc<Connection>, Arc<LandingZone>), Diagnostics> {
    let connection = data.connection().await?;
    let zone = connection
        .inventory
        .landing_zone()
        .await
        .map_err(|error| diagnostic_from_inventory(&error))?;
    Ok((connection, zone))
}

/// Resolves `reference` (name, path, ID or `Name (ou-id)`) to one OU registered with
/// Control Tower, adding an error on `path` when it cannot.
pub fn resolve_unit(
    zone: &LandingZone,
    reference: &str,
    path: AttributePath,
    diagnostics: &mut Diagnostics,
) -> Option<OuNode> {
    let parsed = match parse_ou_reference(reference) {
        Ok(parsed) => parsed,
        Err(error) => {
            diagnostics.attribute_error(path, "Invalid organizational unit", error.to_string());
            return None;
        }
    };
    let unit = match resolve_ou(&parsed, &zone.units) {
        Ok(unit) => unit.clone(),
        Err(error) => {
            diagnostics.attribute_error(
                path,
                "Organizational unit not resolved",
                error.to_string(),
            );
            return None;
        }
    };
    if !unit.registered {
        diagnostics.attribute_error(
            path,
            "Organizational unit not registered with Control Tower",
            format!(
                "The OU {} ({}) is not registered with AWS Control Tower, so Account Factory cannot provision into it (an OU created in the Organizations console stays invisible to Account Factory). Register it in the Control Tower console (Organization > Register OU), or choose a registered OU: {}.",
                unit.path,
                unit.id,
                zone.registered_list().join(", ")
            ),
        );
        return None;
    }
    Some(unit)
}
