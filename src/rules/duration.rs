//! Durations written as Go-style strings, as Terraform users write them in `timeouts`
//! blocks and provider settings: `60m`, `1h30m`, `90s`, `1.5h`.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: write a number followed by a unit, such as \"30m\", \"1h30m\" or \"90s\" (units: h, m, s, ms), at most 10 years")]
pub struct DurationError {
    pub input: String,
}

/// Parses a duration such as `1h30m`, `45m`, `90s` or `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let error = || DurationError {
        input: text.to_string(),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(error());
    }
    let mut total = 0f64;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(error)?;
        if number_end == 0 {
            return Err(error());
        }
        let number: f64 = rest[..number_end].parse().map_err(|_| error())?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(error()),
        };
        total += number * seconds_per_unit;
        rest = &rest[unit_end..];
    }
    if total > MAX_SECONDS {
        return Err(error());
    }
    Ok(Duration::from_secs_f64(total))
}

/// Maximum duration accepted: 10 years, far beyond any Account Factory operation and small
/// enough that adding it to the current time cannot overflow.
const MAX_SECONDS: f64 = 10.0 * 365.0 * 24.0 * 3600.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_forms() {
        let cases: &[(&str, Option<u64>)] = &[
            ("60m", Some(3_600_000)),
            ("1h30m", Some(5_400_000)),
            ("90s", Some(90_000)),
            ("1.5h", Some(5_400_000)),
            ("500ms", Some(500)),
            ("20s", Some(20_000)),
            ("", None),
            ("10", None),
            ("m", None),
            ("5 minutes", None),
            ("1d", None),
            ("99999999999999999999h", None),
            ("87600h", Some(315_360_000_000)),
        ];
        for (input, expected) in cases {
            let parsed = parse_duration(input).ok().map(|d| d.as_millis() as u64);
            assert_eq!(parsed, *expected, "input {input:?}");
        }
    }
}
