//! Pure rules for the values the provider sends to AWS: email syntax and the generated email
//! alias, names and IDs, deterministic provisioned-product names and provision tokens,
//! organizational unit references, and durations as users write them in `timeouts` blocks.
//!
//! Nothing here performs I/O, so resources and data sources can run these checks at plan time
//! before any AWS call. Every error's `Display` is a sentence that names the bad value, the
//! rule and the fix, ready to be a diagnostic detail.

pub mod duration;
pub mod email;
pub mod names;
pub mod ou;

pub use email::{email_alias, emails_equal, validate_email, EmailError, MAX_EMAIL_LENGTH};
pub use names::{
    provision_token, provisioned_product_name, validate_account_id, validate_account_name,
    validate_installation_name, validate_team, NameError, NameKind,
};
pub use ou::{
    format_allowed_value, parse_allowed_value, parse_ou_reference, require_registered, resolve_ou,
    OuError, OuId, OuNode, OuReference,
};
