//! asyncpg DSN. asyncpg understands `sslmode` and `sslrootcert` in the DSN
//! but not `sslrootcert=system` (and without a root file verify-full fails),
//! so system roots are written as the OS bundle path. Unknown DSN keys are
//! sent to the server as settings, so nothing else goes in.

use super::url::Url;
use super::{Params, Rendered};

/// Writes the asyncpg DSN.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut url = Url::new("postgresql");
    url.param("sslmode", p.sslmode.as_str());
    let mut notes = Vec::new();
    match p.root_file() {
        Some(root) => {
            url.path_param("sslrootcert", &root.display().to_string());
        }
        None if p.sslmode.verifies_chain() => {
            notes.push("no CA bundle found on this machine: give asyncpg sslrootcert=PATH".into());
        }
        None => {}
    }
    if p.pool_safe {
        notes.push(
            "transaction pooler: asyncpg.connect(dsn, statement_cache_size=0) \
             (asyncpg ignores it in the DSN)"
                .into(),
        );
    }
    Rendered {
        text: url.finish(p, false),
        notes,
    }
}
