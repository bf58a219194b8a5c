//! The `vault` source: a field of a KV secret, version 1 or 2 detected the
//! way the vault CLI does (`sys/internal/ui/mounts/<path>`), unless the
//! catalog says `kv_version`. `mount` in the catalog makes `path` relative
//! to it; otherwise the mount is the path's prefix that Vault reports.

use std::time::Duration;

use serde_json::Value;

use super::vault_client::{NO_VAULT, VaultClient, VaultEnv, exchange};
use super::{Found, Outcome, Secret, Source};

/// How long answers are kept in the cache.
const CACHE_TTL: Duration = Duration::from_secs(8 * 3600);

/// Reads one field of a KV secret.
#[derive(Debug)]
pub struct VaultSource {
    path: String,
    field: String,
    mount: Option<String>,
    kv_version: Option<u8>,
    timeout: Duration,
}

impl VaultSource {
    /// The catalog's `vault` source; `timeout` bounds every network step.
    pub fn new(
        path: &str,
        field: Option<String>,
        mount: Option<String>,
        kv_version: Option<u8>,
        timeout: Duration,
    ) -> Self {
        VaultSource {
            path: path.trim_matches('/').to_string(),
            field: field.unwrap_or_else(|| "password".into()),
            mount: mount.map(|m| m.trim_matches('/').to_string()),
            kv_version,
            timeout,
        }
    }

    fn full_path(&self) -> String {
        match &self.mount {
            Some(m) => format!("{m}/{}", self.path),
            None => self.path.clone(),
        }
    }
}

/// The mount of `path` and its KV version.
async fn detect(client: &VaultClient, path: &str) -> Result<(String, u8), String> {
    let v = client
        .get(&format!("sys/internal/ui/mounts/{path}"))
        .await
        .map_err(|e| format!("cannot detect the KV version of {path}: {e}"))?;
    let data = v.get("data").unwrap_or(&Value::Null);
    let mount = data
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim_matches('/')
        .to_string();
    let kind = data.get("type").and_then(Value::as_str).unwrap_or_default();
    if mount.is_empty() {
        return Err(format!("no secrets engine is mounted at {path}"));
    }
    if kind != "kv" && kind != "generic" {
        return Err(format!(
            "{path} is on a `{kind}` mount ({mount}/), not a KV store"
        ));
    }
    let version = data
        .pointer("/options/version")
        .and_then(Value::as_str)
        .map_or(1, |v| if v == "2" { 2 } else { 1 });
    Ok((mount, version))
}

async fn read(source: &VaultSource, env: &VaultEnv, timeout: Duration) -> Result<Secret, String> {
    let client = VaultClient::connect(env, timeout).await?;
    let full = source.full_path();
    let (mount, version) = match (&source.mount, source.kv_version) {
        (Some(m), Some(v)) => (m.clone(), v),
        (m, v) => {
            let (detected_mount, detected) = detect(&client, &full).await?;
            (m.clone().unwrap_or(detected_mount), v.unwrap_or(detected))
        }
    };
    let rest = full
        .strip_prefix(&mount)
        .map_or(full.as_str(), |r| r.trim_start_matches('/'));
    let (api_path, pointer) = if version == 2 {
        (format!("{mount}/data/{rest}"), "/data/data")
    } else {
        (full.clone(), "/data")
    };
    let v = client
        .get(&api_path)
        .await
        .map_err(|e| format!("reading {full} (KV v{version}): {e}"))?;
    let data = v
        .pointer(pointer)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{full} (KV v{version}) holds no data (deleted version?)"))?;
    match data.get(&source.field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(Secret::new(s.as_str())),
        Some(Value::String(_)) => Err(format!("field `{}` of {full} is empty", source.field)),
        Some(_) => Err(format!(
            "field `{}` of {full} is not a string",
            source.field
        )),
        None => {
            let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
            keys.sort_unstable();
            Err(format!(
                "{full} (KV v{version}) has no field `{}`; its fields: {}",
                source.field,
                keys.join(", ")
            ))
        }
    }
}

impl Source for VaultSource {
    fn label(&self) -> String {
        let at = VaultEnv::from_env().map_or_else(String::new, |e| format!(" at {}", e.describe()));
        format!("vault {}#{}{at}", self.full_path(), self.field)
    }

    fn cached(&self) -> bool {
        true
    }

    fn fetch(&self) -> Outcome {
        match exchange(self.timeout, async |env| {
            read(self, env, self.timeout).await
        }) {
            None => Outcome::Skipped(NO_VAULT.into()),
            Some(Ok(password)) => {
                let mut found = Found::password(password);
                found.ttl = Some(CACHE_TTL);
                Outcome::Found(found)
            }
            Some(Err(e)) => Outcome::Failed(e),
        }
    }
}
