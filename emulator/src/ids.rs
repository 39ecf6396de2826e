//! Generators for the identifiers the emulated services hand out, in the shapes AWS uses:
//! `pp-`, `rec-` and the other 13-character Service Catalog ids, 12-digit account ids,
//! `ou-<root>-<suffix>` OU ids, `ASIA` access keys and request ids.

use rand::Rng;
use uuid::Uuid;

const LOWERCASE_ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const UPPERCASE_ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn random_string(charset: &[u8], length: usize) -> String {
    let mut rng = rand::rng();
    (0..length)
        .map(|_| char::from(charset[rng.random_range(0..charset.len())]))
        .collect()
}

/// Generates a request id, sent as `x-amzn-RequestId` and as the STS `RequestId`.
pub fn request_id() -> String {
    Uuid::new_v4().to_string()
}

/// Generates a Service Catalog id such as `pp-3xq7k2m9a1b4c` or `rec-...`: a prefix and 13 lowercase
/// letters and digits, as the real service issues them.
pub fn service_catalog_id(prefix: &str) -> String {
    format!("{prefix}-{}", random_string(LOWERCASE_ALPHANUMERIC, 13))
}

/// Generates a random 12-digit account id that `is_taken` does not reject.
pub fn account_id(is_taken: impl Fn(&str) -> bool) -> String {
    let mut rng = rand::rng();
    loop {
        let candidate = format!(
            "{:012}",
            rng.random_range(100_000_000_000u64..1_000_000_000_000)
        );
        if !is_taken(&candidate) {
            return candidate;
        }
    }
}

/// Generates a random OU id under the given root, `ou-<root suffix>-<8 characters>`.
pub fn organizational_unit_id(root_id: &str) -> String {
    format!(
        "ou-{}-{}",
        root_suffix(root_id),
        random_string(LOWERCASE_ALPHANUMERIC, 8)
    )
}

/// Derives an OU id from the OU's path, so that a seed without explicit ids gives the
/// same ids on every start.
pub fn seeded_organizational_unit_id(root_id: &str, path: &str) -> String {
    let digest = Uuid::new_v5(&Uuid::NAMESPACE_OID, path.as_bytes())
        .simple()
        .to_string();
    format!("ou-{}-{}", root_suffix(root_id), &digest[..8])
}

/// Derives a 12-digit account id from the account's email.
pub fn seeded_account_id(email: &str) -> String {
    let digest = Uuid::new_v5(&Uuid::NAMESPACE_OID, email.to_ascii_lowercase().as_bytes());
    let number = digest.as_u128() % 900_000_000_000 + 100_000_000_000;
    format!("{number:012}")
}

fn root_suffix(root_id: &str) -> &str {
    root_id.strip_prefix("r-").unwrap_or(root_id)
}

/// Generates a temporary access key id, `ASIA` and 16 characters, as STS issues for role sessions.
pub fn temporary_access_key_id() -> String {
    format!("ASIA{}", random_string(UPPERCASE_ALPHANUMERIC, 16))
}

/// Generates a dummy secret access key or session token of the given length.
pub fn dummy_secret(length: usize) -> String {
    random_string(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        length,
    )
}

/// Derives a role id, `AROA` and 17 characters as IAM reports for roles, from the role ARN.
pub fn role_id(role_arn: &str) -> String {
    let digest = Uuid::new_v5(&Uuid::NAMESPACE_OID, role_arn.as_bytes())
        .simple()
        .to_string()
        .to_ascii_uppercase();
    format!("AROA{}", &digest[..17])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_catalog_id_shape() {
        let id = service_catalog_id("pp");
        assert!(id.starts_with("pp-"));
        assert_eq!(id.len(), 16);
    }

    #[test]
    fn account_id_skips_taken_values() {
        let first = account_id(|_| false);
        let second = account_id(|candidate| candidate == first);
        assert_eq!(first.len(), 12);
        assert_ne!(first, second);
    }

    #[test]
    fn seeded_ids_are_stable() {
        assert_eq!(
            seeded_organizational_unit_id("r-xxxx", "Workloads/Production"),
            seeded_organizational_unit_id("r-xxxx", "Workloads/Production")
        );
        assert_ne!(
            seeded_organizational_unit_id("r-xxxx", "Workloads/Production"),
            seeded_organizational_unit_id("r-xxxx", "Production")
        );
        assert!(seeded_organizational_unit_id("r-xxxx", "Security").starts_with("ou-xxxx-"));
        assert_eq!(
            seeded_account_id("A@Example.com"),
            seeded_account_id("a@example.com")
        );
    }
}
