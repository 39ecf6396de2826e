//! go-plugin's startup contract: the environment Terraform sets for a plugin process,
//! protocol negotiation, and the handshake and reattach lines the plugin prints.

use std::net::SocketAddr;

/// The magic cookie pair Terraform sets for its plugins (Terraform's
/// `internal/plugin/serve.go`; fixed for all protocol versions).
pub(crate) const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub(crate) const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// go-plugin's own protocol version, the first field of the handshake line.
const CORE_PROTOCOL_VERSION: u32 = 1;

/// The only Terraform plugin protocol this provider speaks.
pub(crate) const APP_PROTOCOL_VERSION: u32 = 6;

/// Printed when the binary is run without Terraform's magic cookie.
pub(crate) const NOT_LAUNCHED_BY_TERRAFORM: &str = "\
This binary is a plugin. These are not meant to be executed directly.
terraform-provider-kore is a Terraform provider: it is run by Terraform, which starts it
when a configuration uses the kore provider. Install it and run `terraform plan` or
`terraform apply` instead. To attach a debugger, start it with --debug.";

/// Error in the plugin environment that stops the plugin from starting.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("{NOT_LAUNCHED_BY_TERRAFORM}")]
    NotLaunchedByTerraform,
    #[error(
        "Terraform offered plugin protocol versions {offered:?}, but terraform-provider-kore \
         speaks only protocol 6. Use Terraform 1.0 or later."
    )]
    UnsupportedProtocol { offered: String },
    #[error("invalid {name} {value:?}: expected a port number from 0 to 65535")]
    InvalidPort { name: &'static str, value: String },
    #[error("PLUGIN_MIN_PORT {min} is greater than PLUGIN_MAX_PORT {max}")]
    InvertedPortRange { min: u16, max: u16 },
}

/// Settings that Terraform passes to the plugin through its environment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Environment {
    pub(crate) protocol_version: u32,
    /// Ports to try in order; `0..=0` lets the system pick one.
    pub(crate) ports: std::ops::RangeInclusive<u16>,
    /// The client certificate (PEM) for AutoMTLS; `None` when Terraform disabled TLS.
    pub(crate) client_cert_pem: Option<String>,
}

/// Reads the plugin environment through `lookup` (normally `std::env::var`).
pub(crate) fn read_environment(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Environment, HandshakeError> {
    if lookup(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(HandshakeError::NotLaunchedByTerraform);
    }
    let protocol_version = negotiate(lookup("PLUGIN_PROTOCOL_VERSIONS").as_deref())?;
    let ports = port_range(
        lookup("PLUGIN_MIN_PORT").as_deref(),
        lookup("PLUGIN_MAX_PORT").as_deref(),
    )?;
    let client_cert_pem = lookup("PLUGIN_CLIENT_CERT").filter(|pem| !pem.trim().is_empty());
    Ok(Environment {
        protocol_version,
        ports,
        client_cert_pem,
    })
}

/// Picks protocol 6 from the comma-separated versions the client offers. Like
/// go-plugin, an absent list means the client expects the plugin's own version.
pub(crate) fn negotiate(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(offered) = offered.filter(|text| !text.trim().is_empty()) else {
        return Ok(APP_PROTOCOL_VERSION);
    };
    let speaks_ours = offered
        .split(',')
        .any(|version| version.trim().parse::<u32>() == Ok(APP_PROTOCOL_VERSION));
    if speaks_ours {
        Ok(APP_PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::UnsupportedProtocol {
            offered: offered.to_string(),
        })
    }
}

/// Parses `PLUGIN_MIN_PORT` and `PLUGIN_MAX_PORT` as go-plugin does: an unset bound is 0.
pub(crate) fn port_range(
    min: Option<&str>,
    max: Option<&str>,
) -> Result<std::ops::RangeInclusive<u16>, HandshakeError> {
    let parse = |name: &'static str, value: Option<&str>| -> Result<u16, HandshakeError> {
        match value.map(str::trim).filter(|text| !text.is_empty()) {
            None => Ok(0),
            Some(text) => text.parse().map_err(|_| HandshakeError::InvalidPort {
                name,
                value: text.to_string(),
            }),
        }
    };
    let min = parse("PLUGIN_MIN_PORT", min)?;
    let max = parse("PLUGIN_MAX_PORT", max)?;
    if min > max {
        return Err(HandshakeError::InvertedPortRange { min, max });
    }
    Ok(min..=max)
}

/// Formats the handshake line `CORE|APP|NETWORK|ADDR|PROTOCOL|SERVERCERT`. The
/// certificate is standard base64 without padding, and empty when serving plaintext.
pub(crate) fn handshake_line(
    protocol_version: u32,
    address: SocketAddr,
    server_cert_der: Option<&[u8]>,
) -> String {
    use base64::Engine;
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{protocol_version}|tcp|{address}|grpc|{cert}")
}

/// Builds the `TF_REATTACH_PROVIDERS` value for a server started with `--debug`.
pub(crate) fn reattach_json(provider_address: &str, pid: u32, address: SocketAddr) -> String {
    let value = serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "tcp", "String": address.to_string() },
        }
    });
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn environment(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn missing_cookie_rejected() {
        let result = read_environment(environment(&[("PLUGIN_PROTOCOL_VERSIONS", "5,6")]));
        assert_eq!(result, Err(HandshakeError::NotLaunchedByTerraform));
        let wrong = read_environment(environment(&[(MAGIC_COOKIE_KEY, "nope")]));
        assert_eq!(wrong, Err(HandshakeError::NotLaunchedByTerraform));
        let message = HandshakeError::NotLaunchedByTerraform.to_string();
        assert!(message.starts_with("This binary is a plugin."));
        assert!(message.contains("run by Terraform"));
    }

    #[test]
    fn terraform_environment_accepted() {
        let result = read_environment(environment(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
            ("PLUGIN_MIN_PORT", "10000"),
            ("PLUGIN_MAX_PORT", "25000"),
            ("PLUGIN_CLIENT_CERT", "-----BEGIN CERTIFICATE-----\n..."),
        ]))
        .expect("valid environment");
        assert_eq!(result.protocol_version, 6);
        assert_eq!(result.ports, 10000..=25000);
        assert!(result.client_cert_pem.is_some());
    }

    #[test]
    fn empty_client_cert_means_plaintext() {
        let result = read_environment(environment(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_CLIENT_CERT", ""),
        ]))
        .expect("valid environment");
        assert_eq!(result.client_cert_pem, None);
        assert_eq!(result.ports, 0..=0);
    }

    #[test]
    fn negotiation_picks_six() {
        assert_eq!(negotiate(Some("5,6")), Ok(6));
        assert_eq!(negotiate(Some("6")), Ok(6));
        assert_eq!(negotiate(Some(" 6 , 7")), Ok(6));
        assert_eq!(negotiate(None), Ok(6));
        let rejected = negotiate(Some("4,5")).unwrap_err();
        assert_eq!(
            rejected,
            HandshakeError::UnsupportedProtocol {
                offered: "4,5".into()
            }
        );
        assert!(rejected.to_string().contains("only protocol 6"));
        assert!(negotiate(Some("16")).is_err());
    }

    #[test]
    fn port_range_rules() {
        assert_eq!(port_range(None, None), Ok(0..=0));
        assert_eq!(port_range(Some("10000"), Some("10010")), Ok(10000..=10010));
        assert_eq!(
            port_range(Some("10000"), None),
            Err(HandshakeError::InvertedPortRange { min: 10000, max: 0 })
        );
        assert!(matches!(
            port_range(Some("x"), Some("1")),
            Err(HandshakeError::InvalidPort {
                name: "PLUGIN_MIN_PORT",
                ..
            })
        ));
        assert!(port_range(None, Some("70000")).is_err());
    }

    #[test]
    fn handshake_line_format() {
        let address: SocketAddr = "127.0.0.1:10123".parse().expect("address");
        // Three bytes of DER encode to four base64 characters; two bytes show the padding rule.
        assert_eq!(
            handshake_line(6, address, Some(&[0x30, 0x82])),
            "1|6|tcp|127.0.0.1:10123|grpc|MII"
        );
        assert_eq!(
            handshake_line(6, address, None),
            "1|6|tcp|127.0.0.1:10123|grpc|"
        );
    }

    #[test]
    fn reattach_value_shape() {
        let address: SocketAddr = "127.0.0.1:4000".parse().expect("address");
        let json = reattach_json("registry.terraform.io/appvia/kore", 42, address);
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let entry = &parsed["registry.terraform.io/appvia/kore"];
        assert_eq!(entry["Protocol"], "grpc");
        assert_eq!(entry["ProtocolVersion"], 6);
        assert_eq!(entry["Pid"], 42);
        assert_eq!(entry["Test"], true);
        assert_eq!(entry["Addr"]["Network"], "tcp");
        assert_eq!(entry["Addr"]["String"], "127.0.0.1:4000");
    }
}
