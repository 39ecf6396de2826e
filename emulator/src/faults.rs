//! Injected faults: random throttling and server errors, scripted failures of the next calls of an
//! operation, failed provisionings and tainted updates, and extra latency. Tests set them through
//! `POST /_emulator/faults`, and the request pipeline and the Account Factory operations consume them.

use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize};

use crate::state::RecordError;

/// The faults in force.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Share of requests, from 0 to 1, that get the service's throttling error.
    pub throttle_rate: f64,
    /// Share of requests that get HTTP 500.
    pub server_error_rate: f64,
    /// Share of requests that get HTTP 503.
    pub service_unavailable_rate: f64,
    /// Operations the three rates apply to. Empty means every AWS operation.
    pub rate_operations: Vec<String>,
    /// Delay added before every AWS response, in seconds.
    pub request_latency_seconds: f64,
    /// Scripted failures of the next calls of an operation.
    pub operation_failures: Vec<OperationFailure>,
    /// Record errors for the next provisionings, one per ProvisionProduct.
    pub provisioning_failures: Vec<RecordError>,
    /// Status messages for the next updates, each of which leaves its product `TAINTED`.
    pub tainted_updates: Vec<String>,
}

/// The next `remaining` calls of `operation` fail with this error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperationFailure {
    pub operation: String,
    pub remaining: u32,
    pub status: u16,
    pub code: String,
    pub message: String,
    pub reason: Option<String>,
}

/// A request-level fault chosen for one request.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestFault {
    Throttle,
    ServerError,
    ServiceUnavailable,
    Scripted(OperationFailure),
}

impl Faults {
    /// Picks the fault, if any, for one call of `operation`, consuming a scripted failure.
    pub fn take_request_fault(&mut self, operation: &str) -> Option<RequestFault> {
        if let Some(index) = self
            .operation_failures
            .iter()
            .position(|failure| failure.operation == operation && failure.remaining > 0)
        {
            let failure = &mut self.operation_failures[index];
            failure.remaining -= 1;
            let fault = RequestFault::Scripted(failure.clone());
            if failure.remaining == 0 {
                self.operation_failures.remove(index);
            }
            return Some(fault);
        }

        let applies = self.rate_operations.is_empty()
            || self.rate_operations.iter().any(|name| name == operation);
        if !applies {
            return None;
        }
        let mut rng = rand::rng();
        if self.throttle_rate > 0.0 && rng.random::<f64>() < self.throttle_rate {
            return Some(RequestFault::Throttle);
        }
        if self.server_error_rate > 0.0 && rng.random::<f64>() < self.server_error_rate {
            return Some(RequestFault::ServerError);
        }
        if self.service_unavailable_rate > 0.0
            && rng.random::<f64>() < self.service_unavailable_rate
        {
            return Some(RequestFault::ServiceUnavailable);
        }
        None
    }

    pub fn take_provisioning_failure(&mut self) -> Option<RecordError> {
        (!self.provisioning_failures.is_empty()).then(|| self.provisioning_failures.remove(0))
    }

    pub fn take_tainted_update(&mut self) -> Option<String> {
        (!self.tainted_updates.is_empty()).then(|| self.tainted_updates.remove(0))
    }
}

/// The body of `POST /_emulator/faults`. Absent fields leave their setting unchanged, and `clear`
/// removes every fault first. Scripted failures are appended to those already queued.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultUpdate {
    pub clear: bool,
    pub throttle_rate: Option<f64>,
    pub server_error_rate: Option<f64>,
    pub service_unavailable_rate: Option<f64>,
    pub rate_operations: Option<Vec<String>>,
    pub request_latency_seconds: Option<f64>,
    pub fail_operation: Option<FailOperation>,
    pub fail_next_provisioning: Option<FailProvisioning>,
    pub taint_next_update: Option<TaintUpdate>,
    /// How long each Account Factory operation takes from now on, in seconds.
    pub provision_seconds: Option<f64>,
    /// How long an account stays `PENDING_CLOSURE`, in seconds.
    pub close_seconds: Option<f64>,
    pub max_concurrent_operations: Option<usize>,
    /// Closures CloseAccount still allows. `null` removes the limit.
    #[serde(
        deserialize_with = "present_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub close_quota_remaining: Option<Option<u32>>,
}

/// Fails the next `count` calls of `operation` with the given error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailOperation {
    pub operation: String,
    #[serde(default = "one")]
    pub count: u32,
    pub code: String,
    #[serde(default = "default_failure_message")]
    pub message: String,
    #[serde(default = "default_status")]
    pub status: u16,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Fails the next `count` provisionings with a record error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailProvisioning {
    #[serde(default = "default_provisioning_code")]
    pub code: String,
    #[serde(default = "default_provisioning_message")]
    pub message: String,
    #[serde(default = "one")]
    pub count: u32,
}

/// Makes the next `count` updates fail and leave their products `TAINTED`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaintUpdate {
    #[serde(default = "default_taint_message")]
    pub message: String,
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

fn default_status() -> u16 {
    400
}

fn default_failure_message() -> String {
    "Injected failure.".to_string()
}

fn default_provisioning_code() -> String {
    "InternalFailure".to_string()
}

fn default_provisioning_message() -> String {
    "AWS Control Tower failed to create the account. Injected failure.".to_string()
}

fn default_taint_message() -> String {
    "AWS Control Tower could not baseline VPC in the managed account. The update was rolled back."
        .to_string()
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`, through `default`).
fn present_or_null<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(deserializer).map(Some)
}

impl FaultUpdate {
    /// Applies the request-level and Account Factory parts to `faults`. The settings fields
    /// (`provision_seconds` and the others) are applied by the caller, who owns them.
    pub fn apply_to(&self, faults: &mut Faults) {
        if self.clear {
            *faults = Faults::default();
        }
        if let Some(rate) = self.throttle_rate {
            faults.throttle_rate = rate;
        }
        if let Some(rate) = self.server_error_rate {
            faults.server_error_rate = rate;
        }
        if let Some(rate) = self.service_unavailable_rate {
            faults.service_unavailable_rate = rate;
        }
        if let Some(operations) = &self.rate_operations {
            faults.rate_operations = operations.clone();
        }
        if let Some(latency) = self.request_latency_seconds {
            faults.request_latency_seconds = latency;
        }
        if let Some(failure) = &self.fail_operation {
            faults.operation_failures.push(OperationFailure {
                operation: failure.operation.clone(),
                remaining: failure.count,
                status: failure.status,
                code: failure.code.clone(),
                message: failure.message.clone(),
                reason: failure.reason.clone(),
            });
        }
        if let Some(failure) = &self.fail_next_provisioning {
            for _ in 0..failure.count {
                faults
                    .provisioning_failures
                    .push(RecordError::new(&failure.code, &failure.message));
            }
        }
        if let Some(taint) = &self.taint_next_update {
            for _ in 0..taint.count {
                faults.tainted_updates.push(taint.message.clone());
            }
        }
    }

    /// Checks rates and durations before anything changes.
    pub fn validate(&self) -> Result<(), String> {
        let rates = [
            ("throttle_rate", self.throttle_rate),
            ("server_error_rate", self.server_error_rate),
            ("service_unavailable_rate", self.service_unavailable_rate),
        ];
        for (name, rate) in rates {
            if let Some(rate) = rate {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!("{name} must be between 0 and 1, got {rate}"));
                }
            }
        }
        let durations = [
            ("request_latency_seconds", self.request_latency_seconds),
            ("provision_seconds", self.provision_seconds),
            ("close_seconds", self.close_seconds),
        ];
        for (name, seconds) in durations {
            if let Some(seconds) = seconds {
                if !crate::runtime::is_valid_duration(seconds) {
                    return Err(format!(
                        "{name} must be between 0 and {} seconds, got {seconds}",
                        crate::runtime::MAX_DURATION_SECONDS
                    ));
                }
            }
        }
        if self.max_concurrent_operations == Some(0) {
            return Err("max_concurrent_operations must be at least 1".to_string());
        }
        if let Some(failure) = &self.fail_operation {
            if !(400..=599).contains(&failure.status) {
                return Err(format!(
                    "fail_operation.status must be an HTTP error status (400-599), got {}",
                    failure.status
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_failure_is_consumed() {
        let mut faults = Faults::default();
        let update: FaultUpdate = serde_json::from_value(serde_json::json!({
            "fail_operation": {"operation": "DescribeRecord", "count": 2, "code": "ThrottlingException"}
        }))
        .expect("parses");
        update.apply_to(&mut faults);
        assert!(faults.take_request_fault("DescribeAccount").is_none());
        assert!(matches!(
            faults.take_request_fault("DescribeRecord"),
            Some(RequestFault::Scripted(_))
        ));
        assert!(faults.take_request_fault("DescribeRecord").is_some());
        assert!(faults.take_request_fault("DescribeRecord").is_none());
    }

    #[test]
    fn rates_apply_only_to_listed_operations() {
        let mut faults = Faults {
            throttle_rate: 1.0,
            rate_operations: vec!["ProvisionProduct".to_string()],
            ..Faults::default()
        };
        assert_eq!(
            faults.take_request_fault("ProvisionProduct"),
            Some(RequestFault::Throttle)
        );
        assert_eq!(faults.take_request_fault("DescribeRecord"), None);
    }

    #[test]
    fn close_quota_null_differs_from_absent() {
        let absent: FaultUpdate = serde_json::from_str("{}").expect("parses");
        let null: FaultUpdate =
            serde_json::from_str(r#"{"close_quota_remaining": null}"#).expect("parses");
        let zero: FaultUpdate =
            serde_json::from_str(r#"{"close_quota_remaining": 0}"#).expect("parses");
        assert_eq!(absent.close_quota_remaining, None);
        assert_eq!(null.close_quota_remaining, Some(None));
        assert_eq!(zero.close_quota_remaining, Some(Some(0)));
    }

    #[test]
    fn validation_rejects_bad_rates() {
        let update = FaultUpdate {
            throttle_rate: Some(1.5),
            ..FaultUpdate::default()
        };
        assert!(update.validate().is_err());
    }

    #[test]
    fn validation_rejects_bad_durations() {
        for seconds in [-1.0, f64::NAN, 1e30] {
            let update = FaultUpdate {
                provision_seconds: Some(seconds),
                ..FaultUpdate::default()
            };
            assert!(update.validate().is_err(), "{seconds} accepted");
        }
    }

    #[test]
    fn provisioning_failures_queue_in_order() {
        let mut faults = Faults::default();
        FaultUpdate {
            fail_next_provisioning: Some(FailProvisioning {
                code: "InternalFailure".to_string(),
                message: "first".to_string(),
                count: 2,
            }),
            ..FaultUpdate::default()
        }
        .apply_to(&mut faults);
        assert!(faults.take_provisioning_failure().is_some());
        assert!(faults.take_provisioning_failure().is_some());
        assert!(faults.take_provisioning_failure().is_none());
    }
}
