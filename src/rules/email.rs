//! Email rules for AWS account root emails: the syntax rules that Organizations CreateAccount
//! documents, the alias `<local>+<account name>@<domain>` generated from the SSO user's email,
//! and case-insensitive comparison.
//!
//! AWS does not document whether it compares emails case-sensitively. The provider therefore
//! treats two emails that differ only in case as the same address, because treating them as
//! different could miss a conflict that AWS reports only after minutes of provisioning.

use thiserror::Error;

/// Minimum length of an account email, in characters (Organizations `Email` shape).
pub const MIN_EMAIL_LENGTH: usize = 6;

/// Maximum length of an account email, in characters (Organizations `Email` shape).
pub const MAX_EMAIL_LENGTH: usize = 64;

/// Characters that CreateAccount rejects in the local part of an email.
const FORBIDDEN_LOCAL_CHARACTERS: &[char] = &[
    '"', '\'', '(', ')', '<', '>', '[', ']', ':', ';', ',', '\\', '|', '%', '&',
];

/// A violated email rule. Positions are 1-based character positions in the whole email.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum EmailError {
    #[error(
        "email {email:?} is {length} characters, but AWS requires at least {MIN_EMAIL_LENGTH}; \
         write a complete address such as team@example.com"
    )]
    TooShort { email: String, length: usize },

    #[error(
        "email {email:?} is {length} characters, {over} over the {MAX_EMAIL_LENGTH}-character \
         limit of AWS; use a shorter address"
    )]
    AddressTooLong {
        email: String,
        length: usize,
        over: usize,
    },

    /// The alias generated from the SSO email and the account name is too long.
    /// `max_account_name_length` is the longest account name that fits with this SSO email.
    #[error("{}", alias_too_long_message(alias, *length, *over, *max_account_name_length))]
    TooLong {
        alias: String,
        length: usize,
        over: usize,
        max_account_name_length: usize,
    },

    #[error(
        "email {email:?} contains {character:?} at position {position}, but AWS accepts only \
         7-bit ASCII characters in an email; replace it"
    )]
    NonAscii {
        email: String,
        character: char,
        position: usize,
    },

    #[error(
        "email {email:?} contains {count} '@' characters, but an email must contain exactly one \
         '@' between the local part and the domain"
    )]
    AtSignCount { email: String, count: usize },

    #[error("email {email:?} has nothing before the '@'; write the mailbox name before it")]
    EmptyLocalPart { email: String },

    #[error(
        "email {email:?} contains the whitespace or control character {character:?} at position \
         {position}; remove it"
    )]
    Whitespace {
        email: String,
        character: char,
        position: usize,
    },

    #[error(
        "email {email:?} contains {character:?} at position {position} before the '@', but AWS \
         rejects any of \" ' ( ) < > [ ] : ; , \\ | % & in the local part; remove or replace it"
    )]
    ForbiddenCharacter {
        email: String,
        character: char,
        position: usize,
    },

    #[error(
        "email {email:?} starts with '.', but AWS rejects a local part that starts with a dot; \
         remove the leading dot"
    )]
    LocalPartStartsWithDot { email: String },

    #[error(
        "email {email:?} contains \"..\" before the '@', but the local part may not contain two \
         consecutive dots; use a single dot"
    )]
    ConsecutiveDots { email: String },

    #[error("email {email:?} has nothing after the '@'; write the domain, such as example.com")]
    EmptyDomain { email: String },

    #[error(
        "email {email:?} contains {character:?} at position {position} in the domain, but a \
         domain may contain only letters, digits, '-' and '.'; remove or replace it"
    )]
    DomainCharacter {
        email: String,
        character: char,
        position: usize,
    },

    #[error(
        "the domain {domain:?} of email {email:?} starts with {character:?}, but a domain must \
         start with a letter or digit; remove it"
    )]
    DomainStart {
        email: String,
        domain: String,
        character: char,
    },

    #[error(
        "the domain {domain:?} of email {email:?} ends with {character:?}, but a domain must end \
         with a letter or digit; remove it"
    )]
    DomainEnd {
        email: String,
        domain: String,
        character: char,
    },

    #[error(
        "the domain {domain:?} of email {email:?} contains no dot; write the full domain, such as \
         example.com"
    )]
    DomainWithoutDot { email: String, domain: String },

    #[error(
        "the domain {domain:?} of email {email:?} contains \"..\", an empty label; use a single dot"
    )]
    DomainEmptyLabel { email: String, domain: String },

    /// The SSO email failed validation, so no alias was generated.
    #[error("the SSO user email cannot be used to generate account email aliases: {reason}")]
    InvalidSsoEmail { reason: Box<EmailError> },
}

fn alias_too_long_message(
    alias: &str,
    length: usize,
    over: usize,
    max_account_name_length: usize,
) -> String {
    let fix = if max_account_name_length == 0 {
        "use a shorter SSO email, because this one leaves no room for an account name, or set \
         email explicitly"
            .to_string()
    } else {
        format!(
            "use a shorter account name (at most {max_account_name_length} characters with this \
             SSO email) or a shorter SSO email, or set email explicitly"
        )
    };
    format!(
        "the generated email alias {alias} is {length} characters, {over} over the \
         {MAX_EMAIL_LENGTH}-character limit; {fix}"
    )
}

/// Validates an account email against the rules that Organizations CreateAccount documents.
///
/// Beyond those rules, this also rejects control characters, an empty local part, `..` in the
/// local part and empty domain labels, none of which RFC 5322 allows in an unquoted address.
pub fn validate_email(email: &str) -> Result<(), EmailError> {
    let length = email.chars().count();
    if length < MIN_EMAIL_LENGTH {
        return Err(EmailError::TooShort {
            email: email.to_string(),
            length,
        });
    }
    if length > MAX_EMAIL_LENGTH {
        return Err(EmailError::AddressTooLong {
            email: email.to_string(),
            length,
            over: length - MAX_EMAIL_LENGTH,
        });
    }
    if let Some((index, character)) = email.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
        return Err(EmailError::NonAscii {
            email: email.to_string(),
            character,
            position: index + 1,
        });
    }

    // From here on the email is ASCII, so byte offsets equal character positions.
    let count = email.matches('@').count();
    let Some((local, domain)) = email.split_once('@').filter(|_| count == 1) else {
        return Err(EmailError::AtSignCount {
            email: email.to_string(),
            count,
        });
    };
    validate_local_part(email, local)?;
    validate_domain(email, domain, local.len() + 1)
}

fn validate_local_part(email: &str, local: &str) -> Result<(), EmailError> {
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart {
            email: email.to_string(),
        });
    }
    for (index, character) in local.chars().enumerate() {
        if character.is_ascii_whitespace() || character.is_ascii_control() {
            return Err(EmailError::Whitespace {
                email: email.to_string(),
                character,
                position: index + 1,
            });
        }
        if FORBIDDEN_LOCAL_CHARACTERS.contains(&character) {
            return Err(EmailError::ForbiddenCharacter {
                email: email.to_string(),
                character,
                position: index + 1,
            });
        }
    }
    if local.starts_with('.') {
        return Err(EmailError::LocalPartStartsWithDot {
            email: email.to_string(),
        });
    }
    if local.contains("..") {
        return Err(EmailError::ConsecutiveDots {
            email: email.to_string(),
        });
    }
    Ok(())
}

/// Checks the domain; `offset` is the number of characters before it in `email`.
fn validate_domain(email: &str, domain: &str, offset: usize) -> Result<(), EmailError> {
    let Some(first) = domain.chars().next() else {
        return Err(EmailError::EmptyDomain {
            email: email.to_string(),
        });
    };
    if let Some((index, character)) = domain
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(EmailError::DomainCharacter {
            email: email.to_string(),
            character,
            position: offset + index + 1,
        });
    }
    if first == '-' || first == '.' {
        return Err(EmailError::DomainStart {
            email: email.to_string(),
            domain: domain.to_string(),
            character: first,
        });
    }
    if let Some(last) = domain.chars().last().filter(|c| *c == '-' || *c == '.') {
        return Err(EmailError::DomainEnd {
            email: email.to_string(),
            domain: domain.to_string(),
            character: last,
        });
    }
    if !domain.contains('.') {
        return Err(EmailError::DomainWithoutDot {
            email: email.to_string(),
            domain: domain.to_string(),
        });
    }
    if domain.contains("..") {
        return Err(EmailError::DomainEmptyLabel {
            email: email.to_string(),
            domain: domain.to_string(),
        });
    }
    Ok(())
}

/// Generates the root email of an account from the SSO user's email:
/// `cloud-team@example.com` and `kore-project-a-notprod` give
/// `cloud-team+kore-project-a-notprod@example.com`, so all account mail reaches the SSO mailbox.
///
/// Validates the SSO email first ([`EmailError::InvalidSsoEmail`]), then the alias; an alias
/// over the length limit is [`EmailError::TooLong`]. The alias keeps the case of both inputs.
pub fn email_alias(sso_email: &str, account_name: &str) -> Result<String, EmailError> {
    validate_email(sso_email).map_err(|reason| EmailError::InvalidSsoEmail {
        reason: Box::new(reason),
    })?;
    // validate_email accepted exactly one '@', so split_once finds it; the fallback never runs.
    let (local, domain) = sso_email.split_once('@').unwrap_or((sso_email, ""));
    let alias = format!("{local}+{account_name}@{domain}");

    let length = alias.chars().count();
    if length > MAX_EMAIL_LENGTH {
        let fixed_length = sso_email.chars().count() + 1;
        return Err(EmailError::TooLong {
            alias,
            length,
            over: length - MAX_EMAIL_LENGTH,
            max_account_name_length: MAX_EMAIL_LENGTH.saturating_sub(fixed_length),
        });
    }
    validate_email(&alias)?;
    Ok(alias)
}

/// Compares two emails ignoring ASCII case.
pub fn emails_equal(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        text.to_string()
    }

    #[test]
    fn validate_email_accepts_valid_addresses() {
        let cases = [
            "cloud-team@example.com",
            "a@b.co",
            "cloud-team+kore-project-a-notprod@example.com",
            "first.last@sub.example.co.uk",
            "UPPER_case@Example.COM",
            "x!#$*=?^`{}~/@example.com",
            "team.@example.com",
            "1234567890@123.example",
            // 64 characters exactly.
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz@example.com",
        ];
        for email in cases {
            assert_eq!(validate_email(email), Ok(()), "email {email:?}");
        }
    }

    #[test]
    fn validate_email_rejects_each_rule() {
        let long = format!("{}@example.com", "a".repeat(60));
        let cases: Vec<(&str, EmailError)> = vec![
            (
                "a@b.c",
                EmailError::TooShort {
                    email: s("a@b.c"),
                    length: 5,
                },
            ),
            (
                &long,
                EmailError::AddressTooLong {
                    email: long.clone(),
                    length: 72,
                    over: 8,
                },
            ),
            (
                "jos\u{e9}@example.com",
                EmailError::NonAscii {
                    email: s("jos\u{e9}@example.com"),
                    character: '\u{e9}',
                    position: 4,
                },
            ),
            (
                "team.example.com",
                EmailError::AtSignCount {
                    email: s("team.example.com"),
                    count: 0,
                },
            ),
            (
                "team@ops@example.com",
                EmailError::AtSignCount {
                    email: s("team@ops@example.com"),
                    count: 2,
                },
            ),
            (
                "@example.com",
                EmailError::EmptyLocalPart {
                    email: s("@example.com"),
                },
            ),
            (
                "cloud team@example.com",
                EmailError::Whitespace {
                    email: s("cloud team@example.com"),
                    character: ' ',
                    position: 6,
                },
            ),
            (
                "cloud\tteam@example.com",
                EmailError::Whitespace {
                    email: s("cloud\tteam@example.com"),
                    character: '\t',
                    position: 6,
                },
            ),
            (
                "cloud\u{1}team@example.com",
                EmailError::Whitespace {
                    email: s("cloud\u{1}team@example.com"),
                    character: '\u{1}',
                    position: 6,
                },
            ),
            (
                ".team@example.com",
                EmailError::LocalPartStartsWithDot {
                    email: s(".team@example.com"),
                },
            ),
            (
                "cloud..team@example.com",
                EmailError::ConsecutiveDots {
                    email: s("cloud..team@example.com"),
                },
            ),
            (
                "cloud-team@",
                EmailError::EmptyDomain {
                    email: s("cloud-team@"),
                },
            ),
            (
                "team@exa_mple.com",
                EmailError::DomainCharacter {
                    email: s("team@exa_mple.com"),
                    character: '_',
                    position: 9,
                },
            ),
            (
                "team@example .com",
                EmailError::DomainCharacter {
                    email: s("team@example .com"),
                    character: ' ',
                    position: 13,
                },
            ),
            (
                "team@-example.com",
                EmailError::DomainStart {
                    email: s("team@-example.com"),
                    domain: s("-example.com"),
                    character: '-',
                },
            ),
            (
                "team@.example.com",
                EmailError::DomainStart {
                    email: s("team@.example.com"),
                    domain: s(".example.com"),
                    character: '.',
                },
            ),
            (
                "team@example.com-",
                EmailError::DomainEnd {
                    email: s("team@example.com-"),
                    domain: s("example.com-"),
                    character: '-',
                },
            ),
            (
                "team@example.com.",
                EmailError::DomainEnd {
                    email: s("team@example.com."),
                    domain: s("example.com."),
                    character: '.',
                },
            ),
            (
                "team@localhost",
                EmailError::DomainWithoutDot {
                    email: s("team@localhost"),
                    domain: s("localhost"),
                },
            ),
            (
                "team@example..com",
                EmailError::DomainEmptyLabel {
                    email: s("team@example..com"),
                    domain: s("example..com"),
                },
            ),
        ];
        for (email, expected) in cases {
            assert_eq!(validate_email(email), Err(expected), "email {email:?}");
        }
    }

    #[test]
    fn validate_email_rejects_every_forbidden_character() {
        for character in FORBIDDEN_LOCAL_CHARACTERS {
            let email = format!("ab{character}cd@example.com");
            assert_eq!(
                validate_email(&email),
                Err(EmailError::ForbiddenCharacter {
                    email: email.clone(),
                    character: *character,
                    position: 3,
                }),
                "email {email:?}"
            );
        }
    }

    #[test]
    fn error_messages_name_value_and_fix() {
        let cases: Vec<(&str, &[&str])> = vec![
            ("a@b.c", &["\"a@b.c\"", "at least 6"]),
            (
                "ab%cd@example.com",
                &["'%'", "position 3", "remove or replace"],
            ),
            (
                "team@localhost",
                &["\"localhost\"", "no dot", "example.com"],
            ),
            ("jos\u{e9}@example.com", &["'\u{e9}'", "7-bit ASCII"]),
        ];
        for (email, fragments) in cases {
            let message = validate_email(email).unwrap_err().to_string();
            for fragment in fragments {
                assert!(
                    message.contains(fragment),
                    "message {message:?} lacks {fragment:?}"
                );
            }
        }
    }

    #[test]
    fn email_alias_builds_plus_address() {
        let cases = [
            (
                "cloud-team@example.com",
                "kore-project-a-notprod",
                "cloud-team+kore-project-a-notprod@example.com",
            ),
            (
                "cloud-team@example.com",
                "kore-project-a-prod",
                "cloud-team+kore-project-a-prod@example.com",
            ),
            (
                "Cloud.Team@Example.COM",
                "Dev_1",
                "Cloud.Team+Dev_1@Example.COM",
            ),
            (
                "ops+aws@example.com",
                "sandbox",
                "ops+aws+sandbox@example.com",
            ),
        ];
        for (sso_email, account_name, expected) in cases {
            assert_eq!(
                email_alias(sso_email, account_name).as_deref(),
                Ok(expected),
                "sso email {sso_email:?}, account {account_name:?}"
            );
        }
    }

    #[test]
    fn email_alias_reports_invalid_sso_email() {
        let error = email_alias("cloud team@example.com", "dev").unwrap_err();
        assert_eq!(
            error,
            EmailError::InvalidSsoEmail {
                reason: Box::new(EmailError::Whitespace {
                    email: s("cloud team@example.com"),
                    character: ' ',
                    position: 6,
                }),
            }
        );
        assert!(error.to_string().starts_with("the SSO user email"));
    }

    #[test]
    fn email_alias_too_long_says_by_how_much() {
        // 22 + 1 + 50 = 73 characters, 9 over; the SSO email leaves 64 - 23 = 41 for the name.
        let name = "n".repeat(50);
        let error = email_alias("cloud-team@example.com", &name).unwrap_err();
        let alias = format!("cloud-team+{name}@example.com");
        assert_eq!(
            error,
            EmailError::TooLong {
                alias: alias.clone(),
                length: 73,
                over: 9,
                max_account_name_length: 41,
            }
        );
        assert_eq!(
            error.to_string(),
            format!(
                "the generated email alias {alias} is 73 characters, 9 over the 64-character \
                 limit; use a shorter account name (at most 41 characters with this SSO email) \
                 or a shorter SSO email, or set email explicitly"
            )
        );
    }

    #[test]
    fn email_alias_fits_at_limit() {
        let name = "n".repeat(41);
        let alias = email_alias("cloud-team@example.com", &name).unwrap();
        assert_eq!(alias.len(), MAX_EMAIL_LENGTH);
    }

    #[test]
    fn email_alias_no_room_for_name() {
        let sso_email = format!("{}@example.com", "a".repeat(52));
        assert_eq!(sso_email.len(), 64);
        let error = email_alias(&sso_email, "dev").unwrap_err();
        assert!(matches!(
            error,
            EmailError::TooLong {
                max_account_name_length: 0,
                ..
            }
        ));
        assert!(error.to_string().contains("leaves no room"));
    }

    #[test]
    fn email_alias_rejects_bad_account_name_characters() {
        let error = email_alias("cloud-team@example.com", "a%b").unwrap_err();
        assert_eq!(
            error,
            EmailError::ForbiddenCharacter {
                email: s("cloud-team+a%b@example.com"),
                character: '%',
                position: 13,
            }
        );
    }

    #[test]
    fn emails_equal_ignores_case_only() {
        let cases = [
            ("team@example.com", "team@example.com", true),
            ("Team@Example.com", "team@example.COM", true),
            ("team+a@example.com", "team+b@example.com", false),
            ("team@example.com", " team@example.com", false),
        ];
        for (a, b, expected) in cases {
            assert_eq!(emails_equal(a, b), expected, "{a:?} vs {b:?}");
        }
    }
}
