//! Organizational unit references: the OU ID newtype, the four forms a user may write
//! (ID, Account Factory's `Name (ou-id)`, a slash path from the root, a plain name), and their
//! resolution against a listing of the organization's OUs.
//!
//! Resolution is pure: the caller lists the OUs (with their paths and whether Control Tower has
//! registered them) and this module picks exactly one or explains why it cannot.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Maximum number of OUs an error message lists before it adds "and N more".
const MAX_LISTED_OUS: usize = 20;

/// A violated OU rule, or an OU reference that does not resolve to exactly one OU.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OuError {
    #[error(
        "the organizational unit is empty; write an OU name, a path from the root such as \
         Workloads/Production, an ID such as ou-ab12-cd34ef56, or Account Factory's \
         Name (ou-id) form"
    )]
    Empty,

    #[error(
        "{input:?} is not a valid organizational unit ID: an OU ID is \"ou-\", 4 to 32 lowercase \
         letters or digits, \"-\" and 8 to 32 lowercase letters or digits, such as \
         ou-ab12-cd34ef56; to refer to an OU whose name starts with \"ou-\", write its path from \
         the root, such as /{input}"
    )]
    InvalidId { input: String },

    #[error(
        "{input:?} refers to the organization root, but Account Factory cannot place accounts \
         in the root; choose an organizational unit registered with AWS Control Tower"
    )]
    Root { input: String },

    #[error(
        "the path {input:?} contains an empty segment; separate OU names with single slashes \
         and no trailing slash, such as Workloads/Production"
    )]
    EmptyPathSegment { input: String },

    /// No OU matches. `known` lists every OU as `path (id)`, registered ones first.
    #[error("{}", not_found_message(input, known))]
    NotFound { input: String, known: Vec<String> },

    /// No OU matches exactly, but `candidates` (as `path (id)`) match when case is ignored.
    #[error(
        "no organizational unit matches {input:?} exactly, but {} differs only in case; OU \
         names are case-sensitive, so write the name as AWS Organizations shows it",
        join_labels(candidates)
    )]
    CaseMismatch {
        input: String,
        candidates: Vec<String>,
    },

    /// Several OUs match. `candidates` lists each as `path (id)`.
    #[error(
        "{input:?} matches {} organizational units: {}; write the path, the ID or the \
         Name (ou-id) form instead, such as {}",
        candidates.len(),
        join_labels(candidates),
        candidates.first().map_or("", |c| c.as_str())
    )]
    Ambiguous {
        input: String,
        candidates: Vec<String>,
    },

    #[error(
        "{input:?} names organizational unit {id} {written:?}, but that OU is named {actual:?}; \
         write \"{actual} ({id})\" or the ID alone"
    )]
    NameMismatch {
        input: String,
        id: String,
        written: String,
        actual: String,
    },

    /// The OU exists but Control Tower has not registered it. `registered` lists the
    /// registered OUs as `path (id)`.
    #[error("{}", not_registered_message(path, id, registered))]
    NotRegistered {
        path: String,
        id: String,
        registered: Vec<String>,
    },
}

fn join_labels(labels: &[String]) -> String {
    let mut text = labels
        .iter()
        .take(MAX_LISTED_OUS)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if labels.len() > MAX_LISTED_OUS {
        text.push_str(&format!(" and {} more", labels.len() - MAX_LISTED_OUS));
    }
    text
}

fn not_found_message(input: &str, known: &[String]) -> String {
    if known.is_empty() {
        return format!(
            "no organizational unit matches {input:?}, and the organization has no \
             organizational units; create and register one in the AWS Control Tower console"
        );
    }
    let suggestion = closest_label(input, known)
        .map(|label| format!(" Did you mean {label}?"))
        .unwrap_or_default();
    format!(
        "no organizational unit matches {input:?}; check the spelling.{suggestion} The \
         organization's organizational units are: {}",
        join_labels(known)
    )
}

/// Returns the label (`path (id)`) whose path or last name is within a small edit distance
/// of `input`: at most 2 edits, and fewer than a third of the input's length.
fn closest_label<'a>(input: &str, labels: &'a [String]) -> Option<&'a String> {
    let limit = (input.chars().count() / 3).clamp(1, 2);
    labels
        .iter()
        .filter_map(|label| {
            let path = label.split(" (").next().unwrap_or(label);
            let name = path.rsplit('/').next().unwrap_or(path);
            let distance = edit_distance(input, path).min(edit_distance(input, name));
            (distance <= limit).then_some((distance, label))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, label)| label)
}

/// Levenshtein distance between two strings, counted in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

fn not_registered_message(path: &str, id: &str, registered: &[String]) -> String {
    let choices = if registered.is_empty() {
        "no OU is registered yet".to_string()
    } else {
        join_labels(registered)
    };
    format!(
        "organizational unit {path} ({id}) is not registered with AWS Control Tower, so Account \
         Factory cannot provision into it; register it in the Control Tower console \
         (Organization > Register OU) or choose a registered OU: {choices}"
    )
}

/// An organizational unit ID such as `ou-ab12-cd34ef56`, valid by construction: the only
/// way to build one is [`OuId::parse`], which checks `^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OuId(String);

impl OuId {
    /// Parses an OU ID, rejecting anything outside the Organizations pattern.
    pub fn parse(text: &str) -> Result<OuId, OuError> {
        if is_ou_id(text) {
            Ok(OuId(text.to_string()))
        } else {
            Err(OuError::InvalidId {
                input: text.to_string(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for OuId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for OuId {
    type Err = OuError;

    fn from_str(text: &str) -> Result<OuId, OuError> {
        OuId::parse(text)
    }
}

impl AsRef<str> for OuId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn is_lowercase_alphanumeric(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn is_ou_id(text: &str) -> bool {
    let Some((root_part, unit_part)) = text
        .strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
    else {
        return false;
    };
    (4..=32).contains(&root_part.len())
        && (8..=32).contains(&unit_part.len())
        && is_lowercase_alphanumeric(root_part)
        && is_lowercase_alphanumeric(unit_part)
}

/// Checks `text` against the Organizations root ID pattern `^r-[0-9a-z]{4,32}$`.
fn is_root_id(text: &str) -> bool {
    text.strip_prefix("r-")
        .is_some_and(|rest| (4..=32).contains(&rest.len()) && is_lowercase_alphanumeric(rest))
}

/// An OU as the user wrote it, parsed but not yet resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OuReference {
    /// `ou-ab12-cd34ef56`.
    Id(OuId),
    /// `Production (ou-ab12-cd34ef56)`, the form Account Factory lists in its
    /// `ManagedOrganizationalUnit` allowed values.
    NameWithId { name: String, id: OuId },
    /// `Workloads/Production`: OU names from the root down, without the root itself.
    Path(Vec<String>),
    /// `Production`: an OU name at any depth.
    Name(String),
}

impl fmt::Display for OuReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OuReference::Id(id) => write!(f, "{id}"),
            OuReference::NameWithId { name, id } => f.write_str(&format_allowed_value(name, id)),
            OuReference::Path(segments) => write!(f, "{}", segments.join("/")),
            OuReference::Name(name) => f.write_str(name),
        }
    }
}

/// Splits `Name (inner)` into the trimmed name and the trimmed inner text.
fn split_parenthesised_suffix(text: &str) -> Option<(&str, &str)> {
    let (name, inner) = text.strip_suffix(')')?.rsplit_once('(')?;
    Some((name.trim_end(), inner.trim()))
}

/// Parses an OU reference in any of the four forms of [`OuReference`].
///
/// Surrounding whitespace is ignored. A text starting with `ou-` without spaces, slashes or
/// parentheses must be a valid ID. A path may start with `/` or `Root/`, and both are ignored.
/// A root ID (`r-...`) or a path naming only the root is rejected, because Account Factory
/// cannot place accounts in the root.
pub fn parse_ou_reference(text: &str) -> Result<OuReference, OuError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(OuError::Empty);
    }
    if is_root_id(text) {
        return Err(OuError::Root {
            input: text.to_string(),
        });
    }
    if text.starts_with("ou-") && !text.contains(|c: char| c.is_whitespace() || "/()".contains(c)) {
        return OuId::parse(text).map(OuReference::Id);
    }

    if let Some((name, inner)) = split_parenthesised_suffix(text) {
        if is_root_id(inner) {
            return Err(OuError::Root {
                input: text.to_string(),
            });
        }
        if inner.starts_with("ou-") {
            let id = OuId::parse(inner)?;
            if name.is_empty() {
                return Ok(OuReference::Id(id));
            }
            return Ok(OuReference::NameWithId {
                name: name.to_string(),
                id,
            });
        }
    }

    if text.contains('/') {
        return parse_path(text);
    }
    Ok(OuReference::Name(text.to_string()))
}

fn parse_path(text: &str) -> Result<OuReference, OuError> {
    let relative = text.strip_prefix('/').unwrap_or(text);
    if relative.is_empty() {
        return Err(OuError::Root {
            input: text.to_string(),
        });
    }
    let mut segments: Vec<String> = relative.split('/').map(str::to_string).collect();
    if segments.iter().any(String::is_empty) {
        return Err(OuError::EmptyPathSegment {
            input: text.to_string(),
        });
    }
    if segments.first().is_some_and(|first| first == "Root") {
        segments.remove(0);
    }
    if segments.is_empty() {
        return Err(OuError::Root {
            input: text.to_string(),
        });
    }
    Ok(OuReference::Path(segments))
}

/// One organizational unit of the organization, as the caller listed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OuNode {
    pub id: String,
    pub name: String,
    /// ID of the parent OU, or of the root for a top-level OU.
    pub parent_id: String,
    /// Slash path of OU names from the root, for example `Workloads/Production`.
    pub path: String,
    /// Whether AWS Control Tower has registered this OU, so Account Factory can provision
    /// into it.
    pub registered: bool,
}

impl OuNode {
    /// Formats the OU as `path (id)`, the label that error messages use.
    pub fn label(&self) -> String {
        format!("{} ({})", self.path, self.id)
    }
}

/// Returns the labels of every OU for a not-found message, registered ones first and the
/// others marked as not registered.
fn known_labels(ous: &[OuNode]) -> Vec<String> {
    let registered = sorted_labels(ous.iter().filter(|ou| ou.registered));
    let unregistered = sorted_labels(ous.iter().filter(|ou| !ou.registered))
        .into_iter()
        .map(|label| format!("{label}, not registered"));
    registered.into_iter().chain(unregistered).collect()
}

/// Labels of `nodes`, registered OUs first, each group sorted by path.
fn sorted_labels<'a>(nodes: impl IntoIterator<Item = &'a OuNode>) -> Vec<String> {
    let mut nodes: Vec<&OuNode> = nodes.into_iter().collect();
    nodes.sort_by(|a, b| {
        b.registered
            .cmp(&a.registered)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.id.cmp(&b.id))
    });
    nodes.into_iter().map(OuNode::label).collect()
}

/// Resolves a reference to exactly one OU of `ous`.
///
/// Names and paths compare case-sensitively, as Organizations does; when only a
/// case-insensitive match exists, the error names it. Registration is not checked here: call
/// [`require_registered`] on the result.
pub fn resolve_ou<'a>(reference: &OuReference, ous: &'a [OuNode]) -> Result<&'a OuNode, OuError> {
    let input = reference.to_string();
    match reference {
        OuReference::Id(id) => {
            let matches: Vec<&OuNode> = ous.iter().filter(|ou| ou.id == id.as_str()).collect();
            pick_one(input, matches, ous)
        }
        OuReference::NameWithId { name, id } => {
            let matches: Vec<&OuNode> = ous.iter().filter(|ou| ou.id == id.as_str()).collect();
            let node = pick_one(input.clone(), matches, ous)?;
            // Also accept the path, so `Workloads/Production (ou-...)` works.
            if node.name == *name || node.path == *name {
                Ok(node)
            } else {
                Err(OuError::NameMismatch {
                    input,
                    id: node.id.clone(),
                    written: name.clone(),
                    actual: node.name.clone(),
                })
            }
        }
        OuReference::Path(segments) => {
            let path = segments.join("/");
            let matches: Vec<&OuNode> = ous.iter().filter(|ou| ou.path == path).collect();
            if matches.is_empty() {
                case_insensitive_fallback(input, ous, |ou| ou.path.eq_ignore_ascii_case(&path))
            } else {
                pick_one(input, matches, ous)
            }
        }
        OuReference::Name(name) => {
            let matches: Vec<&OuNode> = ous.iter().filter(|ou| ou.name == *name).collect();
            if matches.is_empty() {
                case_insensitive_fallback(input, ous, |ou| ou.name.eq_ignore_ascii_case(name))
            } else {
                pick_one(input, matches, ous)
            }
        }
    }
}

fn pick_one<'a>(
    input: String,
    matches: Vec<&'a OuNode>,
    ous: &[OuNode],
) -> Result<&'a OuNode, OuError> {
    match matches.as_slice() {
        [only] => Ok(only),
        [] => Err(OuError::NotFound {
            input,
            known: known_labels(ous),
        }),
        _ => Err(OuError::Ambiguous {
            input,
            candidates: sorted_labels(matches),
        }),
    }
}

fn case_insensitive_fallback(
    input: String,
    ous: &[OuNode],
    matches_ignoring_case: impl Fn(&OuNode) -> bool,
) -> Result<&OuNode, OuError> {
    let candidates: Vec<&OuNode> = ous.iter().filter(|ou| matches_ignoring_case(ou)).collect();
    if candidates.is_empty() {
        return Err(OuError::NotFound {
            input,
            known: known_labels(ous),
        });
    }
    Err(OuError::CaseMismatch {
        input,
        candidates: sorted_labels(candidates),
    })
}

/// Fails with [`OuError::NotRegistered`] unless Control Tower has registered `node`. The error
/// lists the registered OUs of `ous` as alternatives.
pub fn require_registered(node: &OuNode, ous: &[OuNode]) -> Result<(), OuError> {
    if node.registered {
        return Ok(());
    }
    Err(OuError::NotRegistered {
        path: node.path.clone(),
        id: node.id.clone(),
        registered: sorted_labels(ous.iter().filter(|ou| ou.registered)),
    })
}

/// Parses one of Account Factory's `ManagedOrganizationalUnit` allowed values,
/// `Name (ou-id)`, into the name and the ID. Returns `None` for any other text, including the
/// old name-only form.
pub fn parse_allowed_value(text: &str) -> Option<(String, OuId)> {
    let (name, inner) = split_parenthesised_suffix(text.trim())?;
    if name.is_empty() {
        return None;
    }
    let id = OuId::parse(inner).ok()?;
    Some((name.to_string(), id))
}

/// Formats an OU as Account Factory's `ManagedOrganizationalUnit` expects: `Name (ou-id)`.
pub fn format_allowed_value(name: &str, id: &OuId) -> String {
    format!("{name} ({id})")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRODUCTION_TOP: &str = "ou-ab12-top00001";
    const WORKLOADS: &str = "ou-ab12-work0001";
    const PRODUCTION_NESTED: &str = "ou-ab12-prod0002";
    const KORE_MANAGED: &str = "ou-ab12-kore0001";
    const SANDBOX: &str = "ou-ab12-sand0001";
    const ROOT: &str = "r-ab12";

    fn node(id: &str, name: &str, parent_id: &str, path: &str, registered: bool) -> OuNode {
        OuNode {
            id: id.to_string(),
            name: name.to_string(),
            parent_id: parent_id.to_string(),
            path: path.to_string(),
            registered,
        }
    }

    /// Two OUs named `Production`: one top-level, one under `Workloads`.
    fn organization() -> Vec<OuNode> {
        vec![
            node(PRODUCTION_TOP, "Production", ROOT, "Production", true),
            node(WORKLOADS, "Workloads", ROOT, "Workloads", true),
            node(
                PRODUCTION_NESTED,
                "Production",
                WORKLOADS,
                "Workloads/Production",
                true,
            ),
            node(KORE_MANAGED, "kore-managed", ROOT, "kore-managed", true),
            node(SANDBOX, "Sandbox", ROOT, "Sandbox", false),
        ]
    }

    fn id(text: &str) -> OuId {
        OuId::parse(text).unwrap()
    }

    fn path(segments: &[&str]) -> OuReference {
        OuReference::Path(segments.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn ou_id_parse_table() {
        let cases = [
            ("ou-ab12-cd34ef56", true),
            ("ou-abcd-12345678", true),
            (&*format!("ou-{}-{}", "a".repeat(32), "b".repeat(32)), true),
            ("ou-abc-cd34ef56", false),
            (&*format!("ou-{}-cd34ef56", "a".repeat(33)), false),
            ("ou-ab12-cd34ef5", false),
            (&*format!("ou-ab12-{}", "b".repeat(33)), false),
            ("ou-AB12-cd34ef56", false),
            ("ou-ab12-CD34EF56", false),
            ("ou-ab12_cd34ef56", false),
            ("ou-ab12-cd34-ef56", false),
            ("OU-ab12-cd34ef56", false),
            ("r-ab12", false),
            ("", false),
            (" ou-ab12-cd34ef56", false),
        ];
        for (text, valid) in cases {
            assert_eq!(OuId::parse(text).is_ok(), valid, "id {text:?}");
        }
    }

    #[test]
    fn ou_id_accessors() {
        let parsed = id("ou-ab12-cd34ef56");
        assert_eq!(parsed.as_str(), "ou-ab12-cd34ef56");
        assert_eq!(parsed.to_string(), "ou-ab12-cd34ef56");
        assert_eq!("ou-ab12-cd34ef56".parse::<OuId>(), Ok(parsed.clone()));
        assert_eq!(parsed.into_string(), "ou-ab12-cd34ef56");
    }

    #[test]
    fn parse_reference_forms() {
        let cases: Vec<(&str, OuReference)> = vec![
            ("ou-ab12-cd34ef56", OuReference::Id(id("ou-ab12-cd34ef56"))),
            (
                "  ou-ab12-cd34ef56\n",
                OuReference::Id(id("ou-ab12-cd34ef56")),
            ),
            (
                "Production (ou-ab12-cd34ef56)",
                OuReference::NameWithId {
                    name: "Production".to_string(),
                    id: id("ou-ab12-cd34ef56"),
                },
            ),
            (
                "Shared Services (ou-ab12-cd34ef56)",
                OuReference::NameWithId {
                    name: "Shared Services".to_string(),
                    id: id("ou-ab12-cd34ef56"),
                },
            ),
            (
                "Production(ou-ab12-cd34ef56)",
                OuReference::NameWithId {
                    name: "Production".to_string(),
                    id: id("ou-ab12-cd34ef56"),
                },
            ),
            (
                "(ou-ab12-cd34ef56)",
                OuReference::Id(id("ou-ab12-cd34ef56")),
            ),
            ("Workloads/Production", path(&["Workloads", "Production"])),
            ("/Workloads/Production", path(&["Workloads", "Production"])),
            (
                "Root/Workloads/Production",
                path(&["Workloads", "Production"]),
            ),
            ("/Root/Workloads", path(&["Workloads"])),
            ("/Production", path(&["Production"])),
            ("/ou-legacy", path(&["ou-legacy"])),
            ("Production", OuReference::Name("Production".to_string())),
            (
                "  kore-managed  ",
                OuReference::Name("kore-managed".to_string()),
            ),
            (
                "Shared Services",
                OuReference::Name("Shared Services".to_string()),
            ),
            (
                "Legacy (old)",
                OuReference::Name("Legacy (old)".to_string()),
            ),
            ("Root", OuReference::Name("Root".to_string())),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_ou_reference(text), Ok(expected), "text {text:?}");
        }
    }

    #[test]
    fn parse_reference_errors() {
        let cases: Vec<(&str, OuError)> = vec![
            ("", OuError::Empty),
            ("   ", OuError::Empty),
            (
                "ou-ab12",
                OuError::InvalidId {
                    input: "ou-ab12".to_string(),
                },
            ),
            (
                "ou-AB12-cd34ef56",
                OuError::InvalidId {
                    input: "ou-AB12-cd34ef56".to_string(),
                },
            ),
            (
                "Production (ou-bad)",
                OuError::InvalidId {
                    input: "ou-bad".to_string(),
                },
            ),
            (
                "r-ab12",
                OuError::Root {
                    input: "r-ab12".to_string(),
                },
            ),
            (
                "Root (r-ab12)",
                OuError::Root {
                    input: "Root (r-ab12)".to_string(),
                },
            ),
            (
                "/",
                OuError::Root {
                    input: "/".to_string(),
                },
            ),
            (
                "Root/",
                OuError::EmptyPathSegment {
                    input: "Root/".to_string(),
                },
            ),
            (
                "/Root",
                OuError::Root {
                    input: "/Root".to_string(),
                },
            ),
            (
                "Workloads//Production",
                OuError::EmptyPathSegment {
                    input: "Workloads//Production".to_string(),
                },
            ),
            (
                "Workloads/",
                OuError::EmptyPathSegment {
                    input: "Workloads/".to_string(),
                },
            ),
            (
                "//Workloads",
                OuError::EmptyPathSegment {
                    input: "//Workloads".to_string(),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_ou_reference(text), Err(expected), "text {text:?}");
        }
    }

    #[test]
    fn root_error_says_root_is_not_allowed() {
        let message = parse_ou_reference("r-ab12").unwrap_err().to_string();
        assert!(message.contains("\"r-ab12\""), "{message}");
        assert!(
            message.contains("cannot place accounts in the root"),
            "{message}"
        );
    }

    #[test]
    fn resolve_finds_exactly_one() {
        let ous = organization();
        let cases: Vec<(&str, &str)> = vec![
            (PRODUCTION_NESTED, PRODUCTION_NESTED),
            ("Workloads/Production", PRODUCTION_NESTED),
            ("/Workloads/Production", PRODUCTION_NESTED),
            ("Root/Workloads/Production", PRODUCTION_NESTED),
            ("/Production", PRODUCTION_TOP),
            ("Production (ou-ab12-top00001)", PRODUCTION_TOP),
            ("Production (ou-ab12-prod0002)", PRODUCTION_NESTED),
            ("Workloads/Production (ou-ab12-prod0002)", PRODUCTION_NESTED),
            ("kore-managed", KORE_MANAGED),
            ("Workloads", WORKLOADS),
            // Resolution does not check registration.
            ("Sandbox", SANDBOX),
        ];
        for (text, expected) in cases {
            let reference = parse_ou_reference(text).unwrap();
            let resolved = resolve_ou(&reference, &ous).map(|ou| ou.id.as_str());
            assert_eq!(resolved, Ok(expected), "text {text:?}");
        }
    }

    #[test]
    fn resolve_same_name_is_ambiguous() {
        let ous = organization();
        let reference = parse_ou_reference("Production").unwrap();
        let error = resolve_ou(&reference, &ous).unwrap_err();
        assert_eq!(
            error,
            OuError::Ambiguous {
                input: "Production".to_string(),
                candidates: vec![
                    "Production (ou-ab12-top00001)".to_string(),
                    "Workloads/Production (ou-ab12-prod0002)".to_string(),
                ],
            }
        );
        let message = error.to_string();
        assert_eq!(
            message,
            "\"Production\" matches 2 organizational units: Production (ou-ab12-top00001), \
             Workloads/Production (ou-ab12-prod0002); write the path, the ID or the \
             Name (ou-id) form instead, such as Production (ou-ab12-top00001)"
        );
    }

    #[test]
    fn resolve_typo_lists_known_ous() {
        let ous = organization();
        let reference = parse_ou_reference("kore-manged").unwrap();
        let error = resolve_ou(&reference, &ous).unwrap_err();
        let known = vec![
            "Production (ou-ab12-top00001)".to_string(),
            "Workloads (ou-ab12-work0001)".to_string(),
            "Workloads/Production (ou-ab12-prod0002)".to_string(),
            "kore-managed (ou-ab12-kore0001)".to_string(),
            // Not registered, so listed last and marked.
            "Sandbox (ou-ab12-sand0001), not registered".to_string(),
        ];
        assert_eq!(
            error,
            OuError::NotFound {
                input: "kore-manged".to_string(),
                known,
            }
        );
        let message = error.to_string();
        assert!(message.contains("\"kore-manged\""), "{message}");
        assert!(message.contains("check the spelling"), "{message}");
        assert!(
            message.contains("Did you mean kore-managed (ou-ab12-kore0001)?"),
            "{message}"
        );
    }

    #[test]
    fn resolve_not_found_cases() {
        let ous = organization();
        let cases = [
            "ou-ab12-missing1",
            "Missing (ou-ab12-missing1)",
            "Production/Workloads",
            "/Workloads/Production/Deeper",
            "Nothing",
        ];
        for text in cases {
            let reference = parse_ou_reference(text).unwrap();
            let error = resolve_ou(&reference, &ous).unwrap_err();
            assert!(
                matches!(&error, OuError::NotFound { known, .. } if known.len() == ous.len()),
                "text {text:?}: {error:?}"
            );
        }
    }

    #[test]
    fn resolve_case_difference_is_named() {
        let ous = organization();
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("KORE-MANAGED", vec!["kore-managed (ou-ab12-kore0001)"]),
            (
                "workloads/production",
                vec!["Workloads/Production (ou-ab12-prod0002)"],
            ),
            (
                "production",
                vec![
                    "Production (ou-ab12-top00001)",
                    "Workloads/Production (ou-ab12-prod0002)",
                ],
            ),
        ];
        for (text, candidates) in cases {
            let reference = parse_ou_reference(text).unwrap();
            let error = resolve_ou(&reference, &ous).unwrap_err();
            assert_eq!(
                error,
                OuError::CaseMismatch {
                    input: text.to_string(),
                    candidates: candidates.iter().map(|c| c.to_string()).collect(),
                },
                "text {text:?}"
            );
            assert!(error.to_string().contains("case-sensitive"));
        }
    }

    #[test]
    fn resolve_name_with_wrong_id_is_mismatch() {
        let ous = organization();
        let reference = parse_ou_reference("Staging (ou-ab12-prod0002)").unwrap();
        let error = resolve_ou(&reference, &ous).unwrap_err();
        assert_eq!(
            error,
            OuError::NameMismatch {
                input: "Staging (ou-ab12-prod0002)".to_string(),
                id: PRODUCTION_NESTED.to_string(),
                written: "Staging".to_string(),
                actual: "Production".to_string(),
            }
        );
        assert!(error
            .to_string()
            .contains("write \"Production (ou-ab12-prod0002)\" or the ID alone"));
    }

    #[test]
    fn not_found_lists_at_most_twenty() {
        let ous: Vec<OuNode> = (0..25)
            .map(|i| {
                let name = format!("team-{i:02}");
                node(&format!("ou-ab12-team00{i:02}"), &name, ROOT, &name, true)
            })
            .collect();
        let reference = parse_ou_reference("team-99").unwrap();
        let message = resolve_ou(&reference, &ous).unwrap_err().to_string();
        assert!(message.contains("team-19 (ou-ab12-team0019)"), "{message}");
        assert!(!message.contains("team-20 (ou-ab12-team0020)"), "{message}");
        assert!(message.ends_with(" and 5 more"), "{message}");
    }

    #[test]
    fn not_found_in_empty_organization() {
        let reference = parse_ou_reference("Production").unwrap();
        let message = resolve_ou(&reference, &[]).unwrap_err().to_string();
        assert!(message.contains("has no organizational units"), "{message}");
    }

    #[test]
    fn require_registered_table() {
        let ous = organization();
        for ou in &ous {
            let result = require_registered(ou, &ous);
            assert_eq!(result.is_ok(), ou.registered, "ou {}", ou.path);
        }
        let sandbox = ous.iter().find(|ou| ou.id == SANDBOX).unwrap();
        let error = require_registered(sandbox, &ous).unwrap_err();
        assert_eq!(
            error.to_string(),
            "organizational unit Sandbox (ou-ab12-sand0001) is not registered with AWS Control \
             Tower, so Account Factory cannot provision into it; register it in the Control \
             Tower console (Organization > Register OU) or choose a registered OU: \
             Production (ou-ab12-top00001), Workloads (ou-ab12-work0001), \
             Workloads/Production (ou-ab12-prod0002), kore-managed (ou-ab12-kore0001)"
        );
    }

    #[test]
    fn require_registered_with_none_registered() {
        let ous = vec![node(SANDBOX, "Sandbox", ROOT, "Sandbox", false)];
        let message = require_registered(&ous[0], &ous).unwrap_err().to_string();
        assert!(message.ends_with("no OU is registered yet"), "{message}");
    }

    #[test]
    fn allowed_value_round_trip() {
        let cases: Vec<(&str, Option<(&str, &str)>)> = vec![
            (
                "Production (ou-ab12-cd34ef56)",
                Some(("Production", "ou-ab12-cd34ef56")),
            ),
            (
                "Shared Services (ou-xfe5-a8hb8ml8)",
                Some(("Shared Services", "ou-xfe5-a8hb8ml8")),
            ),
            (
                "Custom (ou-xfe5-a8hb8ml8)",
                Some(("Custom", "ou-xfe5-a8hb8ml8")),
            ),
            ("Production", None),
            ("(ou-ab12-cd34ef56)", None),
            ("Production (ou-bad)", None),
            ("Production (r-ab12)", None),
            ("ou-ab12-cd34ef56", None),
        ];
        for (text, expected) in cases {
            let parsed = parse_allowed_value(text);
            let expected = expected.map(|(name, ou)| (name.to_string(), id(ou)));
            assert_eq!(parsed, expected, "text {text:?}");
            if let Some((name, ou)) = parsed {
                assert_eq!(format_allowed_value(&name, &ou), text);
            }
        }
    }

    #[test]
    fn reference_display_matches_canonical_text() {
        let cases = [
            "ou-ab12-cd34ef56",
            "Production (ou-ab12-cd34ef56)",
            "Workloads/Production",
            "Production",
        ];
        for text in cases {
            assert_eq!(parse_ou_reference(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn typo_suggests_closest_ou() {
        let cases: &[(&str, Option<&str>)] = &[
            ("kore-manged", Some("kore-managed")),
            ("Workloads/Prodution", Some("Workloads/Production")),
            ("Stagin", Some("Workloads/Staging")),
            ("completely-different", None),
        ];
        let labels = vec![
            "kore-managed (ou-ab12-aaaaaaaa)".to_string(),
            "Workloads/Production (ou-ab12-bbbbbbbb)".to_string(),
            "Workloads/Staging (ou-ab12-cccccccc)".to_string(),
        ];
        for (input, expected) in cases {
            let found = closest_label(input, &labels).map(|l| l.split(" (").next().unwrap_or(l));
            assert_eq!(found, *expected, "{input}");
        }
    }

    #[test]
    fn edit_distance_cases() {
        let cases = [
            ("", "", 0),
            ("abc", "abc", 0),
            ("kore-manged", "kore-managed", 1),
            ("a", "b", 1),
            ("abc", "", 3),
        ];
        for (a, b, expected) in cases {
            assert_eq!(edit_distance(a, b), expected, "{a} {b}");
        }
    }
}
