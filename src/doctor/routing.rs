//! Check `routing`: write and admin must land on a primary, read on a
//! replica (`pg_is_in_recovery()`, read by the one probe query).

use super::Check;
use super::probe::Facts;
use super::sheet::CheckId;
use crate::catalog::Role;
use crate::target::Target;

/// Judges the server's `pg_is_in_recovery()` against the role.
pub fn judge(target: &Target<'_>, facts: &Result<Facts, String>) -> Check {
    let role = target.endpoint.role;
    let cluster = &target.cluster.name;
    let facts = match facts {
        Ok(f) => f,
        Err(e) => {
            return Check::fail(CheckId::Routing, format!("pg_is_in_recovery() failed: {e}"));
        }
    };
    let Some(replica) = facts.in_recovery else {
        return Check::warn(
            CheckId::Routing,
            format!(
                "unexpected answer from pg_is_in_recovery(): {:?}",
                facts.recovery_text
            ),
        );
    };
    match (role, replica) {
        (Role::Write | Role::Admin, false) => Check::ok(CheckId::Routing, format!("{role} lands on a primary")),
        (Role::Read, true) => Check::ok(CheckId::Routing, "read lands on a replica"),
        (Role::Write | Role::Admin, true) => Check::fail(CheckId::Routing, format!("{role} lands on a replica (pg_is_in_recovery() = true)"))
            .hint(format!(
                "every write will fail with \"cannot execute … in a read-only transaction\": the {} behind this endpoint points at a replica (a failover it did not follow?); until fixed, `pgconn url {cluster} --admin` reaches the primary directly",
                if target.endpoint.pooled { "pooler" } else { "service" }
            )),
        (Role::Read, false) => Check::warn(CheckId::Routing, "read lands on the primary (pg_is_in_recovery() = false)")
            .hint("reads work, but load the primary instead of a replica: the read pooler or service points at the primary (a replica down, or a promotion)"),
    }
}
