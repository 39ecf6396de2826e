//! Wall-clock timestamps in the two forms the AWS protocols carry: epoch seconds (JSON numbers in
//! awsJson responses) and ISO-8601 strings (STS XML and the Account Management API).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A point in time as seconds since the Unix epoch, kept to millisecond precision.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(f64);

impl Timestamp {
    /// Reads the system clock.
    pub fn now() -> Self {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs_f64())
            // A clock set before 1970 is broken, and the epoch keeps the output well formed.
            .unwrap_or(0.0);
        Self::from_epoch_seconds(seconds)
    }

    /// Builds a timestamp from epoch seconds, rounded to milliseconds.
    pub fn from_epoch_seconds(seconds: f64) -> Self {
        Self((seconds * 1000.0).round() / 1000.0)
    }

    pub fn epoch_seconds(self) -> f64 {
        self.0
    }

    pub fn plus_seconds(self, seconds: f64) -> Self {
        Self::from_epoch_seconds(self.0 + seconds)
    }

    /// Formats the timestamp as `YYYY-MM-DDTHH:MM:SSZ` in UTC, the form STS uses for `Expiration`.
    pub fn to_iso8601(self) -> String {
        let whole_seconds = self.0.floor() as i64;
        let utc = OffsetDateTime::from_unix_timestamp(whole_seconds)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            utc.year(),
            u8::from(utc.month()),
            utc.day(),
            utc.hour(),
            utc.minute(),
            utc.second()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_of_known_instant() {
        let instant = Timestamp::from_epoch_seconds(1_767_225_600.75);
        assert_eq!(instant.to_iso8601(), "2026-01-01T00:00:00Z");
    }

    #[test]
    fn rounds_to_milliseconds() {
        let instant = Timestamp::from_epoch_seconds(10.123_456);
        assert_eq!(instant.epoch_seconds(), 10.123);
    }

    #[test]
    fn plus_seconds_moves_forward() {
        let later = Timestamp::from_epoch_seconds(100.0).plus_seconds(3600.0);
        assert_eq!(later.epoch_seconds(), 3700.0);
    }
}
