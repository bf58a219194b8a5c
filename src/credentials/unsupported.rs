//! Source kinds the catalog accepts but this build cannot read yet
//! (kubernetes, vault, `vault_database`, keyring, pgpass, command). They are
//! listed with what they would read, and always fail with a clear reason.

use super::{Outcome, Source};
use crate::catalog::SourceSpec;
use crate::target::Target;

/// A placeholder that explains itself.
#[derive(Debug)]
pub struct Unsupported {
    label: String,
}

impl Unsupported {
    /// Describes `spec` for `target`.
    pub fn new(spec: &SourceSpec, target: &Target<'_>) -> Self {
        let label = match spec {
            SourceSpec::Kubernetes {
                secret, namespace, ..
            } => format!(
                "kubernetes secret {}/{}",
                namespace
                    .as_deref()
                    .or(target.cluster.namespace.as_deref())
                    .unwrap_or("<current namespace>"),
                secret
                    .as_deref()
                    .unwrap_or("<derived from operator conventions>")
            ),
            SourceSpec::Vault { path, .. } => format!("vault {path}"),
            SourceSpec::VaultDatabase { role, mount } => {
                format!(
                    "vault_database {}/creds/{role}",
                    mount.as_deref().unwrap_or("database")
                )
            }
            SourceSpec::Keyring { .. } => "keyring".into(),
            SourceSpec::Pgpass { path } => match path {
                Some(p) => format!("pgpass {}", p.display()),
                None => "pgpass".into(),
            },
            SourceSpec::Command { argv } => format!("command {}", argv[0]),
            SourceSpec::Env { .. } | SourceSpec::File { .. } | SourceSpec::Prompt => {
                unreachable!("implemented sources are built directly")
            }
        };
        Unsupported { label }
    }
}

impl Source for Unsupported {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn fetch(&self) -> Outcome {
        Outcome::Skipped("this source kind is not supported by this pgconn version yet".into())
    }
}
