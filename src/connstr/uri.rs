//! libpq URI: `postgresql://user:pass@host:port/db?sslmode=verify-full&…`.
//! libpq decodes only `%XX` (a `+` stays a plus).

use super::url::Url;
use super::{Params, Rendered, libpq};

/// Writes the URI.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut url = Url::new("postgresql");
    url.libpq_params(libpq::params(p));
    Rendered {
        text: url.finish(p, false),
        notes: libpq::pool_notes(p),
    }
}
