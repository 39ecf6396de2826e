//! Telemetry that tests read back: per-operation call counters, the high-water mark of Account Factory
//! operations in flight, and an ordered event log of requests, record transitions, account changes
//! and control actions.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::state::{RecordStatus, RecordType};
use crate::timestamp::Timestamp;

/// The event log keeps at most this many events and drops the oldest beyond it, so a long
/// benchmark cannot grow memory without bound. Sequence numbers keep counting.
const MAX_EVENTS: usize = 100_000;

#[derive(Debug, Default)]
pub struct Telemetry {
    calls: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    max_operations_in_flight: usize,
    rejected_for_concurrency: u64,
    events: VecDeque<Event>,
    next_sequence: u64,
}

/// The body of `GET /_emulator/counters`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests per operation name, successful or not.
    pub calls: BTreeMap<String, u64>,
    /// Requests per operation name that ended in an error.
    pub errors: BTreeMap<String, u64>,
    /// Account Factory operations (provision, update, terminate) running now.
    pub operations_in_flight: usize,
    /// The maximum number of operations running at the same time since the last reset.
    pub max_operations_in_flight: usize,
    /// The configured limit of concurrent operations.
    pub max_concurrent_operations: usize,
    /// Records failed because the limit was reached when they were requested.
    pub operations_rejected_for_concurrency: u64,
}

/// One entry of the event log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Increases by one per event, starting at 1 after each reset.
    pub sequence: u64,
    pub time: Timestamp,
    #[serde(flatten)]
    pub detail: EventDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventDetail {
    /// An AWS API request and its outcome.
    Request {
        service: String,
        operation: String,
        request_id: String,
        status: u16,
        error_code: Option<String>,
        /// Identifiers from the request and response, such as `AccountId` or `RecordId`.
        ids: BTreeMap<String, String>,
    },
    /// A record changed status.
    Record {
        record_id: String,
        record_type: RecordType,
        status: RecordStatus,
        provisioned_product_id: String,
        provisioned_product_name: String,
        account_id: Option<String>,
        error: Option<String>,
    },
    /// An Organizations account changed: `created`, `moved`, `renamed`, `closure_requested`,
    /// `suspended`, `tagged` or `removed`.
    Account {
        account_id: String,
        change: String,
        detail: Option<String>,
    },
    /// A control endpoint changed the emulator.
    Control {
        action: String,
        detail: serde_json::Value,
    },
}

impl Telemetry {
    pub fn count_call(&mut self, operation: &str, failed: bool) {
        *self.calls.entry(operation.to_string()).or_default() += 1;
        if failed {
            *self.errors.entry(operation.to_string()).or_default() += 1;
        }
    }

    /// Raises the high-water mark of operations in flight.
    pub fn observe_operations_in_flight(&mut self, in_flight: usize) {
        self.max_operations_in_flight = self.max_operations_in_flight.max(in_flight);
    }

    pub fn count_rejection_for_concurrency(&mut self) {
        self.rejected_for_concurrency += 1;
    }

    pub fn record(&mut self, time: Timestamp, detail: EventDetail) {
        self.next_sequence += 1;
        self.events.push_back(Event {
            sequence: self.next_sequence,
            time,
            detail,
        });
        if self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
    }

    pub fn counters(
        &self,
        operations_in_flight: usize,
        max_concurrent_operations: usize,
    ) -> Counters {
        Counters {
            calls: self.calls.clone(),
            errors: self.errors.clone(),
            operations_in_flight,
            max_operations_in_flight: self.max_operations_in_flight,
            max_concurrent_operations,
            operations_rejected_for_concurrency: self.rejected_for_concurrency,
        }
    }

    /// Events with a sequence number above `after`, oldest first.
    pub fn events_after(&self, after: u64) -> Vec<Event> {
        self.events
            .iter()
            .filter(|event| event.sequence > after)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_calls_and_errors() {
        let mut telemetry = Telemetry::default();
        telemetry.count_call("DescribeRecord", false);
        telemetry.count_call("DescribeRecord", true);
        let counters = telemetry.counters(0, 5);
        assert_eq!(counters.calls["DescribeRecord"], 2);
        assert_eq!(counters.errors["DescribeRecord"], 1);
    }

    #[test]
    fn events_are_numbered_and_filtered() {
        let mut telemetry = Telemetry::default();
        for action in ["a", "b", "c"] {
            telemetry.record(
                Timestamp::from_epoch_seconds(1.0),
                EventDetail::Control {
                    action: action.to_string(),
                    detail: serde_json::Value::Null,
                },
            );
        }
        let later = telemetry.events_after(1);
        assert_eq!(later.len(), 2);
        assert_eq!(later[0].sequence, 2);
    }

    #[test]
    fn event_json_is_flat_with_kind() {
        let event = Event {
            sequence: 7,
            time: Timestamp::from_epoch_seconds(2.0),
            detail: EventDetail::Account {
                account_id: "123456789012".to_string(),
                change: "moved".to_string(),
                detail: None,
            },
        };
        let json = serde_json::to_value(&event).expect("serializes");
        assert_eq!(json["kind"], "account");
        assert_eq!(json["sequence"], 7);
        let back: Event = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, event);
    }

    #[test]
    fn high_water_mark_only_rises() {
        let mut telemetry = Telemetry::default();
        telemetry.observe_operations_in_flight(3);
        telemetry.observe_operations_in_flight(1);
        assert_eq!(telemetry.counters(1, 5).max_operations_in_flight, 3);
    }
}
