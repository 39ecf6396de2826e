//! AutoMTLS: the server's self-signed certificate and the TLS configuration that accepts
//! only Terraform's client certificate.
//!
//! go-plugin's client trusts the certificate from the handshake line as its root CA, checks
//! the name `localhost`, and presents the certificate it passed in `PLUGIN_CLIENT_CERT`.
//! That client certificate is a self-signed CA certificate, which webpki rejects as an end
//! entity, so the server pins it instead. A client must present exactly those bytes and
//! prove that it has the private key.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Validity of the server certificate: 262,980 hours (about 30 years), as go-plugin uses.
const CERTIFICATE_VALIDITY_HOURS: i64 = 262_980;

/// Error while setting up TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate")]
    NoClientCertificate,
    #[error("PLUGIN_CLIENT_CERT is not a valid PEM certificate: {0}")]
    InvalidClientCertificate(String),
    #[error("generating the server certificate failed: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("building the TLS configuration failed: {0}")]
    Config(#[from] rustls::Error),
}

/// The server's certificate (DER) and its PKCS#8 private key.
pub(crate) struct ServerIdentity {
    pub(crate) cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

/// Generates a self-signed CA certificate for `localhost`, usable for both server and
/// client authentication, like go-plugin's. The key is ECDSA P-256 rather than
/// go-plugin's P-521: Terraform accepts any key its TLS stack supports, and P-256 keeps
/// startup fast.
pub(crate) fn generate_server_identity() -> Result<ServerIdentity, TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    };
    let key_pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;

    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "terraform-provider-kore");

    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    // Backdated a little so a client whose clock runs slightly behind accepts it.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::hours(CERTIFICATE_VALIDITY_HOURS);

    let certificate = params.self_signed(&key_pair)?;
    Ok(ServerIdentity {
        cert_der: certificate.der().clone(),
        key_der: key_pair.serialize_der(),
    })
}

/// Reads the first certificate from a PEM text.
pub(crate) fn parse_certificate_pem(pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    match CertificateDer::pem_slice_iter(pem.as_bytes()).next() {
        None => Err(TlsError::NoClientCertificate),
        Some(Err(error)) => Err(TlsError::InvalidClientCertificate(error.to_string())),
        Some(Ok(certificate)) => Ok(certificate),
    }
}

/// Builds the server TLS configuration: TLS 1.2 or 1.3, ALPN `h2` (grpc-go clients
/// require it), and a client certificate that must equal `client_cert`.
pub(crate) fn server_config(
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<rustls::ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedClientCertificate {
        expected: client_cert,
        algorithms: provider.signature_verification_algorithms,
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![identity.cert_der.clone()], key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly one client certificate, and checks the handshake signature made with
/// its key.
#[derive(Debug)]
struct PinnedClientCertificate {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCertificate {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hints: Go's client then offers its only certificate.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, signature, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, signature, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_certificate_is_a_localhost_ca() {
        let identity = generate_server_identity().expect("identity");
        let (_, parsed) =
            x509_parser::parse_x509_certificate(identity.cert_der.as_ref()).expect("parse DER");
        assert_eq!(
            parsed.subject().to_string(),
            "CN=localhost, O=terraform-provider-kore"
        );
        assert!(parsed.is_ca());
        let san = parsed
            .subject_alternative_name()
            .expect("SAN extension")
            .expect("SAN present");
        assert!(san.value.general_names.iter().any(|name| matches!(
            name,
            x509_parser::extensions::GeneralName::DNSName("localhost")
        )));
        let eku = parsed
            .extended_key_usage()
            .expect("EKU extension")
            .expect("EKU present");
        assert!(eku.value.server_auth);
        assert!(eku.value.client_auth);
        let validity = parsed.validity();
        let years =
            (validity.not_after.timestamp() - validity.not_before.timestamp()) / (365 * 24 * 3600);
        assert_eq!(years, 30);
    }

    #[test]
    fn client_certificate_pem_parsing() {
        let identity = generate_server_identity().expect("identity");
        let pem = pem_of(identity.cert_der.as_ref());
        let parsed = parse_certificate_pem(&pem).expect("parse PEM");
        assert_eq!(parsed.as_ref(), identity.cert_der.as_ref());
        assert!(matches!(
            parse_certificate_pem("not a certificate"),
            Err(TlsError::NoClientCertificate)
        ));
    }

    #[test]
    fn pinned_verifier_accepts_only_the_expected_certificate() {
        let expected = generate_server_identity().expect("identity").cert_der;
        let other = generate_server_identity().expect("identity").cert_der;
        let verifier = PinnedClientCertificate {
            expected: expected.clone(),
            algorithms: rustls::crypto::aws_lc_rs::default_provider()
                .signature_verification_algorithms,
        };
        let now = UnixTime::now();
        assert!(verifier.verify_client_cert(&expected, &[], now).is_ok());
        assert!(verifier.verify_client_cert(&other, &[], now).is_err());
        assert!(verifier.client_auth_mandatory());
        assert!(verifier
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    fn pem_of(der: &[u8]) -> String {
        use base64::Engine;
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }
}
