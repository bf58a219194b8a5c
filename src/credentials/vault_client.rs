//! What the Vault sources share: finding the server, the token and the CA
//! the way the vault CLI does, the auth methods, and requests with
//! actionable errors.
//!
//! - `VAULT_ADDR` (absent: the sources do not apply), `VAULT_NAMESPACE`
//!   (sent as `X-Vault-Namespace`), `VAULT_CACERT` (a PEM bundle trusted in
//!   addition to the system roots), `VAULT_SKIP_VERIFY`.
//! - The token, first that exists: `VAULT_TOKEN`; `AppRole` login with
//!   `VAULT_ROLE_ID` + `VAULT_SECRET_ID` (mount `VAULT_APPROLE_MOUNT`,
//!   default `approle`); Kubernetes login with `VAULT_K8S_ROLE` and the pod's
//!   service-account token (`VAULT_K8S_TOKEN_PATH`, default
//!   `/var/run/secrets/kubernetes.io/serviceaccount/token`; mount
//!   `VAULT_K8S_MOUNT`, default `kubernetes`); then `~/.vault-token` (what
//!   `vault login` writes).
//!   Explicit CI configuration (`AppRole`, Kubernetes) wins over the file a
//!   developer's `vault login` left behind.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::Secret;
use crate::knowledge::sanitize_redacted;

/// Where Vault is, from the environment.
#[derive(Debug, Clone)]
pub struct VaultEnv {
    /// `VAULT_ADDR` without a trailing slash.
    pub addr: String,
    /// `VAULT_NAMESPACE`.
    pub namespace: Option<String>,
    cacert: Option<PathBuf>,
    skip_verify: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl VaultEnv {
    /// `None` when `VAULT_ADDR` is unset (the Vault sources do not apply).
    pub fn from_env() -> Option<VaultEnv> {
        let addr = var("VAULT_ADDR")?.trim().trim_end_matches('/').to_string();
        Some(VaultEnv {
            addr,
            namespace: var("VAULT_NAMESPACE"),
            cacert: var("VAULT_CACERT").map(PathBuf::from),
            skip_verify: var("VAULT_SKIP_VERIFY")
                .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "TRUE" | "True")),
        })
    }

    /// `VAULT_ADDR`, with the namespace when there is one (for labels).
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} namespace {ns}", self.addr),
            None => self.addr.clone(),
        }
    }
}

/// An authenticated client.
pub struct VaultClient {
    env: VaultEnv,
    http: reqwest::Client,
    token: Secret,
    /// How the token was obtained (for messages).
    pub auth: String,
}

/// A failed request, already phrased for users.
#[derive(Debug)]
pub struct VaultError {
    /// The message.
    pub message: String,
}

impl std::fmt::Display for VaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The text of a refused redirect, recognised again in [`transport_error`].
const OTHER_ORIGIN: &str = "redirect to another origin refused";

/// Redirects are followed only within `VAULT_ADDR`'s origin (scheme, host and
/// port: so never https→http), at most five: the token header goes with
/// every request, and must never reach another server.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !same {
            let to = attempt.url().as_str().to_string();
            attempt.error(format!("{OTHER_ORIGIN}: {to}"))
        } else if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else {
            attempt.follow()
        }
    })
}

fn transport_error(addr: &str, e: &reqwest::Error) -> VaultError {
    use std::error::Error as _;
    if e.is_redirect() {
        let mut detail = String::new();
        let mut source = e.source();
        while let Some(s) = source {
            detail = s.to_string();
            source = s.source();
        }
        return VaultError {
            message: format!(
                "VAULT_ADDR {addr} answered with a redirect pgconn does not follow ({}); \
                 the token was not sent there. Set VAULT_ADDR to the server that answers \
                 (redirects are followed only within the same scheme, host and port)",
                sanitize_redacted(&detail, &[])
            ),
        };
    }
    let detail = crate::net::error_chain(e);
    let what = if e.is_timeout() {
        "no answer in time from"
    } else if e.is_connect() {
        "cannot connect to"
    } else {
        "request failed to"
    };
    let mut message = format!(
        "{what} VAULT_ADDR {addr}: {}",
        sanitize_redacted(&detail, &[])
    );
    if detail.contains("UnknownIssuer") {
        message
            .push_str(" (set VAULT_CACERT to the CA that signed the Vault server's certificate)");
    }
    VaultError { message }
}

fn http_client(env: &VaultEnv, timeout: Duration) -> Result<reqwest::Client, String> {
    super::runtime::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout)
        .no_proxy()
        .redirect(same_origin_redirects())
        .user_agent(concat!("pgconn/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &env.cacert {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read VAULT_CACERT {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("VAULT_CACERT {} is not a PEM bundle: {e}", path.display()))?;
        builder = builder.tls_certs_merge(certs);
    }
    if env.skip_verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

/// The path of the vault CLI's token helper file.
fn token_file() -> Option<PathBuf> {
    dirs::home_dir().map(|h| h.join(".vault-token"))
}

impl VaultClient {
    /// Builds the client and obtains a token (logging in when configured to).
    pub async fn connect(env: &VaultEnv, timeout: Duration) -> Result<VaultClient, String> {
        let http = http_client(env, timeout)?;
        let mut client = VaultClient {
            env: env.clone(),
            http,
            token: Secret::new(""),
            auth: String::new(),
        };
        if let Some(token) = var("VAULT_TOKEN") {
            client.token = Secret::new(token.trim());
            client.auth = "VAULT_TOKEN".into();
            return Ok(client);
        }
        if let (Some(role_id), Some(secret_id)) = (var("VAULT_ROLE_ID"), var("VAULT_SECRET_ID")) {
            let mount = var("VAULT_APPROLE_MOUNT").unwrap_or_else(|| "approle".into());
            let body = serde_json::json!({"role_id": role_id, "secret_id": secret_id});
            let auth = format!("AppRole login (auth/{mount}, VAULT_ROLE_ID)");
            return client.logged_in(auth, &mount, &body).await;
        }
        if let Some(role) = var("VAULT_K8S_ROLE") {
            let mount = var("VAULT_K8S_MOUNT").unwrap_or_else(|| "kubernetes".into());
            let path = var("VAULT_K8S_TOKEN_PATH")
                .unwrap_or_else(|| "/var/run/secrets/kubernetes.io/serviceaccount/token".into());
            let jwt = std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "VAULT_K8S_ROLE is set but the service-account token {path} cannot be read: {e}"
                )
            })?;
            let body = serde_json::json!({"role": role, "jwt": jwt.trim()});
            let auth = format!("Kubernetes login (auth/{mount}, role {role})");
            return client.logged_in(auth, &mount, &body).await;
        }
        if let Some(path) = token_file()
            && let Ok(text) = std::fs::read_to_string(&path)
            && !text.trim().is_empty()
        {
            client.token = Secret::new(text.trim());
            client.auth = format!("token from {}", path.display());
            return Ok(client);
        }
        Err(format!(
            "no Vault token for {}: set VAULT_TOKEN, run `vault login` (~/.vault-token), \
             or set VAULT_ROLE_ID + VAULT_SECRET_ID (AppRole) or VAULT_K8S_ROLE (in a pod)",
            env.addr
        ))
    }

    /// Logs in at `auth/<mount>/login` and keeps the token, `auth` naming how.
    async fn logged_in(mut self, auth: String, mount: &str, body: &Value) -> Result<Self, String> {
        self.auth = auth;
        self.token = self
            .login(&format!("auth/{mount}/login"), body)
            .await
            .map_err(|e| format!("{} failed: {e}", self.auth))?;
        Ok(self)
    }

    async fn login(&self, path: &str, body: &Value) -> Result<Secret, VaultError> {
        let v = self
            .send(reqwest::Method::POST, path, Some(body), false)
            .await?;
        v.pointer("/auth/client_token")
            .and_then(Value::as_str)
            .map(Secret::new)
            .ok_or_else(|| VaultError {
                message: "the login answer has no auth.client_token".into(),
            })
    }

    /// `GET /v1/<path>`.
    pub async fn get(&self, path: &str) -> Result<Value, VaultError> {
        self.send(reqwest::Method::GET, path, None, true).await
    }

    /// `PUT /v1/<path>` with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, VaultError> {
        self.send(reqwest::Method::PUT, path, Some(body), true)
            .await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        with_token: bool,
    ) -> Result<Value, VaultError> {
        let url = format!("{}/v1/{}", self.env.addr, path.trim_start_matches('/'));
        let mut req = self.http.request(method, &url);
        if with_token {
            req = req.header("X-Vault-Token", self.token.expose());
        }
        if let Some(ns) = &self.env.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| transport_error(&self.env.addr, &e))?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| transport_error(&self.env.addr, &e))?;
        if (200..300).contains(&status) {
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|e| VaultError {
                message: format!(
                    "{} answered with something that is not JSON: {e}",
                    self.env.addr
                ),
            });
        }
        let errors = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("errors").and_then(Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("; ")
                })
            })
            .unwrap_or_default();
        let errors = sanitize_redacted(&errors, &[self.token.expose()]);
        let message = match status {
            403 => format!(
                "permission denied (403) for {path} with the {}: the token's policies do not allow it, or it expired{}",
                self.auth,
                if errors.is_empty() {
                    String::new()
                } else {
                    format!(" ({errors})")
                }
            ),
            404 => format!(
                "nothing at {path} (404){}",
                if errors.is_empty() {
                    String::new()
                } else {
                    format!(": {errors}")
                }
            ),
            503 if errors.contains("sealed") => format!(
                "Vault at {} is sealed (503): ask an operator to unseal it",
                self.env.addr
            ),
            _ => format!(
                "{} answered {status} for {path}{}",
                self.env.addr,
                if errors.is_empty() {
                    String::new()
                } else {
                    format!(": {errors}")
                }
            ),
        };
        Err(VaultError { message })
    }
}

/// One bounded exchange with the Vault named by the environment: every step
/// within `timeout`, the whole within three. `None` when `VAULT_ADDR` is
/// unset (the source does not apply).
pub(super) fn exchange<T>(
    timeout: Duration,
    f: impl AsyncFnOnce(&VaultEnv) -> Result<T, String>,
) -> Option<Result<T, String>> {
    let env = VaultEnv::from_env()?;
    let what = format!("Vault {}", env.addr);
    Some(super::runtime::block_on(&what, timeout * 3, f(&env)).and_then(|r| r))
}

/// Why a Vault source does not apply.
pub(super) const NO_VAULT: &str = "VAULT_ADDR is not set";
