//! go-plugin start-up: magic cookie, protocol negotiation, listener, and the
//! one handshake line Terraform reads from our stdout.

use std::collections::HashMap;
use std::net::SocketAddr;

use base64::Engine;
use tokio::net::TcpListener;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The tfplugin major version we speak.
pub const PLUGIN_PROTOCOL_VERSION: u32 = 6;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HandshakeError {
    #[error(
        "This binary is a plugin. These are not meant to be executed directly.\n\
         Please execute the program that consumes these plugins, which will\n\
         load any plugins automatically"
    )]
    NotLaunchedByTerraform,
    #[error("Terraform offers plugin protocol versions {offered:?}, this provider needs 6 (Terraform 1.0 or later)")]
    UnsupportedProtocol { offered: String },
    #[error("no free port between PLUGIN_MIN_PORT={min} and PLUGIN_MAX_PORT={max}")]
    NoFreePort { min: u16, max: u16 },
}

/// What Terraform told us through the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchEnvironment {
    pub client_cert_pem: Option<String>,
    pub min_port: u16,
    pub max_port: u16,
}

impl LaunchEnvironment {
    /// Reads and checks the variables Terraform sets when it starts a plugin.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, HandshakeError> {
        if vars.get(MAGIC_COOKIE_KEY).map(String::as_str) != Some(MAGIC_COOKIE_VALUE) {
            return Err(HandshakeError::NotLaunchedByTerraform);
        }
        if let Some(offered) = vars.get("PLUGIN_PROTOCOL_VERSIONS") {
            let speaks_ours = offered
                .split(',')
                .any(|v| v.trim().parse::<u32>() == Ok(PLUGIN_PROTOCOL_VERSION));
            if !speaks_ours {
                return Err(HandshakeError::UnsupportedProtocol {
                    offered: offered.clone(),
                });
            }
        }
        let port = |name: &str, default: u16| vars.get(name).and_then(|v| v.parse::<u16>().ok()).unwrap_or(default);
        Ok(Self {
            client_cert_pem: vars
                .get("PLUGIN_CLIENT_CERT")
                .filter(|pem| !pem.trim().is_empty())
                .cloned(),
            min_port: port("PLUGIN_MIN_PORT", 10000),
            max_port: port("PLUGIN_MAX_PORT", 25000),
        })
    }

    /// Binds the first free loopback port in the range Terraform allows.
    pub async fn listen(&self) -> Result<TcpListener, HandshakeError> {
        // Start at a pseudo-random offset so parallel plugins don't race for
        // the same low ports.
        let span = u32::from(self.max_port.saturating_sub(self.min_port)) + 1;
        let offset = std::process::id() % span;
        for i in 0..span {
            let port = self.min_port as u32 + (offset + i) % span;
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", port as u16)).await {
                return Ok(listener);
            }
        }
        Err(HandshakeError::NoFreePort {
            min: self.min_port,
            max: self.max_port,
        })
    }
}

/// The line go-plugin clients parse: `CORE|PROTO|tcp|ADDR|grpc|CERT`, the
/// certificate as DER in unpadded standard base64 (empty without TLS).
pub fn handshake_line(addr: SocketAddr, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PLUGIN_PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn refuses_to_start_without_the_magic_cookie() {
        assert_eq!(
            LaunchEnvironment::from_vars(&vars(&[])),
            Err(HandshakeError::NotLaunchedByTerraform)
        );
        let wrong = vars(&[(MAGIC_COOKIE_KEY, "nope")]);
        assert_eq!(
            LaunchEnvironment::from_vars(&wrong),
            Err(HandshakeError::NotLaunchedByTerraform)
        );
    }

    #[test]
    fn requires_protocol_six_among_those_offered() {
        let only_five = vars(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5"),
        ]);
        assert!(matches!(
            LaunchEnvironment::from_vars(&only_five),
            Err(HandshakeError::UnsupportedProtocol { .. })
        ));
        let both = vars(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
            ("PLUGIN_MIN_PORT", "20000"),
            ("PLUGIN_MAX_PORT", "20010"),
            ("PLUGIN_CLIENT_CERT", "-----BEGIN CERTIFICATE-----"),
        ]);
        let env = LaunchEnvironment::from_vars(&both).unwrap();
        assert_eq!((env.min_port, env.max_port), (20000, 20010));
        assert!(env.client_cert_pem.is_some());
    }

    #[test]
    fn handshake_line_has_unpadded_base64_certificate() {
        let addr: SocketAddr = "127.0.0.1:12345".parse().unwrap();
        // 4 bytes encode to 6 base64 characters plus "==" padding, which must be absent.
        assert_eq!(
            handshake_line(addr, Some(&[1, 2, 3, 4])),
            "1|6|tcp|127.0.0.1:12345|grpc|AQIDBA"
        );
        assert_eq!(handshake_line(addr, None), "1|6|tcp|127.0.0.1:12345|grpc|");
    }

    #[tokio::test]
    async fn listens_on_loopback_within_the_port_range() {
        let env = LaunchEnvironment {
            client_cert_pem: None,
            min_port: 21000,
            max_port: 21100,
        };
        let listener = env.listen().await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback());
        assert!((21000..=21100).contains(&addr.port()));
    }
}
