//! Prisma URL. Prisma knows only disable/prefer/require (verify-full would
//! silently become prefer): verification is `sslaccept=strict`, a private CA
//! is `sslcert`. On a transaction pooler `pgbouncer=true`, and migrations
//! belong on the direct (admin) endpoint as `directUrl`.

use super::url::Url;
use super::{Params, Rendered};
use crate::catalog::SslMode;

/// Writes the Prisma URL.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut url = Url::new("postgresql");
    let mut notes = Vec::new();
    match p.sslmode {
        SslMode::Disable => {
            url.param("sslmode", "disable");
        }
        SslMode::Allow | SslMode::Prefer | SslMode::Require => {
            let mode = if p.sslmode == SslMode::Require {
                "require"
            } else {
                "prefer"
            };
            url.param("sslmode", mode)
                .param("sslaccept", "accept_invalid_certs");
        }
        SslMode::VerifyCa | SslMode::VerifyFull => {
            url.param("sslmode", "require").param("sslaccept", "strict");
            if p.sslmode == SslMode::VerifyCa {
                notes.push("Prisma has no verify-ca: strict checks the host name too".into());
            }
        }
    }
    if let Some(root) = p.private_root_file() {
        url.path_param("sslcert", &root.display().to_string());
    }
    url.param("connect_timeout", &p.connect_timeout.to_string());
    if p.pool_safe {
        url.param("pgbouncer", "true");
        notes.push(
            "transaction pooler: run migrations through directUrl = the --admin endpoint".into(),
        );
    }
    Rendered {
        text: url.finish(p, false),
        notes,
    }
}
