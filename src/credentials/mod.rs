//! Credentials: a chain of sources tried in order, the first that answers wins.
//!
//! Each source kind lives in its own file and implements [`Source`]. A source
//! that does not apply here (variable unset, file absent) is *skipped*
//! quietly; one that applies but breaks *failed*, and the reason is kept.
//! When nothing answers, [`CredentialError::NothingAnswered`] lists every
//! source tried and why.

mod env;
mod file;
mod prompt;
mod secret;
mod unsupported;

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
}

/// What a source found.
#[derive(Debug)]
pub struct Found {
    /// The password.
    pub password: Secret,
    /// The user, when the source carries one (dynamic credentials, Secrets
    /// with a `username_key`); otherwise the target's user is kept.
    pub user: Option<String>,
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
}

impl CredentialError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        let CredentialError::NothingAnswered { cluster, user, .. } = self;
        Some(format!(
            "fix a source above, or set {} for this shell; --no-password prints the URL without one",
            override_var(cluster, user)
        ))
    }
}

fn render_attempts(attempts: &[Attempt]) -> String {
    use std::fmt::Write as _;
    attempts.iter().fold(String::new(), |mut out, a| {
        let _ = write!(out, "\n  - {}: {}", a.source, a.reason);
        out
    })
}

/// The sources for a target, in the order they are tried: the
/// `PGCONN_PASSWORD_<CLUSTER>_<USER>` override first, then the catalog's
/// list, or for users without one the default chain.
pub fn chain(target: &Target<'_>) -> Vec<Box<dyn Source>> {
    let cluster = target.cluster.name.as_str();
    let user = target.user.as_str();
    let mut sources: Vec<Box<dyn Source>> =
        vec![Box::new(env::EnvSource::override_for(cluster, user))];
    match target.sources {
        Some(specs) => sources.extend(specs.iter().map(|spec| build(spec, target))),
        None => sources.push(Box::new(prompt::PromptSource::new(cluster, user))),
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
        other => Box::new(unsupported::Unsupported::new(other, target)),
    }
}

/// Tries the chain and returns the first credential found.
pub fn fetch(target: &Target<'_>) -> Result<Credential, CredentialError> {
    let mut attempts = Vec::new();
    for source in chain(target) {
        match source.fetch() {
            Outcome::Found(found) => {
                return Ok(Credential {
                    user: found.user.unwrap_or_else(|| target.user.clone()),
                    password: found.password,
                    source: source.label(),
                });
            }
            Outcome::Skipped(reason) => attempts.push(Attempt {
                source: source.label(),
                reason,
                failed: false,
            }),
            Outcome::Failed(reason) => attempts.push(Attempt {
                source: source.label(),
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
