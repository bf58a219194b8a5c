//! Go pgx URL. `sslmode=verify-full` without `sslrootcert` uses Go's system
//! roots (every pgx version); on a transaction pooler
//! `default_query_exec_mode=exec` (pgx v5) avoids named prepared statements
//! in one round trip. pgx v4 and lib/pq do not know that key and send it to
//! the server as a setting, which PgBouncer refuses (`unsupported startup
//! parameter`): a note says what they use instead (proven with real pgx v4
//! in `tests/drivers.rs`).

use super::url::Url;
use super::{Params, Rendered};

/// What pgx v4 and lib/pq users do with the pool-safe key instead.
pub const OLDER_DRIVERS_NOTE: &str = "default_query_exec_mode=exec is pgx v5's; pgx v4 and lib/pq \
    would send it to the server, which PgBouncer refuses: with pgx v4 put \
    statement_cache_mode=describe in its place, with lib/pq leave it out";

/// Writes the pgx URL.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut url = Url::new("postgres");
    url.param("sslmode", p.sslmode.as_str());
    if let Some(root) = p.private_root_file() {
        url.path_param("sslrootcert", &root.display().to_string());
    }
    url.param("connect_timeout", &p.connect_timeout.to_string());
    let mut notes = Vec::new();
    if p.pool_safe {
        url.param("default_query_exec_mode", "exec");
        notes.push(OLDER_DRIVERS_NOTE.to_string());
    }
    Rendered {
        text: url.finish(p, false),
        notes,
    }
}
