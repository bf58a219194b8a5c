//! SQLAlchemy with asyncpg: `postgresql+asyncpg://…?ssl=verify-full`.
//! The dialect passes query parameters to `asyncpg.connect` as keywords, so
//! `sslmode=` is a `TypeError` and a root file cannot be named in the URL:
//! asyncpg reads it from `PGSSLROOTCERT`.

use super::url::Url;
use super::{Params, Rendered};

/// Writes the SQLAlchemy+asyncpg URL.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut url = Url::new("postgresql+asyncpg");
    url.param("ssl", p.sslmode.as_str());
    let mut notes = Vec::new();
    if p.pool_safe {
        url.param("prepared_statement_cache_size", "0");
        notes.push(
            "transaction pooler: create_engine(url, poolclass=NullPool, \
             connect_args={\"statement_cache_size\": 0})"
                .into(),
        );
    }
    if let Some(root) = p.root_file() {
        notes.push(format!(
            "asyncpg takes the root certificate from the environment: PGSSLROOTCERT={}",
            root.display()
        ));
    }
    Rendered {
        text: url.finish(p, false),
        notes,
    }
}
