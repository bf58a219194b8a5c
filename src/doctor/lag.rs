//! Check `lag`: replication lag on read endpoints,
//! `now() - pg_last_xact_replay_timestamp()`, taken as 0 when everything
//! received is replayed (the timestamp only moves when the primary writes).

use super::probe::Facts;
use super::sheet::CheckId;
use super::{Check, Ctx};
use crate::catalog::Role;
use crate::target::Target;

/// Judges the lag from the probe query's answers.
pub fn run(ctx: &Ctx<'_>, target: &Target<'_>, facts: &Result<Facts, String>) -> Check {
    if target.endpoint.role != Role::Read {
        return Check::skip(CheckId::Lag, "judged on read endpoints only");
    }
    let facts = match facts {
        Ok(f) => f,
        Err(e) => return Check::warn(CheckId::Lag, format!("the lag could not be read: {e}")),
    };
    if facts.in_recovery == Some(false) {
        return Check::skip(
            CheckId::Lag,
            "not a replica (see routing): no lag to measure",
        );
    }
    judge(
        facts.caught_up,
        facts.replay_age,
        ctx.opts.max_lag.as_secs_f64(),
    )
}

/// The verdict from the replica's answers.
fn judge(caught_up: bool, seconds: Option<f64>, max: f64) -> Check {
    if caught_up {
        return Check::ok(CheckId::Lag, "no lag: everything received is replayed").detail(
            seconds
                .map(|s| {
                    format!("last replayed transaction {s:.1} s ago (the primary may just be idle)")
                })
                .unwrap_or_default(),
        );
    }
    match seconds {
        None => Check::warn(CheckId::Lag, "the replica has replayed no transaction yet; lag unknown")
            .hint("a fresh replica, or replication is not streaming: ask the DBA to check pg_stat_wal_receiver"),
        Some(s) if s > max => Check::warn(CheckId::Lag, format!("{s:.1} s behind the primary (threshold {max:.0} s)"))
            .hint("reads here see data that old: read-your-writes flows belong on the write endpoint; a growing lag means the replica cannot keep up or replication broke"),
        Some(s) => Check::ok(CheckId::Lag, format!("{s:.1} s behind the primary (threshold {max:.0} s)")),
    }
}

#[cfg(test)]
mod tests {
    use super::judge;
    use crate::doctor::Status;

    #[test]
    fn lag_is_zero_when_caught_up() {
        assert_eq!(judge(true, Some(9999.0), 30.0).status, Status::Ok);
        assert_eq!(judge(false, Some(10.0), 30.0).status, Status::Ok);
        assert_eq!(judge(false, Some(31.0), 30.0).status, Status::Warn);
        assert_eq!(judge(false, None, 30.0).status, Status::Warn);
    }
}
