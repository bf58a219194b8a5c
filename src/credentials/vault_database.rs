//! The `vault_database` source: dynamic credentials from Vault's database
//! engine (`<mount>/creds/<role>`), a user and password with a lease. The
//! cache reuses them until shortly before the lease ends and renews the
//! lease (`sys/leases/renew`) when they are used after half of it;
//! `pgconn logout` revokes it (`sys/leases/revoke`), which drops the role.

use std::time::Duration;

use serde_json::Value;

use super::runtime::block_on;
use super::vault_client::{NO_VAULT, VaultClient, VaultEnv, exchange};
use super::{Found, Lease, Outcome, Secret, Source, now};

/// Dynamic credentials of one database engine role.
#[derive(Debug)]
pub struct VaultDatabaseSource {
    role: String,
    mount: String,
    timeout: Duration,
}

impl VaultDatabaseSource {
    /// The catalog's `vault_database` source; `timeout` bounds every network step.
    pub fn new(role: String, mount: Option<String>, timeout: Duration) -> Self {
        VaultDatabaseSource {
            role,
            mount: mount.map_or_else(|| "database".into(), |m| m.trim_matches('/').to_string()),
            timeout,
        }
    }

    fn creds_path(&self) -> String {
        format!("{}/creds/{}", self.mount, self.role)
    }
}

fn lease_from(v: &Value, fallback_id: &str) -> Lease {
    Lease {
        id: v
            .get("lease_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(fallback_id)
            .to_string(),
        duration: v.get("lease_duration").and_then(Value::as_u64).unwrap_or(0),
        renewable: v.get("renewable").and_then(Value::as_bool).unwrap_or(false),
        renewed_at: now(),
    }
}

async fn issue(
    path: &str,
    env: &VaultEnv,
    timeout: Duration,
) -> Result<(String, Secret, Lease), String> {
    let client = VaultClient::connect(env, timeout).await?;
    let v = client
        .get(path)
        .await
        .map_err(|e| format!("asking {path} for credentials: {e}"))?;
    let user = v.pointer("/data/username").and_then(Value::as_str);
    let password = v.pointer("/data/password").and_then(Value::as_str);
    let (Some(user), Some(password)) = (user, password) else {
        return Err(format!(
            "the answer of {path} has no data.username / data.password"
        ));
    };
    let lease = lease_from(&v, "");
    if lease.id.is_empty() {
        return Err(format!("the answer of {path} has no lease_id"));
    }
    Ok((user.to_string(), Secret::new(password), lease))
}

fn with_client<T>(
    what: &str,
    timeout: Duration,
    f: impl AsyncFnOnce(VaultClient) -> Result<T, String>,
) -> Result<T, String> {
    let env = VaultEnv::from_env().ok_or(NO_VAULT)?;
    block_on(what, timeout * 3, async {
        let client = VaultClient::connect(&env, timeout).await?;
        f(client).await
    })?
}

impl Source for VaultDatabaseSource {
    fn label(&self) -> String {
        let at = VaultEnv::from_env().map_or_else(String::new, |e| format!(" at {}", e.describe()));
        format!("vault_database {}{at}", self.creds_path())
    }

    fn cached(&self) -> bool {
        true
    }

    fn fetch(&self) -> Outcome {
        let path = self.creds_path();
        match exchange(self.timeout, async |env| {
            issue(&path, env, self.timeout).await
        }) {
            None => Outcome::Skipped(NO_VAULT.into()),
            Some(Ok((user, password, lease))) => {
                let mut found = Found::password(password);
                found.user = Some(user);
                found.ttl = Some(Duration::from_secs(lease.duration));
                found.lease = Some(lease);
                Outcome::Found(found)
            }
            Some(Err(e)) => Outcome::Failed(e),
        }
    }

    fn renew(&self, lease: &Lease) -> Result<Lease, String> {
        let body = serde_json::json!({"lease_id": lease.id});
        let id = lease.id.clone();
        with_client(
            "renewing a Vault lease",
            self.timeout,
            async move |client| {
                let v = client
                    .put("sys/leases/renew", &body)
                    .await
                    .map_err(|e| format!("renewing the lease: {e}"))?;
                Ok(lease_from(&v, &id))
            },
        )
    }

    fn revoke(&self, lease: &Lease) -> Result<(), String> {
        let body = serde_json::json!({"lease_id": lease.id});
        with_client(
            "revoking a Vault lease",
            self.timeout,
            async move |client| {
                client
                    .put("sys/leases/revoke", &body)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("revoking the lease: {e}"))
            },
        )
    }
}
