//! SQLAlchemy with psycopg 3: `postgresql+psycopg://…`. libpq parameters pass
//! through the query string. Behind a transaction pooler psycopg's automatic
//! prepares (after 5 runs of a query) break, which the URL cannot switch off.

use super::url::Url;
use super::{Params, Rendered, libpq};

/// Writes the SQLAlchemy URL.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut url = Url::new("postgresql+psycopg");
    url.libpq_params(libpq::params(p));
    let mut notes = Vec::new();
    if p.pool_safe {
        notes.push(
            "transaction pooler: create_engine(url, poolclass=NullPool, \
             connect_args={\"prepare_threshold\": None})"
                .into(),
        );
    }
    Rendered {
        text: url.finish(p, false),
        notes,
    }
}
