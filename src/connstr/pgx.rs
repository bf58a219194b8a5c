//! Go pgx URL. `sslmode=verify-full` without `sslrootcert` uses Go's system
//! roots (every pgx version); on a transaction pooler
//! `default_query_exec_mode=exec` avoids named prepared statements in one
//! round trip.

use super::url::Url;
use super::{Params, Rendered, plain};

/// Writes the pgx URL.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut url = Url::new("postgres");
    url.param("sslmode", p.sslmode.as_str());
    if let Some(root) = p.private_root_file() {
        url.path_param("sslrootcert", &root.display().to_string());
    }
    url.param("connect_timeout", &p.connect_timeout.to_string());
    if p.pool_safe {
        url.param("default_query_exec_mode", "exec");
    }
    plain(url.finish(p, false))
}
