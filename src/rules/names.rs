//! Name and ID rules: account names, team names, installation names and account IDs, plus
//! the deterministic provisioned-product name and provision token that make a retried create
//! find its own earlier work instead of provisioning a second account.

use std::fmt;

use thiserror::Error;
use uuid::Uuid;

/// Maximum length of an Organizations account name and of a Service Catalog provisioned
/// product name.
pub const MAX_ACCOUNT_NAME_LENGTH: usize = 128;

/// Maximum length of a team name, the length of one DNS label.
pub const MAX_TEAM_LENGTH: usize = 63;

/// Maximum length of an installation name.
pub const MAX_INSTALLATION_NAME_LENGTH: usize = 32;

/// Maximum length of a provisioned product name.
pub const MAX_PROVISIONED_PRODUCT_NAME_LENGTH: usize = 128;

/// Namespace of the UUIDv5 whose first 8 hex digits end every provisioned product name.
/// Changing it renames every product, so a provider upgrade would lose track of earlier work.
const PRODUCT_NAME_NAMESPACE: Uuid = Uuid::from_u128(0x1332d1a5_321d_4dbb_94a5_ec9fede3f919);

/// Namespace of the UUIDv5 used as a provision token. Fixed for the same reason as above.
const PROVISION_TOKEN_NAMESPACE: Uuid = Uuid::from_u128(0x9f2639f5_ec14_468e_aedc_e64fc191d18b);

/// The kind of value a [`NameError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    AccountName,
    Team,
    InstallationName,
    AccountId,
}

impl NameKind {
    /// Describes the characters this kind of value accepts, for error messages.
    fn allowed(self) -> &'static str {
        match self {
            NameKind::AccountName => "letters, digits, '.', '_' and '-'",
            NameKind::Team | NameKind::InstallationName => "lowercase letters, digits and hyphens",
            NameKind::AccountId => "digits",
        }
    }
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::AccountName => "account name",
            NameKind::Team => "team",
            NameKind::InstallationName => "installation name",
            NameKind::AccountId => "account ID",
        })
    }
}

/// A violated name rule. Positions are 1-based character positions.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("the {kind} is empty; it must be 1 to {max} characters")]
    Empty { kind: NameKind, max: usize },

    #[error(
        "{kind} {value:?} is {length} characters, {over} over the limit of {max}; shorten it",
        over = length - max
    )]
    TooLong {
        kind: NameKind,
        value: String,
        length: usize,
        max: usize,
    },

    #[error(
        "{kind} {value:?} contains {character:?} at position {position}, but only {} are \
         allowed; remove or replace it",
        kind.allowed()
    )]
    InvalidCharacter {
        kind: NameKind,
        value: String,
        character: char,
        position: usize,
    },

    #[error("{kind} {value:?} starts with {character:?}, but it must start with {rule}")]
    InvalidStart {
        kind: NameKind,
        value: String,
        character: char,
        rule: &'static str,
    },

    #[error("{kind} {value:?} ends with {character:?}, but it must end with {rule}")]
    InvalidEnd {
        kind: NameKind,
        value: String,
        character: char,
        rule: &'static str,
    },

    #[error(
        "account ID {value:?} is invalid: an AWS account ID is exactly 12 digits, such as \
         123456789012"
    )]
    InvalidAccountId { value: String },
}

fn check_length(kind: NameKind, value: &str, max: usize) -> Result<(), NameError> {
    let length = value.chars().count();
    if length == 0 {
        return Err(NameError::Empty { kind, max });
    }
    if length > max {
        return Err(NameError::TooLong {
            kind,
            value: value.to_string(),
            length,
            max,
        });
    }
    Ok(())
}

fn check_characters(
    kind: NameKind,
    value: &str,
    allowed: impl Fn(char) -> bool,
) -> Result<(), NameError> {
    match value.chars().enumerate().find(|(_, c)| !allowed(*c)) {
        Some((index, character)) => Err(NameError::InvalidCharacter {
            kind,
            value: value.to_string(),
            character,
            position: index + 1,
        }),
        None => Ok(()),
    }
}

fn is_lowercase_label_character(character: char) -> bool {
    character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
}

/// Validates an account name: 1 to 128 characters matching `[A-Za-z0-9][A-Za-z0-9._-]*`.
///
/// Organizations accepts any 1–128 characters, but the name also goes into the email alias and
/// the Service Catalog provisioned product name, whose pattern is `[a-zA-Z0-9][a-zA-Z0-9._-]*`.
pub fn validate_account_name(name: &str) -> Result<(), NameError> {
    let kind = NameKind::AccountName;
    check_length(kind, name, MAX_ACCOUNT_NAME_LENGTH)?;
    check_characters(kind, name, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
    })?;
    check_start(kind, name, char::is_ascii_alphanumeric, "a letter or digit")
}

/// Validates a team name: a lowercase DNS label, 1 to 63 characters matching
/// `[a-z0-9]([a-z0-9-]*[a-z0-9])?`.
pub fn validate_team(team: &str) -> Result<(), NameError> {
    let kind = NameKind::Team;
    check_length(kind, team, MAX_TEAM_LENGTH)?;
    check_characters(kind, team, is_lowercase_label_character)?;
    check_start(
        kind,
        team,
        is_lowercase_alphanumeric,
        "a lowercase letter or digit",
    )?;
    check_end(
        kind,
        team,
        is_lowercase_alphanumeric,
        "a lowercase letter or digit",
    )
}

/// Validates an installation name: 1 to 32 lowercase letters, digits and hyphens, starting with
/// a letter and not ending with a hyphen.
pub fn validate_installation_name(name: &str) -> Result<(), NameError> {
    let kind = NameKind::InstallationName;
    check_length(kind, name, MAX_INSTALLATION_NAME_LENGTH)?;
    check_characters(kind, name, is_lowercase_label_character)?;
    check_start(kind, name, char::is_ascii_lowercase, "a lowercase letter")?;
    check_end(
        kind,
        name,
        is_lowercase_alphanumeric,
        "a lowercase letter or digit",
    )
}

/// Validates an AWS account ID: exactly 12 ASCII digits.
pub fn validate_account_id(id: &str) -> Result<(), NameError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(NameError::InvalidAccountId {
            value: id.to_string(),
        })
    }
}

fn is_lowercase_alphanumeric(character: &char) -> bool {
    character.is_ascii_lowercase() || character.is_ascii_digit()
}

fn check_start(
    kind: NameKind,
    value: &str,
    allowed: impl Fn(&char) -> bool,
    rule: &'static str,
) -> Result<(), NameError> {
    match value.chars().next() {
        Some(character) if !allowed(&character) => Err(NameError::InvalidStart {
            kind,
            value: value.to_string(),
            character,
            rule,
        }),
        _ => Ok(()),
    }
}

fn check_end(
    kind: NameKind,
    value: &str,
    allowed: impl Fn(&char) -> bool,
    rule: &'static str,
) -> Result<(), NameError> {
    match value.chars().last() {
        Some(character) if !allowed(&character) => Err(NameError::InvalidEnd {
            kind,
            value: value.to_string(),
            character,
            rule,
        }),
        _ => Ok(()),
    }
}

/// Builds the deterministic Service Catalog provisioned product name of an account:
/// `<installation>-<account_name>-<hash>`, where `<hash>` is the first 8 lowercase hex digits of
/// a UUIDv5 of the lowercased email. The same inputs always give the same name, whatever the
/// case of the email, so a retried create finds the product of an earlier attempt.
///
/// When the result would exceed 128 characters, the account-name part is shortened so that it
/// fits. Characters outside `[a-zA-Z0-9._-]` become `-`, so the result matches Service
/// Catalog's pattern `[a-zA-Z0-9][a-zA-Z0-9._-]*` whenever `installation` is a valid
/// installation name (see [`validate_installation_name`]).
pub fn provisioned_product_name(installation: &str, account_name: &str, email: &str) -> String {
    let digest = Uuid::new_v5(
        &PRODUCT_NAME_NAMESPACE,
        email.to_ascii_lowercase().as_bytes(),
    );
    let hash: String = digest.simple().to_string().chars().take(8).collect();

    let installation = sanitize_product_name_part(installation);
    let mut account_name = sanitize_product_name_part(account_name);
    let fixed_length = installation.len() + hash.len() + 2;
    let room = MAX_PROVISIONED_PRODUCT_NAME_LENGTH.saturating_sub(fixed_length);
    // The sanitized part is ASCII, so truncating at a byte count keeps whole characters.
    account_name.truncate(room);

    format!("{installation}-{account_name}-{hash}")
}

fn sanitize_product_name_part(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Builds the deterministic idempotency token for ProvisionProduct: the hyphenated UUIDv5 of
/// `<product_name>:<attempt>`. It is 36 characters and matches `[a-zA-Z0-9][a-zA-Z0-9_-]*`.
/// The same product name and attempt always give the same token, so a repeated call after a
/// lost response is recognised by Service Catalog instead of starting a second provisioning.
pub fn provision_token(product_name: &str, attempt: &str) -> String {
    let name = format!("{product_name}:{attempt}");
    Uuid::new_v5(&PROVISION_TOKEN_NAMESPACE, name.as_bytes())
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        text.to_string()
    }

    fn matches_product_pattern(name: &str) -> bool {
        let mut characters = name.chars();
        characters.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && characters.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    }

    #[test]
    fn account_name_rules() {
        let too_long = "a".repeat(129);
        let longest = "a".repeat(128);
        let cases: Vec<(&str, Result<(), NameError>)> = vec![
            ("kore-project-a-notprod", Ok(())),
            ("A", Ok(())),
            ("Team_1.prod-2", Ok(())),
            ("0leading-digit", Ok(())),
            ("ends-with-dot.", Ok(())),
            (&longest, Ok(())),
            (
                "",
                Err(NameError::Empty {
                    kind: NameKind::AccountName,
                    max: 128,
                }),
            ),
            (
                &too_long,
                Err(NameError::TooLong {
                    kind: NameKind::AccountName,
                    value: too_long.clone(),
                    length: 129,
                    max: 128,
                }),
            ),
            (
                "kore project",
                Err(NameError::InvalidCharacter {
                    kind: NameKind::AccountName,
                    value: s("kore project"),
                    character: ' ',
                    position: 5,
                }),
            ),
            (
                "team+dev",
                Err(NameError::InvalidCharacter {
                    kind: NameKind::AccountName,
                    value: s("team+dev"),
                    character: '+',
                    position: 5,
                }),
            ),
            (
                "caf\u{e9}",
                Err(NameError::InvalidCharacter {
                    kind: NameKind::AccountName,
                    value: s("caf\u{e9}"),
                    character: '\u{e9}',
                    position: 4,
                }),
            ),
            (
                "-dev",
                Err(NameError::InvalidStart {
                    kind: NameKind::AccountName,
                    value: s("-dev"),
                    character: '-',
                    rule: "a letter or digit",
                }),
            ),
            (
                "_dev",
                Err(NameError::InvalidStart {
                    kind: NameKind::AccountName,
                    value: s("_dev"),
                    character: '_',
                    rule: "a letter or digit",
                }),
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(validate_account_name(name), expected, "name {name:?}");
        }
    }

    #[test]
    fn team_rules() {
        let longest = "t".repeat(63);
        let cases: Vec<(&str, Result<(), NameError>)> = vec![
            ("project-a", Ok(())),
            ("a", Ok(())),
            ("0", Ok(())),
            ("team-42", Ok(())),
            (&longest, Ok(())),
            (
                "",
                Err(NameError::Empty {
                    kind: NameKind::Team,
                    max: 63,
                }),
            ),
            (
                "Project-A",
                Err(NameError::InvalidCharacter {
                    kind: NameKind::Team,
                    value: s("Project-A"),
                    character: 'P',
                    position: 1,
                }),
            ),
            (
                "project_a",
                Err(NameError::InvalidCharacter {
                    kind: NameKind::Team,
                    value: s("project_a"),
                    character: '_',
                    position: 8,
                }),
            ),
            (
                "-project",
                Err(NameError::InvalidStart {
                    kind: NameKind::Team,
                    value: s("-project"),
                    character: '-',
                    rule: "a lowercase letter or digit",
                }),
            ),
            (
                "project-",
                Err(NameError::InvalidEnd {
                    kind: NameKind::Team,
                    value: s("project-"),
                    character: '-',
                    rule: "a lowercase letter or digit",
                }),
            ),
        ];
        for (team, expected) in cases {
            assert_eq!(validate_team(team), expected, "team {team:?}");
        }
        let long = "t".repeat(64);
        assert!(matches!(
            validate_team(&long),
            Err(NameError::TooLong {
                length: 64,
                max: 63,
                ..
            })
        ));
    }

    #[test]
    fn installation_name_rules() {
        let longest = "k".repeat(32);
        let cases: Vec<(&str, Result<(), NameError>)> = vec![
            ("kore", Ok(())),
            ("kore-prod-2", Ok(())),
            ("k", Ok(())),
            (&longest, Ok(())),
            (
                "",
                Err(NameError::Empty {
                    kind: NameKind::InstallationName,
                    max: 32,
                }),
            ),
            (
                "2kore",
                Err(NameError::InvalidStart {
                    kind: NameKind::InstallationName,
                    value: s("2kore"),
                    character: '2',
                    rule: "a lowercase letter",
                }),
            ),
            (
                "kore-",
                Err(NameError::InvalidEnd {
                    kind: NameKind::InstallationName,
                    value: s("kore-"),
                    character: '-',
                    rule: "a lowercase letter or digit",
                }),
            ),
            (
                "Kore",
                Err(NameError::InvalidCharacter {
                    kind: NameKind::InstallationName,
                    value: s("Kore"),
                    character: 'K',
                    position: 1,
                }),
            ),
            (
                "kore.prod",
                Err(NameError::InvalidCharacter {
                    kind: NameKind::InstallationName,
                    value: s("kore.prod"),
                    character: '.',
                    position: 5,
                }),
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(validate_installation_name(name), expected, "name {name:?}");
        }
        let long = "k".repeat(33);
        assert!(matches!(
            validate_installation_name(&long),
            Err(NameError::TooLong {
                length: 33,
                max: 32,
                ..
            })
        ));
    }

    #[test]
    fn account_id_rules() {
        let cases = [
            ("123456789012", true),
            ("000000000000", true),
            ("12345678901", false),
            ("1234567890123", false),
            ("12345678901a", false),
            (" 123456789012", false),
            ("", false),
            // Non-ASCII digits are not account IDs.
            ("١٢٣٤٥٦٧٨٩٠١٢", false),
        ];
        for (id, valid) in cases {
            assert_eq!(validate_account_id(id).is_ok(), valid, "id {id:?}");
        }
    }

    #[test]
    fn error_messages_name_value_position_and_rule() {
        let too_long_message = format!(
            "installation name {:?} is 40 characters, 8 over the limit of 32; shorten it",
            "k".repeat(40)
        );
        let cases: Vec<(NameError, &str)> = vec![
            (
                validate_account_name("kore project").unwrap_err(),
                "account name \"kore project\" contains ' ' at position 5, but only letters, \
                 digits, '.', '_' and '-' are allowed; remove or replace it",
            ),
            (
                validate_team("project-").unwrap_err(),
                "team \"project-\" ends with '-', but it must end with a lowercase letter or digit",
            ),
            (
                validate_installation_name(&"k".repeat(40)).unwrap_err(),
                &too_long_message,
            ),
            (
                validate_account_id("1234").unwrap_err(),
                "account ID \"1234\" is invalid: an AWS account ID is exactly 12 digits, such \
                 as 123456789012",
            ),
            (
                validate_team("").unwrap_err(),
                "the team is empty; it must be 1 to 63 characters",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn product_name_is_deterministic_and_case_blind() {
        let first = provisioned_product_name("kore", "project-a-dev", "team+dev@example.com");
        let again = provisioned_product_name("kore", "project-a-dev", "team+dev@example.com");
        let upper = provisioned_product_name("kore", "project-a-dev", "Team+Dev@EXAMPLE.com");
        assert_eq!(first, again);
        assert_eq!(first, upper);
    }

    #[test]
    fn product_name_shape() {
        let name = provisioned_product_name("kore", "project-a-dev", "team+dev@example.com");
        let hash = name.strip_prefix("kore-project-a-dev-").unwrap();
        assert_eq!(hash.len(), 8);
        assert!(hash
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert!(matches_product_pattern(&name));

        let expected_hash = Uuid::new_v5(&PRODUCT_NAME_NAMESPACE, b"team+dev@example.com")
            .simple()
            .to_string();
        assert_eq!(hash, &expected_hash[..8]);
    }

    #[test]
    fn product_name_differs_by_each_input() {
        let base = provisioned_product_name("kore", "dev", "team+dev@example.com");
        let cases = [
            ("kore2", "dev", "team+dev@example.com"),
            ("kore", "dev2", "team+dev@example.com"),
            ("kore", "dev", "team+dev2@example.com"),
        ];
        for (installation, account, email) in cases {
            assert_ne!(
                provisioned_product_name(installation, account, email),
                base,
                "{installation} {account} {email}"
            );
        }
    }

    #[test]
    fn product_name_truncates_account_name() {
        let installation = "k".repeat(32);
        let account = "a".repeat(128);
        let email = "team@example.com";
        let name = provisioned_product_name(&installation, &account, email);
        assert_eq!(name.len(), MAX_PROVISIONED_PRODUCT_NAME_LENGTH);
        assert!(name.starts_with(&format!("{installation}-")));
        // The hash is kept whole, so two long names with different emails still differ.
        let other = provisioned_product_name(&installation, &account, "other@example.com");
        assert_ne!(name, other);
        assert_eq!(&name[..119], &other[..119]);
        // 128 - 32 - 8 - 2 = 86 characters of the account name remain.
        assert_eq!(
            name,
            format!("{installation}-{}-{}", "a".repeat(86), &name[120..])
        );
        assert!(matches_product_pattern(&name));
    }

    #[test]
    fn product_name_replaces_disallowed_characters() {
        let name = provisioned_product_name("kore", "bad name+x", "t@example.com");
        assert!(name.starts_with("kore-bad-name-x-"), "{name}");
        assert!(matches_product_pattern(&name));
    }

    #[test]
    fn provision_token_shape_and_determinism() {
        let cases = [
            ("kore-dev-0123abcd", "1"),
            ("kore-dev-0123abcd", "2"),
            (&*"p".repeat(128), "retry-after-failure"),
            ("", ""),
        ];
        let mut seen = std::collections::HashSet::new();
        for (product, attempt) in cases {
            let token = provision_token(product, attempt);
            assert_eq!(token, provision_token(product, attempt));
            assert_eq!(token.len(), 36);
            let mut characters = token.chars();
            assert!(characters.next().unwrap().is_ascii_alphanumeric());
            assert!(characters.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            assert!(
                seen.insert(token),
                "duplicate token for {product} {attempt}"
            );
        }
    }
}
