//! One cluster's Kubernetes API over HTTPS: trusts only the cluster's CA (as
//! DescribeCluster reports it), sends a bearer token, and turns error answers
//! into their `metav1.Status`
//! (<https://kubernetes.io/docs/reference/using-api/api-concepts/#api-error-responses>).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::Deserialize;

/// A request that gets no answer in this long is a failure, not a hang.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("the cluster's certificate authority is not usable: {0}")]
    CertificateAuthority(String),
    #[error("{0} is not an https:// endpoint")]
    Endpoint(String),
    #[error("could not reach {endpoint}: {detail}")]
    Transport { endpoint: String, detail: String },
    /// The API answered with an error; `status` is its `metav1.Status`.
    #[error("{}", .status.describe(.code))]
    Api { code: StatusCode, status: ApiStatus },
    #[error("unexpected answer from {path}: {detail}")]
    Decode { path: String, detail: String },
}

impl KubeError {
    pub fn code(&self) -> Option<StatusCode> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// The fields of `metav1.Status` an error message needs.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiStatus {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub reason: String,
}

impl ApiStatus {
    fn describe(&self, code: &StatusCode) -> String {
        match (self.reason.is_empty(), self.message.is_empty()) {
            (_, false) if !self.reason.is_empty() => format!("{} {}: {}", code.as_u16(), self.reason, self.message),
            (true, false) => format!("{}: {}", code.as_u16(), self.message),
            _ => format!("{} {}", code.as_u16(), code.canonical_reason().unwrap_or("error")),
        }
    }
}

/// A client for one API server, authenticated with one bearer token.
pub struct KubeApi {
    endpoint: String,
    token: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl KubeApi {
    /// `certificate_authority_data` is DescribeCluster's `certificateAuthority.data`:
    /// base64 of the PEM.
    pub fn new(endpoint: &str, certificate_authority_data: &str, token: String) -> Result<Self, KubeError> {
        if !endpoint.starts_with("https://") {
            return Err(KubeError::Endpoint(endpoint.to_string()));
        }
        let pem = STANDARD
            .decode(certificate_authority_data.trim())
            .map_err(|e| KubeError::CertificateAuthority(format!("not base64: {e}")))?;
        let mut roots = rustls::RootCertStore::empty();
        let mut found = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| KubeError::CertificateAuthority(format!("not PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| KubeError::CertificateAuthority(e.to_string()))?;
            found += 1;
        }
        if found == 0 {
            return Err(KubeError::CertificateAuthority("no certificate in it".into()));
        }
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token,
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `method path` with a JSON body; the answer's body on 2xx, else the
    /// API's Status as `KubeError::Api`.
    pub async fn call(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Result<Bytes, KubeError> {
        let transport = |detail: String| KubeError::Transport {
            endpoint: self.endpoint.clone(),
            detail,
        };
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.endpoint))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::ACCEPT, "application/json")
            .header(
                header::USER_AGENT,
                concat!("terraform-provider-fleet/", env!("CARGO_PKG_VERSION")),
            );
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| transport(e.to_string()))?;
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| transport(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())))?
            .map_err(|e| transport(error_chain(&e)))?;
        let code = answer.status();
        let bytes = answer
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(e.to_string()))?
            .to_bytes();
        if code.is_success() {
            return Ok(bytes);
        }
        // A Status when the API server answered; a bare body from anything in between.
        let status = serde_json::from_slice::<ApiStatus>(&bytes).unwrap_or_else(|_| ApiStatus {
            message: String::from_utf8_lossy(&bytes).trim().chars().take(300).collect(),
            reason: String::new(),
        });
        Err(KubeError::Api { code, status })
    }

    /// A GET decoded as `T`; `None` on 404.
    pub async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Option<T>, KubeError> {
        match self.call(Method::GET, path, None).await {
            Ok(bytes) => decode(path, &bytes).map(Some),
            Err(e) if e.code() == Some(StatusCode::NOT_FOUND) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

pub fn decode<T: serde::de::DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, KubeError> {
    serde_json::from_slice(bytes).map_err(|e| KubeError::Decode {
        path: path.to_string(),
        detail: e.to_string(),
    })
}

/// An error with its sources: hyper's top-level message alone ("client error
/// (Connect)") hides the TLS or connection failure under it.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
