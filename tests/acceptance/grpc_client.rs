//! A gRPC client that talks to the provider the way Terraform's go-plugin client does.
//! It starts the binary with the magic cookie and a client certificate, and reads the
//! handshake line. Then it connects with mutual TLS, trusting only the server
//! certificate from that line. The handshake benchmark uses it too.

#![allow(dead_code)] // Each test target uses a different part of this module.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::transport::{Channel, Endpoint, Uri};

/// Terraform's magic cookie for provider plugins.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client certificate and key, made like go-plugin's: a self-signed CA certificate.
#[derive(Clone)]
pub struct ClientIdentity {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl ClientIdentity {
    pub fn generate() -> ClientIdentity {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose, PKCS_ECDSA_P384_SHA384,
        };
        let key_pair = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("client key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_string()]).expect("client params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "HashiCorp");
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
        let certificate = params.self_signed(&key_pair).expect("client certificate");
        ClientIdentity {
            cert_pem: certificate.pem(),
            cert_der: certificate.der().clone(),
            key_der: key_pair.serialize_der(),
        }
    }
}

/// Accepts exactly the server certificate from the handshake line, as go-plugin's
/// client does by making it the only root CA. webpki itself would reject it, because the
/// certificate is a CA certificate used as an end entity.
#[derive(Debug)]
struct PinnedServerCertificate {
    expected: Vec<u8>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedServerCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let name_ok =
            matches!(server_name, ServerName::DnsName(name) if name.as_ref() == "localhost");
        if end_entity.as_ref() == self.expected.as_slice() && name_ok {
            Ok(ServerCertVerified::assertion())
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
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Opens a gRPC channel over TLS to `address`, trusting only `server_cert_der` and
/// presenting `client` when given.
pub async fn connect_tls(
    address: SocketAddr,
    server_cert_der: &[u8],
    client: Option<&ClientIdentity>,
) -> Result<Channel, tonic::transport::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServerCertificate {
            expected: server_cert_der.to_vec(),
            provider,
        }));
    let mut config = match client {
        Some(identity) => builder
            .with_client_auth_cert(
                vec![identity.cert_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone())),
            )
            .expect("client certificate"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));

    let endpoint = Endpoint::from_shared(format!("http://{address}"))
        .expect("endpoint URI")
        .connect_timeout(Duration::from_secs(5));
    endpoint
        .connect_with_connector(tower::service_fn(move |_uri: Uri| {
            let connector = connector.clone();
            async move {
                let tcp = tokio::net::TcpStream::connect(address).await?;
                let name = ServerName::try_from("localhost").expect("server name");
                let tls = connector.connect(name, tcp).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        }))
        .await
}

/// Opens a plaintext gRPC channel to `address`.
pub async fn connect_plaintext(address: SocketAddr) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_shared(format!("http://{address}"))
        .expect("endpoint URI")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

/// The parsed handshake line.
#[derive(Debug)]
pub struct Handshake {
    pub line: String,
    pub address: SocketAddr,
    pub server_cert_der: Option<Vec<u8>>,
}

/// Parses `1|6|tcp|ADDR|grpc|CERT`.
pub fn parse_handshake(line: &str) -> Handshake {
    use base64::Engine;
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line {line:?}");
    assert_eq!(fields[0], "1", "core protocol in {line:?}");
    assert_eq!(fields[1], "6", "app protocol in {line:?}");
    assert_eq!(fields[2], "tcp", "network in {line:?}");
    assert_eq!(fields[4], "grpc", "protocol in {line:?}");
    let address: SocketAddr = fields[3].parse().expect("handshake address");
    assert!(address.ip().is_loopback(), "{address} is not loopback");
    let server_cert_der = (!fields[5].is_empty()).then(|| {
        assert!(!fields[5].ends_with('='), "certificate has base64 padding");
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(fields[5])
            .expect("certificate base64")
    });
    Handshake {
        line: line.trim_end().to_string(),
        address,
        server_cert_der,
    }
}

/// A provider process started the way Terraform starts it. Killed when dropped.
pub struct PluginProcess {
    pub child: Child,
    pub handshake: Handshake,
    pub client: Option<ClientIdentity>,
    /// Kept open: go-plugin keeps reading stdout after the handshake.
    _stdout: BufReader<ChildStdout>,
}

impl PluginProcess {
    /// Starts the provider binary with AutoMTLS (a fresh client identity) or, when `tls`
    /// is false, as with `TF_DISABLE_PLUGIN_TLS`.
    pub fn start(binary: &std::path::Path, tls: bool) -> PluginProcess {
        PluginProcess::start_with(binary, tls.then(ClientIdentity::generate))
    }

    /// Starts the provider binary with AutoMTLS for `client`, or plaintext for `None`.
    pub fn start_with(binary: &std::path::Path, client: Option<ClientIdentity>) -> PluginProcess {
        let mut command = Command::new(binary);
        command
            .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env_remove("PLUGIN_CLIENT_CERT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(identity) = &client {
            command.env("PLUGIN_CLIENT_CERT", &identity.cert_pem);
        }
        let mut child = command.spawn().expect("start the provider binary");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout pipe"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read the handshake line");
        let handshake = parse_handshake(&line);
        PluginProcess {
            child,
            handshake,
            client,
            _stdout: stdout,
        }
    }

    pub async fn connect(&self) -> Channel {
        match (&self.handshake.server_cert_der, &self.client) {
            (Some(cert), Some(client)) => connect_tls(self.handshake.address, cert, Some(client))
                .await
                .expect("mTLS connection"),
            _ => connect_plaintext(self.handshake.address)
                .await
                .expect("plaintext connection"),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the process to exit and returns its status.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the provider process") {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
