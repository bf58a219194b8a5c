//! Credentials: a chain of sources tried in order, the first that answers wins.
//!
//! Each source kind lives in its own file and implements [`Source`]. A source
//! that does not apply here (variable unset, no kubeconfig, no `VAULT_ADDR`)
//! is *skipped* quietly; one that applies but breaks (403, sealed Vault,
//! timeout) *failed*, and the reason is kept. When nothing answers,
//! [`CredentialError::NothingAnswered`] lists every source tried and why.
//!
//! The trait is synchronous: `url` with an environment variable never starts
//! an async runtime. Network sources start a current-thread runtime inside
//! their own `fetch`, and bound every step with [`Settings::timeout`].
//!
//! Answers of network sources (and of the Secret Service) are kept in a
//! keyring-backed [`cache`] with a TTL (lease-aware for dynamic credentials),
//! so repeated commands answer without the network. A caller whose server
//! rejected a cached password (SQLSTATE 28P01) calls [`refetch_after_rejection`].

pub mod cache;
mod command;
mod env;
mod file;
pub mod keyring;
mod kubernetes;
mod pgpass;
mod prompt;
pub mod runtime;
mod secret;
mod vault;
mod vault_client;
mod vault_database;

use std::sync::RwLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalog::SourceSpec;
use crate::target::Target;

pub use env::override_var;
pub use secret::Secret;

/// A password and who it belongs to.
#[derive(Debug)]
pub struct Credential {
    /// The PostgreSQL user.
    pub user: String,
    /// The password.
    pub password: Secret,
    /// The source that answered, as shown to users (never the value).
    pub source: String,
    /// The lease of dynamic credentials (Vault database engine).
    pub lease: Option<Lease>,
    /// Whether the answer came from the cache rather than the source itself.
    pub cached: bool,
}

/// What a source found.
#[derive(Debug)]
pub struct Found {
    /// The password.
    pub password: Secret,
    /// The user, when the source carries one (dynamic credentials, Secrets
    /// with a `username_key`); otherwise the target's user is kept.
    pub user: Option<String>,
    /// The lease of dynamic credentials.
    pub lease: Option<Lease>,
    /// A more precise description of where the answer came from, shown
    /// instead of the label (e.g. which operator convention named the Secret).
    pub via: Option<String>,
    /// How long the answer may be reused from the cache; `None`: never.
    pub ttl: Option<Duration>,
}

impl Found {
    /// Just a password, not cached.
    pub fn password(password: Secret) -> Self {
        Found {
            password,
            user: None,
            lease: None,
            via: None,
            ttl: None,
        }
    }
}

/// A Vault lease: dynamic credentials valid for `duration` seconds from
/// `renewed_at` (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The lease id (`database/creds/<role>/<id>`); not a secret, but only
    /// shown with `--verbose`.
    pub id: String,
    /// Seconds the lease is valid from `renewed_at`.
    pub duration: u64,
    /// Whether Vault lets it be renewed.
    pub renewable: bool,
    /// When it was issued or last renewed (Unix seconds).
    pub renewed_at: u64,
}

impl Lease {
    /// When the lease ends (Unix seconds).
    pub fn expires_at(&self) -> u64 {
        self.renewed_at.saturating_add(self.duration)
    }

    /// Seconds before the end at which the credentials are no longer handed
    /// out: a tenth of the lease, at least 30 s, at most a quarter of it
    /// (so a short lease still has a window for renewal after its half).
    pub fn margin(&self) -> u64 {
        (self.duration / 10).max(30).min(self.duration / 4)
    }

    /// Whether the credentials may still be handed out at `now`.
    pub fn usable_at(&self, now: u64) -> bool {
        now.saturating_add(self.margin()) < self.expires_at()
    }

    /// Whether a use at `now` should renew it: renewable, and more than half
    /// of the lease has passed.
    pub fn wants_renewal_at(&self, now: u64) -> bool {
        self.renewable && now >= self.renewed_at.saturating_add(self.duration / 2)
    }
}

/// The result of asking one source.
#[derive(Debug)]
pub enum Outcome {
    /// It answered.
    Found(Found),
    /// It does not apply here; the reason is shown only if nothing answers.
    Skipped(String),
    /// It applies but failed; the reason is always worth showing.
    Failed(String),
}

/// One place a password can come from.
pub trait Source {
    /// How the source is shown to users: kind plus where it looks, never a value.
    fn label(&self) -> String;
    /// Asks the source.
    fn fetch(&self) -> Outcome;
    /// Whether the cache is consulted before asking (network sources).
    fn cached(&self) -> bool {
        false
    }
    /// What names the source's cache entry: its label, plus whatever else
    /// changes the answer without changing the label (the kubeconfig's
    /// current context).
    fn cache_key(&self) -> String {
        self.label()
    }
    /// Renews a lease this source handed out; the renewed lease.
    fn renew(&self, lease: &Lease) -> Result<Lease, String> {
        let _ = lease;
        Err("this source hands out no leases".into())
    }
    /// Revokes a lease this source handed out.
    fn revoke(&self, lease: &Lease) -> Result<(), String> {
        let _ = lease;
        Err("this source hands out no leases".into())
    }
}

/// Process-wide settings of the credential sources.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--context`: the kubeconfig context for every Kubernetes source
    /// (wins over a source's own `context`).
    pub kube_context: Option<String>,
    /// Bound on every network step (the catalog's `connect_timeout`).
    pub timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kube_context: None,
            timeout: Duration::from_secs(5),
        }
    }
}

static SETTINGS: RwLock<Option<Settings>> = RwLock::new(None);

/// Sets the process-wide settings (commands call this once).
pub fn configure(settings: Settings) {
    *SETTINGS
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(settings);
}

/// Sets only the network timeout, keeping the other settings.
pub fn configure_timeout(timeout: Duration) {
    let mut s = settings();
    s.timeout = timeout;
    configure(s);
}

/// The current settings.
pub fn settings() -> Settings {
    SETTINGS
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
        .unwrap_or_default()
}

/// One source tried, and why it gave nothing.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The source's label.
    pub source: String,
    /// Why it gave nothing.
    pub reason: String,
    /// Whether it failed (rather than not applying).
    pub failed: bool,
}

/// Why no credential could be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// Every source was tried; none answered.
    #[error("no password for user `{user}` on `{cluster}`; tried:{}", render_attempts(.attempts))]
    NothingAnswered {
        /// The cluster.
        cluster: String,
        /// The user.
        user: String,
        /// Every source tried, in order.
        attempts: Vec<Attempt>,
    },
    /// A keyring operation (`login`, `logout`) failed.
    #[error("{0}")]
    Keyring(String),
}

impl CredentialError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            CredentialError::NothingAnswered {
                cluster,
                user,
                attempts,
            } => {
                let failed = attempts.iter().any(|a| a.failed);
                Some(format!(
                    "{}set {} for this shell, or store it with `pgconn login {cluster} --user {user}`; \
                     --no-password prints the URL without one",
                    if failed {
                        "fix the failing source above, or "
                    } else {
                        ""
                    },
                    override_var(cluster, user)
                ))
            }
            CredentialError::Keyring(_) => Some(
                "PGCONN_KEYRING=secret-service|keyutils chooses the keyring; \
                 PGCONN_PASSWORD_<CLUSTER>_<USER> works without one"
                    .into(),
            ),
        }
    }
}

fn render_attempts(attempts: &[Attempt]) -> String {
    use std::fmt::Write as _;
    attempts.iter().fold(String::new(), |mut out, a| {
        let _ = write!(
            out,
            "\n  - {}: {}{}",
            a.source,
            if a.failed { "FAILED: " } else { "" },
            a.reason
        );
        out
    })
}

/// The sources for a target, in the order they are tried: the
/// `PGCONN_PASSWORD_<CLUSTER>_<USER>` override first, then the catalog's
/// list, or for users without one the default chain (keyring, `.pgpass`,
/// prompt).
pub fn chain(target: &Target<'_>) -> Vec<Box<dyn Source>> {
    let cluster = target.cluster.name.as_str();
    let user = target.user.as_str();
    let mut sources: Vec<Box<dyn Source>> =
        vec![Box::new(env::EnvSource::override_for(cluster, user))];
    if let Some(specs) = target.sources {
        sources.extend(specs.iter().map(|spec| build(spec, target)));
    } else {
        sources.push(Box::new(keyring::KeyringSource::new(None, None, target)));
        sources.push(Box::new(pgpass::PgpassSource::new(None, target)));
        sources.push(Box::new(prompt::PromptSource::new(cluster, user)));
    }
    sources
}

fn build(spec: &SourceSpec, target: &Target<'_>) -> Box<dyn Source> {
    match spec {
        SourceSpec::Env { var } => Box::new(env::EnvSource::new(var.clone())),
        SourceSpec::File { path } => Box::new(file::FileSource::new(path.clone())),
        SourceSpec::Prompt => Box::new(prompt::PromptSource::new(
            &target.cluster.name,
            &target.user,
        )),
        SourceSpec::Pgpass { path } => Box::new(pgpass::PgpassSource::new(path.clone(), target)),
        SourceSpec::Keyring { service, account } => Box::new(keyring::KeyringSource::new(
            service.clone(),
            account.clone(),
            target,
        )),
        SourceSpec::Command { argv } => Box::new(command::CommandSource::new(argv.clone())),
        SourceSpec::Kubernetes {
            secret,
            namespace,
            key,
            username_key,
            context,
        } => Box::new(kubernetes::KubernetesSource::new(
            kubernetes::Spec {
                secret: secret.clone(),
                namespace: namespace.clone(),
                key: key.clone(),
                username_key: username_key.clone(),
                context: context.clone(),
            },
            target,
        )),
        SourceSpec::Vault {
            path,
            field,
            mount,
            kv_version,
        } => Box::new(vault::VaultSource::new(
            path,
            field.clone(),
            mount.clone(),
            *kv_version,
        )),
        SourceSpec::VaultDatabase { role, mount } => Box::new(
            vault_database::VaultDatabaseSource::new(role.clone(), mount.clone()),
        ),
    }
}

/// Where the keyring entry of a target is: the service and account of the
/// user's first `keyring` source, else the defaults (`pgconn`,
/// `<cluster>/<user>`).
pub fn keyring_entry(target: &Target<'_>) -> (String, String) {
    let spec = target.sources.and_then(|specs| {
        specs.iter().find_map(|s| match s {
            SourceSpec::Keyring { service, account } => Some((service.clone(), account.clone())),
            _ => None,
        })
    });
    let (service, account) = spec.unwrap_or((None, None));
    (
        service.unwrap_or_else(|| keyring::DEFAULT_SERVICE.to_string()),
        account.unwrap_or_else(|| keyring::default_account(&target.cluster.name, &target.user)),
    )
}

/// Tries the chain and returns the first credential found, answering from
/// the cache where a source allows it.
pub fn fetch(target: &Target<'_>) -> Result<Credential, CredentialError> {
    fetch_with(target, true)
}

/// Like [`fetch`], but asks every source afresh (the answer still refreshes
/// the cache).
pub fn fetch_fresh(target: &Target<'_>) -> Result<Credential, CredentialError> {
    fetch_with(target, false)
}

/// After the server rejected `credential` (SQLSTATE 28P01): when it came
/// from the cache, drop that entry and fetch afresh once; `Ok(None)` when it
/// did not (asking again would give the same password).
pub fn refetch_after_rejection(
    target: &Target<'_>,
    credential: &Credential,
) -> Result<Option<Credential>, CredentialError> {
    if !credential.cached {
        return Ok(None);
    }
    invalidate(target);
    fetch_fresh(target).map(Some)
}

/// Drops every cache entry of the target's chain.
pub fn invalidate(target: &Target<'_>) {
    let sources = chain(target);
    for cache in cache::Cache::open_all() {
        for source in &sources {
            cache.remove(target, &source.cache_key());
        }
    }
}

fn fetch_with(target: &Target<'_>, read_cache: bool) -> Result<Credential, CredentialError> {
    let mut attempts = Vec::new();
    let mut cache: Option<Option<cache::Cache>> = None;
    for source in chain(target) {
        let label = source.label();
        let key = if source.cached() {
            source.cache_key()
        } else {
            label.clone()
        };
        if source.cached() {
            let store = cache.get_or_insert_with(cache::Cache::open);
            if let Some(store) = store.as_ref().filter(|_| read_cache)
                && let Some(credential) = store.answer(target, &key, source.as_ref())
            {
                return Ok(credential);
            }
        }
        match source.fetch() {
            Outcome::Found(found) => {
                let user = found.user.unwrap_or_else(|| target.user.clone());
                let shown = found.via.unwrap_or_else(|| label.clone());
                let credential = Credential {
                    user,
                    password: found.password,
                    source: shown,
                    lease: found.lease,
                    cached: false,
                };
                if let Some(ttl) = found.ttl {
                    let store = cache.get_or_insert_with(cache::Cache::open);
                    if let Some(store) = store.as_ref() {
                        store.put(target, &key, &credential, ttl);
                    }
                }
                return Ok(credential);
            }
            Outcome::Skipped(reason) => attempts.push(Attempt {
                source: label,
                reason,
                failed: false,
            }),
            Outcome::Failed(reason) => attempts.push(Attempt {
                source: label,
                reason,
                failed: true,
            }),
        }
    }
    Err(CredentialError::NothingAnswered {
        cluster: target.cluster.name.clone(),
        user: target.user.clone(),
        attempts,
    })
}

/// Revokes the leases of the target's cached dynamic credentials and drops
/// its cache entries; what was done, one line each.
pub fn revoke_cached(target: &Target<'_>) -> Vec<String> {
    let mut done = Vec::new();
    let sources = chain(target);
    for store in cache::Cache::open_all() {
        for source in &sources {
            let label = source.label();
            let key = source.cache_key();
            if let Some(entry) = store.get(target, &key) {
                if let Some(lease) = &entry.lease {
                    match source.revoke(lease) {
                        Ok(()) => {
                            done.push(format!("revoked the lease of {} ({label})", entry.user));
                        }
                        Err(e) => done.push(format!("could not revoke the lease of {label}: {e}")),
                    }
                }
                store.remove(target, &key);
                done.push(format!(
                    "dropped the cached answer of {label} ({})",
                    store.store_name()
                ));
            }
        }
    }
    done
}

/// Unix time in seconds.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Shortens a message from a server or a child for an error line: one line,
/// at most 300 characters, and never `secret` itself.
pub(crate) fn sanitize(text: &str, secrets: &[&str]) -> String {
    let mut out: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(s, "<redacted>");
    }
    if out.chars().count() > 300 {
        out = out.chars().take(300).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_margin_and_renewal() {
        let lease = Lease {
            id: "database/creds/app/x".into(),
            duration: 3600,
            renewable: true,
            renewed_at: 1000,
        };
        assert_eq!(lease.margin(), 360);
        assert!(lease.usable_at(1000 + 3600 - 361));
        assert!(!lease.usable_at(1000 + 3600 - 360));
        assert!(!lease.wants_renewal_at(1000 + 1799));
        assert!(lease.wants_renewal_at(1000 + 1800));
        let short = Lease {
            duration: 20,
            ..lease
        };
        assert_eq!(short.margin(), 5);
        assert!(short.usable_at(1000 + 11) && short.wants_renewal_at(1000 + 11));
    }

    #[test]
    fn debug_of_a_credential_hides_the_password() {
        let c = Credential {
            user: "u".into(),
            password: Secret::new("hunter2-debug"),
            source: "env X".into(),
            lease: None,
            cached: true,
        };
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("hunter2-debug"), "{shown}");
        let f = Found::password(Secret::new("hunter2-debug"));
        assert!(!format!("{f:?}").contains("hunter2-debug"));
    }

    #[test]
    fn sanitize_redacts_and_shortens() {
        let s = sanitize("error:\n bad   password hunter2 here", &["hunter2"]);
        assert_eq!(s, "error: bad password <redacted> here");
        assert!(sanitize(&"x".repeat(1000), &[]).chars().count() <= 301);
    }
}
