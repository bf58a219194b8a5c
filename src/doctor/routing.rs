//! Check `routing`: write and admin must land on a primary, read on a
//! replica (`pg_is_in_recovery()`, through the simple query protocol).

use super::session::Session;
use super::sheet::CheckId;
use super::{Check, Ctx};
use crate::catalog::Role;
use crate::target::Target;

/// Runs the check; whether the server is a replica, when known.
pub async fn run(ctx: &Ctx<'_>, target: &Target<'_>, session: &Session) -> (Check, Option<bool>) {
    let role = target.endpoint.role;
    let cluster = &target.cluster.name;
    let row = match session
        .row("select pg_is_in_recovery()", ctx.layer_timeout())
        .await
    {
        Ok(row) => row,
        Err(e) => {
            return (
                Check::fail(CheckId::Routing, format!("pg_is_in_recovery() failed: {e}")),
                None,
            );
        }
    };
    let replica = match row.first().and_then(Option::as_deref) {
        Some("t") => true,
        Some("f") => false,
        other => {
            let check = Check::warn(
                CheckId::Routing,
                format!("unexpected answer from pg_is_in_recovery(): {other:?}"),
            );
            return (check, None);
        }
    };
    let check = match (role, replica) {
        (Role::Write | Role::Admin, false) => Check::ok(CheckId::Routing, format!("{role} lands on a primary")),
        (Role::Read, true) => Check::ok(CheckId::Routing, "read lands on a replica"),
        (Role::Write | Role::Admin, true) => Check::fail(CheckId::Routing, format!("{role} lands on a replica (pg_is_in_recovery() = true)"))
            .hint(format!(
                "every write will fail with \"cannot execute … in a read-only transaction\": the {} behind this endpoint points at a replica (a failover it did not follow?); until fixed, `pgconn url {cluster} --admin` reaches the primary directly",
                if target.endpoint.pooled { "pooler" } else { "service" }
            )),
        (Role::Read, false) => Check::warn(CheckId::Routing, "read lands on the primary (pg_is_in_recovery() = false)")
            .hint("reads work, but load the primary instead of a replica: the read pooler or service points at the primary (a replica down, or a promotion)"),
    };
    (check, Some(replica))
}
