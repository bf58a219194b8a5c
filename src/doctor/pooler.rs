//! Check `pooler`: is a pooler answering, in which mode, does that match
//! the catalog, and what will not work there.
//!
//! Detection, all through the simple query protocol:
//! - `inet_server_port()` differs from the port dialled (PgBouncer talks to
//!   PostgreSQL over a unix socket or another port);
//! - a login to database `pgbouncer` answers `not allowed` or `SHOW VERSION`
//!   (plain PostgreSQL: 3D000);
//! - mode: read `pg_backend_pid()` on session A; session B opens a
//!   transaction; read it on A again. In transaction mode B gets A's server
//!   connection or A gets another; in session mode neither happens.

use std::net::SocketAddr;
use std::time::Duration;

use super::session::Session;
use super::sheet::CheckId;
use super::{Check, Ctx};
use crate::catalog::{Cluster, PoolMode, PoolerKind, Role};
use crate::target::Target;

/// What the probes found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// PostgreSQL answers directly.
    Direct,
    /// A pooler answers.
    Pooled {
        /// PgBouncer's version, when the admin console told it.
        version: Option<String>,
        /// The mode, or why it is unknown.
        mode: Result<PoolMode, String>,
    },
    /// The probes disagree or failed.
    Unknown(String),
}

/// Runs the check.
pub async fn run(
    ctx: &Ctx<'_>,
    target: &Target<'_>,
    session: &Session,
    dialled: SocketAddr,
) -> Check {
    let found = detect(ctx, session, dialled.port()).await;
    let expected = target
        .endpoint
        .pooled
        .then_some(target.cluster.pooler)
        .filter(|p| p.kind != PoolerKind::None);
    judge(&found, expected.map(|p| p.mode), target.cluster)
}

async fn detect(ctx: &Ctx<'_>, session: &Session, port: u16) -> Found {
    let t = ctx.layer_timeout();
    let row = match session
        .row(
            "select coalesce(inet_server_port()::text, 'a unix socket'), pg_backend_pid()::text",
            t,
        )
        .await
    {
        Ok(row) => row,
        Err(e) => return Found::Unknown(format!("inet_server_port() failed: {e}")),
    };
    let server_port = row.first().cloned().flatten().unwrap_or_default();
    let pid = row.get(1).cloned().flatten().unwrap_or_default();
    let by_port = server_port != port.to_string();
    let (console, version) = pgbouncer_console(session, t).await;
    if !by_port && console != Some(true) {
        return Found::Direct;
    }
    Found::Pooled {
        version,
        mode: mode(session, &pid, t).await,
    }
}

/// Logs in to database `pgbouncer`. `Some(true)`: it is PgBouncer's
/// console (with `SHOW VERSION` when this user may ask); `Some(false)`: the
/// server says the database does not exist; `None`: inconclusive.
async fn pgbouncer_console(session: &Session, t: Duration) -> (Option<bool>, Option<String>) {
    match session.another(Some("pgbouncer"), t).await {
        Ok(console) => {
            let version = console.row("SHOW VERSION", t).await.ok();
            (
                Some(true),
                version.and_then(|r| r.first().cloned().flatten()),
            )
        }
        Err(e) => match e.server_error() {
            Some((m, _)) if m.contains("not allowed") || m.contains("no such database") => {
                (Some(true), None)
            }
            Some((_, code)) if code == "3D000" => (Some(false), None),
            _ => (None, None),
        },
    }
}

/// The pool mode, by watching backend pids while another session holds a
/// transaction.
async fn mode(a: &Session, pid1: &str, t: Duration) -> Result<PoolMode, String> {
    let b = a
        .another(None, t)
        .await
        .map_err(|e| format!("a second session failed: {e}"))?;
    let held = match b.row("begin; select pg_backend_pid()::text", t).await {
        Ok(row) => row.first().cloned().flatten().unwrap_or_default(),
        Err(e) if e.to_string().contains("statement pooling") => return Ok(PoolMode::Statement),
        Err(e) => return Err(format!("a transaction on a second session failed: {e}")),
    };
    let short = t.min(Duration::from_secs(2));
    let again = a.row("select pg_backend_pid()::text", short).await;
    let _ = b.row("rollback", t).await;
    match again {
        // A had to wait while B held the only server connection: A had lost its own
        Err(super::session::SessionError::Timeout(_)) => Ok(PoolMode::Transaction),
        Err(e) => Err(format!("the first session failed: {e}")),
        Ok(row) => {
            let pid2 = row.first().cloned().flatten().unwrap_or_default();
            Ok(if held == pid1 || pid2 != pid1 {
                PoolMode::Transaction
            } else {
                PoolMode::Session
            })
        }
    }
}

/// The verdict: found versus what the catalog says (`None` = direct).
pub fn judge(found: &Found, expected: Option<PoolMode>, cluster: &Cluster) -> Check {
    match (found, expected) {
        (Found::Unknown(why), _) => Check::warn(CheckId::Pooler, format!("could not tell whether a pooler answers: {why}")),
        (Found::Direct, None) => Check::ok(CheckId::Pooler, "no pooler: PostgreSQL answers directly, as the catalog says")
            .detail("session features (SET, LISTEN, advisory locks, temp tables, prepared statements) work here"),
        (Found::Direct, Some(m)) => Check::warn(
            CheckId::Pooler,
            format!("PostgreSQL answers directly, but the catalog says a pooler in {m} mode"),
        )
        .hint("fix the catalog (pooled: false, or pooler kind none): pgconn adds pool-safe driver settings that cost performance on a direct connection"),
        (Found::Pooled { version, mode }, expected) => pooled(version.as_deref(), mode, expected, cluster),
    }
}

fn pooled(
    version: Option<&str>,
    mode: &Result<PoolMode, String>,
    expected: Option<PoolMode>,
    cluster: &Cluster,
) -> Check {
    let name = version.unwrap_or("a pooler (PgBouncer)");
    let Some(expected) = expected else {
        let what = match mode {
            Ok(m) => format!("{name} in {m} mode"),
            Err(_) => name.to_string(),
        };
        return Check::warn(CheckId::Pooler, format!("{what} answers, but the catalog says this endpoint is direct (no pooler)"))
            .hint("fix the catalog (pooled: true and the pooler's mode): without it pgconn gives drivers no pool-safe settings");
    };
    let mode = match mode {
        Ok(m) => *m,
        Err(why) => {
            return Check::warn(
                CheckId::Pooler,
                format!("{name} answers; its mode could not be determined"),
            )
            .detail(why.clone());
        }
    };
    let limits = limits(mode, cluster);
    let admin = cluster
        .endpoint(Role::Admin)
        .map(|_| format!("migrations and session features belong on the admin endpoint: `pgconn url {} --admin`", cluster.name))
        .unwrap_or_default();
    if mode == expected {
        return Check::ok(
            CheckId::Pooler,
            format!("{name} in {mode} mode, as the catalog says"),
        )
        .detail(limits)
        .hint(admin);
    }
    Check::warn(
        CheckId::Pooler,
        format!("{name} in {mode} mode, but the catalog says {expected}"),
    )
    .detail(limits)
    .hint("fix the catalog's pooler.mode (or the pooler): driver settings from `pgconn url` follow it")
}

/// What does not work in a mode.
fn limits(mode: PoolMode, cluster: &Cluster) -> String {
    let prepared = if cluster.pooler.max_prepared_statements > 0 {
        format!(
            "protocol-level prepared statements work (max_prepared_statements={}), SQL PREPARE does not",
            cluster.pooler.max_prepared_statements
        )
    } else {
        "named prepared statements do not (drivers need their pool-safe setting, which `pgconn url --format DRIVER` adds)".into()
    };
    match mode {
        PoolMode::Session => "session mode: session state works; each client holds a server connection for its whole session".into(),
        PoolMode::Transaction | PoolMode::Statement => format!(
            "will not work through it: SET/RESET (use SET LOCAL), LISTEN, session advisory locks (use pg_advisory_xact_lock), temporary tables beyond one transaction (ON COMMIT DROP), WITH HOLD cursors, LOAD{}; {prepared}",
            if mode == PoolMode::Statement { ", multi-statement transactions" } else { "" }
        ),
    }
}
