//! The request details an operation handler gets besides its input: the request id and the
//! signer's identity.

use crate::state::LandingZone;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestContext {
    pub request_id: String,
    /// The access key id from the SigV4 `Credential` scope.
    pub access_key_id: Option<String>,
    /// The region from the SigV4 `Credential` scope.
    pub region: Option<String>,
}

/// The identity behind a request.
#[derive(Clone, Debug, PartialEq)]
pub struct Caller {
    pub account_id: String,
    pub arn: String,
    pub user_id: String,
}

impl RequestContext {
    /// Resolves the caller: the assumed role for credentials that AssumeRole issued, otherwise the
    /// landing zone's configured caller, whatever the access key.
    pub fn caller(&self, zone: &LandingZone) -> Caller {
        let session = self.access_key_id.as_deref().and_then(|key| {
            zone.role_sessions
                .iter()
                .find(|session| session.access_key_id == key)
        });
        match session {
            Some(session) => Caller {
                account_id: session.account_id.clone(),
                arn: session.assumed_role_arn.clone(),
                user_id: session.assumed_role_id.clone(),
            },
            None => Caller {
                account_id: zone.caller.account_id.clone(),
                arn: zone.caller.arn.clone(),
                user_id: zone.caller.user_id.clone(),
            },
        }
    }
}

/// Reads the access key id and region from an `Authorization` header such as
/// `AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-2/sts/aws4_request, SignedHeaders=..., Signature=...`.
pub fn parse_credential_scope(authorization: &str) -> (Option<String>, Option<String>) {
    let Some(start) = authorization.find("Credential=") else {
        return (None, None);
    };
    let scope = authorization[start + "Credential=".len()..]
        .split([',', ' '])
        .next()
        .unwrap_or_default();
    let mut parts = scope.split('/');
    let access_key_id = parts
        .next()
        .filter(|key| !key.is_empty())
        .map(str::to_string);
    let region = parts
        .nth(1)
        .filter(|region| !region.is_empty())
        .map(str::to_string);
    (access_key_id, region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sigv4_credential_scope() {
        let header = "AWS4-HMAC-SHA256 Credential=ANOTREAL/20260101/eu-west-2/servicecatalog/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(
            parse_credential_scope(header),
            (Some("ANOTREAL".to_string()), Some("eu-west-2".to_string()))
        );
    }

    #[test]
    fn header_without_scope_gives_nothing() {
        assert_eq!(parse_credential_scope("Bearer x"), (None, None));
    }
}
