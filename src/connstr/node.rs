//! node-postgres URL. `sslmode=verify-full` verifies against Node's bundled
//! roots; `sslrootcert` *replaces* them, so it is written only for a private
//! CA. Weaker modes use node-postgres' `no-verify`. Its unnamed statements
//! are safe on transaction pools.

use super::url::Url;
use super::{Params, Rendered};
use crate::catalog::SslMode;

/// Writes the node-postgres URL.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut url = Url::new("postgres");
    let mut notes = Vec::new();
    let mode = match p.sslmode {
        SslMode::Disable => "disable",
        SslMode::Allow | SslMode::Prefer | SslMode::Require => "no-verify",
        SslMode::VerifyCa => {
            notes.push("node-postgres has no verify-ca: verify-full is used (the host name is checked too)".into());
            "verify-full"
        }
        SslMode::VerifyFull => "verify-full",
    };
    url.param("sslmode", mode);
    if let Some(root) = p.private_root_file() {
        url.path_param("sslrootcert", &root.display().to_string());
    }
    Rendered {
        text: url.finish(p, false),
        notes,
    }
}
