//! Part of check `auth`: why a direct endpoint refused a password.
//! PostgreSQL answers a wrong password, one past the role's `VALID UNTIL`
//! and a missing role with one message, on purpose (the cause goes to the
//! server log only). A pooled endpoint of the same cluster checks passwords
//! itself (PgBouncer's `auth_file` or `auth_query`, which ignore
//! `VALID UNTIL`) and says "no such user" outright, so the same login
//! there tells the three apart; once in, `pg_roles` (readable by every
//! role) shows the expiry.

use std::net::SocketAddr;

use super::Ctx;
use super::session::{Login, Session, Tls};
use crate::catalog::{Endpoint, Role};
use crate::knowledge;
use crate::target::Target;

/// The role's expiry, as the server writes it, and whether it is past.
const EXPIRY_SQL: &str = "select rolvaliduntil::text, (rolvaliduntil < now())::text \
    from pg_roles where rolname = current_user";

/// Why the password was refused, as the pooled endpoint showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The pooler took the password; the role's `VALID UNTIL` is past.
    Expired {
        /// `rolvaliduntil`.
        until: String,
        /// The endpoint that told.
        via: Role,
    },
    /// The pooler's lookup found no such user.
    NoSuchRole {
        /// The endpoint that told.
        via: Role,
    },
}

/// The cause, when the cluster has a pooled endpoint that can tell it.
pub async fn probe(
    ctx: &Ctx<'_>,
    target: &Target<'_>,
    tls: Tls,
    (user, password, database): (&str, &str, &str),
) -> Option<Cause> {
    let via = pooled_sibling(target)?;
    let addr = address(via).await?;
    let login = Login {
        host: &via.host,
        addr,
        user,
        password,
        database,
    };
    let timeout = ctx.layer_timeout();
    match Session::open(&login, tls, timeout).await {
        Ok(session) => {
            let row = session.row(EXPIRY_SQL, timeout).await.ok()?;
            match (
                row.first().cloned().flatten(),
                row.get(1).cloned().flatten(),
            ) {
                (Some(until), Some(past)) if past == "true" => Some(Cause::Expired {
                    until,
                    via: via.role,
                }),
                _ => None,
            }
        }
        Err(e) => {
            let (message, code) = e.server_error()?;
            match knowledge::classify(&message, Some(&code)).rule? {
                "role_missing" => Some(Cause::NoSuchRole { via: via.role }),
                // a pooler that looks secrets up with auth_query refuses an
                // expired role exactly like a wrong password: no claim
                _ => None,
            }
        }
    }
}

/// The cluster's pooled endpoint (write before read), other than the target.
fn pooled_sibling<'c>(target: &Target<'c>) -> Option<&'c Endpoint> {
    [Role::Write, Role::Read]
        .into_iter()
        .filter_map(|r| target.cluster.endpoint(r))
        .find(|e| e.pooled && e.role != target.endpoint.role)
}

/// The catalog's IP for it, else what its name resolves to.
async fn address(e: &Endpoint) -> Option<SocketAddr> {
    if let Some(ip) = e.ip {
        return Some(SocketAddr::new(ip, e.port));
    }
    tokio::net::lookup_host((e.host.as_str(), e.port))
        .await
        .ok()?
        .next()
}

impl Cause {
    /// The summary for `user`.
    pub fn summary(&self, user: &str) -> String {
        match self {
            Cause::Expired { until, via } => format!(
                "the password of {user} is right (the pooled {via} endpoint accepts it), but it expired: the role is VALID UNTIL {until}"
            ),
            Cause::NoSuchRole { via } => format!(
                "role {user} does not exist: the pooled {via} endpoint's lookup finds no such user"
            ),
        }
    }

    /// What to do.
    pub fn hint(&self, user: &str) -> String {
        match self {
            Cause::Expired { .. } => format!(
                "the DBA runs `ALTER ROLE \"{user}\" VALID UNTIL 'infinity'` (or a later date), or rotates the password with a new expiry; the pooler still lets it in because it checks passwords itself"
            ),
            Cause::NoSuchRole { .. } => "check the user name (the catalog's `users`, or --user) and that the role was created on this cluster".into(),
        }
    }
}
