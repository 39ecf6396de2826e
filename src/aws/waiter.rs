//! Waits for a Service Catalog record to finish, polling DescribeRecord with a growing
//! interval and ending early on cancellation (StopProvider) or at the deadline.

use std::time::{Duration, Instant};

use aws_sdk_servicecatalog::Client;
use tokio_util::sync::CancellationToken;

use super::account_factory::{self, Record, RecordStatus};
use super::AwsError;

/// First poll interval. Account Factory takes minutes, so polling faster buys nothing.
pub const INITIAL_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Maximum poll interval.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, thiserror::Error)]
pub enum WaitError {
    #[error("stopped while waiting for record {record_id}: Terraform asked the provider to stop; the operation goes on in AWS and the next apply resumes waiting for it")]
    Cancelled { record_id: String },
    #[error("timed out waiting for record {record_id} (last status {last_status}); the operation goes on in AWS and the next apply resumes waiting for it, or raise the timeout in the timeouts block")]
    TimedOut {
        record_id: String,
        last_status: String,
    },
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// Returns the next poll interval: 1.5 times the last, at most [`MAX_POLL_INTERVAL`].
pub fn next_interval(current: Duration) -> Duration {
    (current * 3 / 2).min(MAX_POLL_INTERVAL)
}

/// Polls record `record_id` until it reaches a final status and returns it with its
/// outputs. Each status change is logged at INFO.
pub async fn wait_for_record(
    client: &Client,
    record_id: &str,
    cancel: &CancellationToken,
    deadline: Instant,
) -> Result<Record, WaitError> {
    let mut interval = INITIAL_POLL_INTERVAL;
    let mut last_status: Option<RecordStatus> = None;
    loop {
        let record = account_factory::describe_record(client, record_id).await?;
        if last_status.as_ref() != Some(&record.status) {
            tracing::info!(
                record_id,
                provisioned_product_id = %record.provisioned_product_id,
                record_type = %record.record_type,
                status = record.status.as_str(),
                "Account Factory record status changed"
            );
            last_status = Some(record.status.clone());
        }
        if record.status.is_final() {
            return Ok(record);
        }

        let now = Instant::now();
        if now >= deadline {
            return Err(WaitError::TimedOut {
                record_id: record_id.to_string(),
                last_status: record.status.as_str().to_string(),
            });
        }
        let sleep_for = interval.min(deadline - now);
        tracing::debug!(
            record_id,
            sleep_ms = sleep_for.as_millis() as u64,
            "waiting for record"
        );
        tokio::select! {
            _ = tokio::time::sleep(sleep_for) => {}
            _ = cancel.cancelled() => {
                return Err(WaitError::Cancelled { record_id: record_id.to_string() });
            }
        }
        interval = next_interval(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_grows_to_cap() {
        let cases = [
            (Duration::from_secs(1), Duration::from_millis(1500)),
            (Duration::from_secs(2), Duration::from_secs(3)),
            (Duration::from_secs(20), Duration::from_secs(30)),
            (Duration::from_secs(30), Duration::from_secs(30)),
        ];
        for (current, expected) in cases {
            assert_eq!(next_interval(current), expected, "after {current:?}");
        }
    }
}
