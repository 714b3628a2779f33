//! EKS bearer tokens, made as `aws eks get-token` and aws-iam-authenticator
//! make them: `k8s-aws-v1.` followed by the unpadded base64url of a presigned
//! STS `GetCallerIdentity` URL whose signature covers the `x-k8s-aws-id`
//! header holding the cluster's name
//! (<https://docs.aws.amazon.com/eks/latest/userguide/cluster-auth.html>).
//! Nothing is sent to STS here: EKS executes the URL to learn who the caller is.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header EKS requires signed: it binds the token to one cluster.
const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// What aws-iam-authenticator signs with; EKS accepts a token for 15 minutes
/// from its signing time whatever this says.
const PRESIGN_EXPIRES: Duration = Duration::from_secs(60);
/// How long a token is used before a new one is made (EKS: 15 minutes).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

#[derive(Debug, thiserror::Error)]
#[error("could not sign the EKS token's STS request: {0}")]
pub struct TokenError(String);

/// A token for `cluster_name` in `region`, signed with `credentials` at `now`.
pub fn eks_token(
    credentials: &Credentials,
    region: &str,
    cluster_name: &str,
    now: SystemTime,
) -> Result<String, TokenError> {
    let url = format!(
        "https://{}/?Action=GetCallerIdentity&Version=2011-06-15",
        sts_host(region)
    );
    let identity = Identity::from(credentials.clone());
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRES);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| TokenError(e.to_string()))?;
    let headers = [(CLUSTER_ID_HEADER, cluster_name)];
    let request = SignableRequest::new("GET", url.as_str(), headers.into_iter(), SignableBody::Bytes(&[]))
        .map_err(|e| TokenError(e.to_string()))?;
    let (instructions, _) = sign(request, &params.into())
        .map_err(|e| TokenError(e.to_string()))?
        .into_parts();
    let mut signed = http::Request::builder()
        .method("GET")
        .uri(url.as_str())
        .body(())
        .map_err(|e| TokenError(e.to_string()))?;
    instructions.apply_to_request_http1x(&mut signed);
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(signed.uri().to_string())
    ))
}

/// The regional STS endpoint EKS expects in a token (the China partition's
/// hosts end in `.amazonaws.com.cn`).
fn sts_host(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("sts.{region}.amazonaws.com.cn")
    } else {
        format!("sts.{region}.amazonaws.com")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(token: &str) -> String {
        let raw = token.strip_prefix(TOKEN_PREFIX).expect("prefix");
        String::from_utf8(URL_SAFE_NO_PAD.decode(raw).expect("base64url")).expect("utf-8")
    }

    #[test]
    fn token_is_a_presigned_get_caller_identity_signing_the_cluster_header() {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", Some("session".into()), None, "test");
        let token = eks_token(&credentials, "eu-west-1", "hub", SystemTime::UNIX_EPOCH).expect("token");
        assert!(!token.contains('='), "unpadded: {token}");
        let url = decoded(&token);
        assert!(url.starts_with("https://sts.eu-west-1.amazonaws.com/?"), "{url}");
        for part in [
            "Action=GetCallerIdentity",
            "Version=2011-06-15",
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIDEXAMPLE%2F19700101%2Feu-west-1%2Fsts%2Faws4_request",
            "X-Amz-Expires=60",
            "X-Amz-Security-Token=session",
            "X-Amz-Signature=",
        ] {
            assert!(url.contains(part), "{part} missing from {url}");
        }
        let signed_headers = url
            .split('&')
            .find_map(|p| p.strip_prefix("X-Amz-SignedHeaders="))
            .expect("signed headers");
        assert_eq!(signed_headers, "host%3Bx-k8s-aws-id");
    }

    #[test]
    fn token_differs_per_cluster() {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let a = eks_token(&credentials, "us-east-1", "a", SystemTime::UNIX_EPOCH).expect("token");
        let b = eks_token(&credentials, "us-east-1", "b", SystemTime::UNIX_EPOCH).expect("token");
        assert_ne!(a, b);
        assert!(decoded(&a).starts_with("https://sts.us-east-1.amazonaws.com/"));
    }

    #[test]
    fn china_regions_use_the_cn_sts_host() {
        assert_eq!(sts_host("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
    }
}
