//! Namespaced Secrets (core/v1): get, create, replace and delete, as the
//! Kubernetes API reference gives them
//! (<https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/secret-v1/>).
//! `data` values travel base64-encoded; here they are plain strings.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::api::{KubeApi, KubeError, decode};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Optimistic concurrency: a replace naming an older version gets 409.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
}

/// A Secret with its `data` decoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Secret {
    pub metadata: ObjectMeta,
    pub type_: String,
    pub data: BTreeMap<String, String>,
}

/// The wire form.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecretObject {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    metadata: ObjectMeta,
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    type_: String,
    #[serde(default)]
    data: BTreeMap<String, String>,
}

impl Secret {
    fn to_wire(&self) -> Vec<u8> {
        let object = SecretObject {
            api_version: "v1".into(),
            kind: "Secret".into(),
            metadata: self.metadata.clone(),
            type_: self.type_.clone(),
            data: self.data.iter().map(|(k, v)| (k.clone(), STANDARD.encode(v))).collect(),
        };
        serde_json::to_vec(&object).unwrap_or_default()
    }

    fn from_wire(path: &str, bytes: &[u8]) -> Result<Self, KubeError> {
        let object: SecretObject = decode(path, bytes)?;
        let mut data = BTreeMap::new();
        for (key, value) in object.data {
            let raw = STANDARD.decode(value).map_err(|e| KubeError::Decode {
                path: path.to_string(),
                detail: format!("data.{key} is not base64: {e}"),
            })?;
            data.insert(key, String::from_utf8_lossy(&raw).into_owned());
        }
        Ok(Self {
            metadata: object.metadata,
            type_: object.type_,
            data,
        })
    }
}

fn collection(namespace: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/secrets")
}

fn item(namespace: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/secrets/{name}")
}

impl KubeApi {
    /// The Secret, or `None` when there is none of that name.
    pub async fn find_secret(&self, namespace: &str, name: &str) -> Result<Option<Secret>, KubeError> {
        let path = item(namespace, name);
        match self.call(Method::GET, &path, None).await {
            Ok(bytes) => Secret::from_wire(&path, &bytes).map(Some),
            Err(e) if e.code() == Some(StatusCode::NOT_FOUND) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// POST: 409 AlreadyExists when the name is taken, 404 when the namespace is missing.
    pub async fn create_secret(&self, secret: &Secret) -> Result<Secret, KubeError> {
        let path = collection(&secret.metadata.namespace);
        let bytes = self.call(Method::POST, &path, Some(secret.to_wire())).await?;
        Secret::from_wire(&path, &bytes)
    }

    /// PUT of the whole object; with `resource_version` set, 409 Conflict when
    /// the Secret changed since that version was read.
    pub async fn replace_secret(&self, secret: &Secret) -> Result<Secret, KubeError> {
        let path = item(&secret.metadata.namespace, &secret.metadata.name);
        let bytes = self.call(Method::PUT, &path, Some(secret.to_wire())).await?;
        Secret::from_wire(&path, &bytes)
    }

    /// DELETE; a Secret already gone is not an error.
    pub async fn delete_secret(&self, namespace: &str, name: &str) -> Result<(), KubeError> {
        match self.call(Method::DELETE, &item(namespace, name), None).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(StatusCode::NOT_FOUND) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_base64_on_the_wire_and_plain_in_memory() {
        let secret = Secret {
            metadata: ObjectMeta {
                name: "edge".into(),
                namespace: "argocd".into(),
                ..Default::default()
            },
            type_: "Opaque".into(),
            data: BTreeMap::from([("server".to_string(), "https://x".to_string())]),
        };
        let wire = secret.to_wire();
        let json: serde_json::Value = serde_json::from_slice(&wire).expect("json");
        assert_eq!(json["data"]["server"], "aHR0cHM6Ly94");
        assert_eq!(json["kind"], "Secret");
        assert!(json["metadata"].get("resourceVersion").is_none());
        assert_eq!(Secret::from_wire("p", &wire).expect("decode"), secret);
    }
}
