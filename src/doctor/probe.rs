//! The one query after login that routing, pooler, lag and the egress IP
//! all read: a single statement through the simple query protocol (safe
//! behind any pooler), so the whole endpoint needs one query round trip.

use std::net::IpAddr;

use super::Ctx;
use super::session::Session;

/// One row answers every later layer.
const FACTS_SQL: &str = "select pg_is_in_recovery(), pg_backend_pid(), \
    host(inet_client_addr()), \
    coalesce(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false), \
    extract(epoch from now() - pg_last_xact_replay_timestamp())";

/// What the server said about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// `pg_is_in_recovery()`, when it answered `t` or `f`.
    pub in_recovery: Option<bool>,
    /// The raw answer of `pg_is_in_recovery()`, for messages.
    pub recovery_text: Option<String>,
    /// `pg_backend_pid()`: the server process serving this query.
    pub backend_pid: Option<i32>,
    /// `inet_client_addr()`: the address the server sees (a pooler's own,
    /// behind a pooler).
    pub client_addr: Option<IpAddr>,
    /// Everything received is replayed (replicas).
    pub caught_up: bool,
    /// Seconds since the last replayed transaction (replicas).
    pub replay_age: Option<f64>,
}

/// Asks; the error text when the query failed.
pub async fn ask(ctx: &Ctx<'_>, session: &Session) -> Result<Facts, String> {
    let row = session
        .row(FACTS_SQL, ctx.layer_timeout())
        .await
        .map_err(|e| e.to_string())?;
    Ok(parse(&row))
}

fn parse(row: &[Option<String>]) -> Facts {
    let cell = |i: usize| row.get(i).cloned().flatten();
    let recovery_text = cell(0);
    Facts {
        in_recovery: match recovery_text.as_deref() {
            Some("t") => Some(true),
            Some("f") => Some(false),
            _ => None,
        },
        recovery_text,
        backend_pid: cell(1).and_then(|p| p.parse().ok()),
        client_addr: cell(2).and_then(|a| a.parse().ok()),
        caught_up: cell(3).as_deref() == Some("t"),
        replay_age: cell(4).and_then(|s| s.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn one_row_answers_every_layer() {
        let row = |v: &[Option<&str>]| v.iter().map(|c| c.map(str::to_string)).collect::<Vec<_>>();
        let f = parse(&row(&[
            Some("t"),
            Some("4242"),
            Some("10.0.0.7"),
            Some("t"),
            Some("3.5"),
        ]));
        assert_eq!(f.in_recovery, Some(true));
        assert_eq!(f.backend_pid, Some(4242));
        assert_eq!(f.client_addr, Some("10.0.0.7".parse().unwrap()));
        assert!(f.caught_up);
        assert_eq!(f.replay_age, Some(3.5));
        let primary = parse(&row(&[Some("f"), Some("1"), None, Some("f"), None]));
        assert_eq!(primary.in_recovery, Some(false));
        assert_eq!(primary.client_addr, None);
        assert_eq!(parse(&row(&[Some("?")])).in_recovery, None);
    }
}
