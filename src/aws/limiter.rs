//! The provider-wide limit on Account Factory operations in flight.
//!
//! Control Tower runs at most five account operations at once by default and fails the rest,
//! so every create, update and delete in this process takes a slot first. Slots are handed
//! out first come, first served (tokio's semaphore is fair).

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// Default number of concurrent Account Factory operations, Control Tower's default quota.
pub const DEFAULT_MAX_CONCURRENT_OPERATIONS: usize = 5;

#[derive(Clone, Debug)]
pub struct Limiter {
    semaphore: Arc<Semaphore>,
    capacity: usize,
}

/// Failure to take a slot.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimiterError {
    #[error("cancelled while waiting for a free Account Factory operation slot")]
    Cancelled,
    #[error("timed out while waiting for a free Account Factory operation slot")]
    TimedOut,
}

impl Limiter {
    pub fn new(capacity: usize) -> Limiter {
        Limiter {
            semaphore: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Waits for a slot until `deadline` or cancellation. The slot is released on drop.
    pub async fn acquire(
        &self,
        cancel: &CancellationToken,
        deadline: Instant,
    ) -> Result<OwnedSemaphorePermit, LimiterError> {
        let started = Instant::now();
        let permit = tokio::select! {
            permit = self.semaphore.clone().acquire_owned() => permit,
            _ = cancel.cancelled() => return Err(LimiterError::Cancelled),
            _ = tokio::time::sleep_until(deadline.into()) => return Err(LimiterError::TimedOut),
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = permit.map_err(|_| LimiterError::Cancelled)?;
        let waited = started.elapsed();
        if waited.as_millis() > 100 {
            tracing::info!(
                waited_ms = waited.as_millis() as u64,
                capacity = self.capacity,
                "took an Account Factory operation slot after waiting"
            );
        }
        Ok(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn limiter_caps_concurrency() {
        let limiter = Limiter::new(2);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let high_water = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let limiter = limiter.clone();
            let in_flight = in_flight.clone();
            let high_water = high_water.clone();
            tasks.push(tokio::spawn(async move {
                let cancel = CancellationToken::new();
                let deadline = Instant::now() + Duration::from_secs(10);
                let _permit = limiter.acquire(&cancel, deadline).await.expect("slot");
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                high_water.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(high_water.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn limiter_wait_cancels() {
        let limiter = Limiter::new(1);
        let cancel = CancellationToken::new();
        let far = Instant::now() + Duration::from_secs(60);
        let _occupied_slot = limiter.acquire(&cancel, far).await.expect("first slot");
        let waiter_cancel = CancellationToken::new();
        waiter_cancel.cancel();
        let result = limiter.acquire(&waiter_cancel, far).await;
        assert_eq!(result.err(), Some(LimiterError::Cancelled));
    }

    #[tokio::test]
    async fn limiter_wait_times_out() {
        let limiter = Limiter::new(1);
        let cancel = CancellationToken::new();
        let _occupied_slot = limiter
            .acquire(&cancel, Instant::now() + Duration::from_secs(60))
            .await
            .expect("first slot");
        let result = limiter
            .acquire(&cancel, Instant::now() + Duration::from_millis(50))
            .await;
        assert_eq!(result.err(), Some(LimiterError::TimedOut));
    }
}
