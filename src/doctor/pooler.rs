//! Check `pooler`: is a pooler answering, in which mode, does that match
//! the catalog, and what will not work there.
//!
//! Detection by what only a pooler does, never by addresses or ports (a
//! direct server behind a `LoadBalancer` Service, kube-proxy or NAT listens on
//! another address and port than the one dialled):
//! - PostgreSQL announces its backend's process id at login
//!   (`BackendKeyData`); PgBouncer (and every other pooler) hands each
//!   client a random cancel key of its own. The announced id differs from
//!   `pg_backend_pid()` (from the one probe query) exactly behind a pooler.
//! - Only when that cannot be read: a login to database `pgbouncer` answers
//!   `not allowed` or `SHOW VERSION` (plain PostgreSQL: 3D000).
//! - mode, behind a pooler: after the probe query released session A's
//!   server connection, session B opens a transaction; A reads
//!   `pg_backend_pid()` again. In transaction mode B got A's server
//!   connection or A gets another; in session mode neither happens. B is
//!   opened alongside A's login when the catalog says pooled (so it costs
//!   no round trips of its own), otherwise only once a pooler is found.

use std::future::Future;
use std::pin::{Pin, pin};
use std::time::Duration;

use futures_util::future::{Either, select};

use super::probe::Facts;
use super::session::{Session, SessionError};
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

type Opening<'a> = Pin<Box<dyn Future<Output = Result<Session, SessionError>> + 'a>>;

/// A second session for the pool-mode probe, opened ahead of need.
#[derive(Default)]
pub enum Spare<'a> {
    /// None asked for.
    #[default]
    Idle,
    /// Logging in.
    Opening(Opening<'a>),
    /// Logged in (or failed).
    Open(Box<Result<Session, SessionError>>),
}

impl<'a> Spare<'a> {
    /// Starts opening a session; it progresses while the caller awaits
    /// other work through [`Spare::alongside`].
    pub fn opening(login: impl Future<Output = Result<Session, SessionError>> + 'a) -> Spare<'a> {
        Spare::Opening(Box::pin(login))
    }

    /// Awaits `work` while the spare session keeps logging in.
    pub async fn alongside<T>(&mut self, work: impl Future<Output = T>) -> T {
        let Spare::Opening(opening) = self else {
            return work.await;
        };
        let mut work = pin!(work);
        match select(work.as_mut(), opening.as_mut()).await {
            Either::Left((done, _)) => done,
            Either::Right((opened, _)) => {
                *self = Spare::Open(Box::new(opened));
                work.await
            }
        }
    }

    /// The session, when one was asked for.
    async fn take(&mut self) -> Option<Result<Session, SessionError>> {
        match std::mem::take(self) {
            Spare::Idle => None,
            Spare::Opening(opening) => Some(opening.await),
            Spare::Open(opened) => Some(*opened),
        }
    }
}

/// Runs the check.
pub async fn run(
    ctx: &Ctx<'_>,
    target: &Target<'_>,
    session: &Session,
    facts: &Result<Facts, String>,
    spare: &mut Spare<'_>,
) -> (Check, Found) {
    let found = detect(ctx, session, facts, spare).await;
    let expected = target
        .endpoint
        .pooled
        .then_some(target.cluster.pooler)
        .filter(|p| p.kind != PoolerKind::None);
    let check = judge(&found, expected.map(|p| p.mode), target.cluster);
    (check, found)
}

async fn detect(
    ctx: &Ctx<'_>,
    session: &Session,
    facts: &Result<Facts, String>,
    spare: &mut Spare<'_>,
) -> Found {
    let t = ctx.layer_timeout();
    let backend_pid = facts.as_ref().ok().and_then(|f| f.backend_pid);
    let (pooled, version) = match by_cancel_key(session.announced_pid, backend_pid) {
        Some(pooled) => (Some(pooled), None),
        None => pgbouncer_console(session, t).await,
    };
    match (pooled, backend_pid) {
        (Some(false), _) => Found::Direct,
        (None, _) => Found::Unknown(match facts {
            Err(e) => format!("pg_backend_pid() failed: {e}"),
            Ok(_) => "neither the login's process id nor database pgbouncer told".into(),
        }),
        (Some(true), Some(pid)) => Found::Pooled {
            version,
            mode: mode(session, pid, spare, t).await,
        },
        (Some(true), None) => Found::Pooled {
            version,
            mode: Err("pg_backend_pid() did not answer".into()),
        },
    }
}

/// Whether a pooler answers, from the process id announced at login and the
/// one serving queries: PostgreSQL announces its own backend's, a pooler a
/// random key of its own. `None` when either is unknown.
fn by_cancel_key(announced: Option<i32>, serving: Option<i32>) -> Option<bool> {
    Some(announced? != serving?)
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
async fn mode(
    a: &Session,
    pid1: i32,
    spare: &mut Spare<'_>,
    t: Duration,
) -> Result<PoolMode, String> {
    let pid1 = pid1.to_string();
    let b = match spare.take().await {
        Some(opened) => opened,
        None => a.another(None, t).await,
    }
    .map_err(|e| format!("a second session failed: {e}"))?;
    let held = match b.row("begin; select pg_backend_pid()::text", t).await {
        Ok(row) => row.first().cloned().flatten().unwrap_or_default(),
        Err(e) if e.to_string().contains("statement pooling") => return Ok(PoolMode::Statement),
        Err(e) => return Err(format!("a transaction on a second session failed: {e}")),
    };
    // B's rollback may overtake A's query: in transaction mode A then gets
    // B's released server (A's old one, or another: pid2 != pid1 either
    // way); in session mode A keeps its own. So both go at once.
    let short = t.min(Duration::from_secs(2));
    let (again, _) = futures_util::join!(
        a.row("select pg_backend_pid()::text", short),
        b.row("rollback", t)
    );
    match again {
        // A had to wait while B held the only server connection: A had lost its own
        Err(SessionError::Timeout(_)) => Ok(PoolMode::Transaction),
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
            .detail("the server process is the one announced at login (a pooler announces its own cancel key); session features (SET, LISTEN, advisory locks, temp tables, prepared statements) work here"),
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

#[cfg(test)]
mod tests {
    use super::by_cancel_key;

    #[test]
    fn a_pooler_is_told_by_its_own_cancel_key_not_by_ports() {
        assert_eq!(by_cancel_key(Some(4242), Some(4242)), Some(false));
        assert_eq!(by_cancel_key(Some(-1_939_576_311), Some(4242)), Some(true));
        assert_eq!(by_cancel_key(None, Some(4242)), None);
        assert_eq!(by_cancel_key(Some(4242), None), None);
    }
}
