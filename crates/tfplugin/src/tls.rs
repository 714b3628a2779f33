//! AutoMTLS as go-plugin does it: the plugin makes a fresh self-signed server
//! certificate for `localhost` and accepts exactly the client certificate
//! Terraform passed in `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is self-signed with `IsCA: true` (ECDSA
//! P-521/SHA-512). WebPKI's client verifier refuses a CA certificate used as
//! an end entity, so we pin the exact certificate bytes instead and still
//! verify every handshake signature with the crypto provider (aws-lc-rs, which
//! has P-521).

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate: {0}")]
    ClientCert(String),
    #[error("generating the server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("building the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The plugin's own certificate and key, made fresh at every start.
pub struct ServerIdentity {
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    pub fn generate() -> Result<Self, TlsError> {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "eksfleet");
        params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
        // Terraform trusts exactly this certificate as its root.
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::KeyEncipherment,
            rcgen::KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.self_signed(&key_pair)?;
        Ok(Self {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key_pair.serialize_der()),
        })
    }

    /// A rustls server configuration that requires the pinned client certificate.
    pub fn server_config(&self, client_cert_pem: &str) -> Result<ServerConfig, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let pinned = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
            .map_err(|e| TlsError::ClientCert(e.to_string()))?;
        let verifier = Arc::new(PinnedClientCert {
            pinned,
            algorithms: provider.signature_verification_algorithms,
        });
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![self.cert.clone()], PrivateKeyDer::Pkcs8(self.key.clone_key()))?;
        // Terraform's gRPC client drops a connection that doesn't negotiate h2.
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(config)
    }
}

/// Accepts one exact client certificate, verifying the handshake signatures.
#[derive(Debug)]
pub struct PinnedClientCert {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    pub fn new(pinned: CertificateDer<'static>, provider: &CryptoProvider) -> Self {
        Self {
            pinned,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_cert(alg: &'static rcgen::SignatureAlgorithm) -> (rcgen::Certificate, rcgen::KeyPair) {
        // Shaped like go-plugin's: self-signed, IsCA, client and server auth.
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        (params.self_signed(&key).unwrap(), key)
    }

    #[test]
    fn pinned_certificate_is_accepted_and_any_other_refused() {
        let (terraform_cert, _) = client_cert(&rcgen::PKCS_ECDSA_P521_SHA512);
        let (stranger, _) = client_cert(&rcgen::PKCS_ECDSA_P521_SHA512);
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let verifier = PinnedClientCert::new(terraform_cert.der().clone(), &provider);
        let now = UnixTime::now();
        assert!(verifier.verify_client_cert(terraform_cert.der(), &[], now).is_ok());
        assert!(verifier.verify_client_cert(stranger.der(), &[], now).is_err());
    }

    #[test]
    fn verifier_offers_the_p521_scheme_terraform_signs_with() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let (cert, _) = client_cert(&rcgen::PKCS_ECDSA_P521_SHA512);
        let verifier = PinnedClientCert::new(cert.der().clone(), &provider);
        assert!(
            verifier
                .supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
    }

    #[test]
    fn server_config_accepts_a_pem_client_cert_and_negotiates_h2() {
        let (cert, _) = client_cert(&rcgen::PKCS_ECDSA_P521_SHA512);
        let identity = ServerIdentity::generate().unwrap();
        let config = identity.server_config(&cert.pem()).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
        assert!(identity.server_config("not a certificate").is_err());
    }
}
