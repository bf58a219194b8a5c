//! libpq URI: `postgresql://user:pass@host:port/db?sslmode=verify-full&…`.
//! libpq decodes only `%XX` (a `+` stays a plus).

use super::url::Url;
use super::{Params, Rendered, libpq, plain};

/// Writes the URI.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut url = Url::new("postgresql");
    for (key, value) in libpq::params(p) {
        url.param(key, value);
    }
    plain(url.finish(p, false))
}
