//! Check `auth`: the startup and password exchange with the credential
//! chain's password (never printed), over TLS verified as the endpoint's
//! sslmode says. Every server message is mapped through the knowledge base
//! (wrong password, `pg_hba` with the address the server saw, missing
//! database or role, a role without LOGIN, connection limits, starting up).
//! The login runs on the connection the TLS checks ran on: no second TCP or
//! TLS handshake. A password refused on a direct endpoint is tried once more
//! on the cluster's pooled endpoint, which tells wrong, expired and missing
//! apart ([`password_probe`]).

use std::net::SocketAddr;

use super::endpoint::Findings;
use super::session::{Checked, Login, Session, SessionError, Tls};
use super::sheet::CheckId;
use super::{Check, CredFuture, Ctx, password_probe};
use crate::knowledge::{self, Category};
use crate::target::Target;

/// Runs the check; the session when the login worked.
pub async fn run(
    ctx: &Ctx<'_>,
    target: &Target<'_>,
    addr: SocketAddr,
    (stream, tls): (Checked, Tls),
    cred: CredFuture,
    f: &mut Findings,
) -> (Check, Option<Session>) {
    let cred = match tokio::time::timeout_at(ctx.deadline, cred).await {
        Err(_) => {
            return (
                Check::skip(
                    CheckId::Auth,
                    "no credential: its sources did not answer in time",
                ),
                None,
            );
        }
        Ok(Err(_)) => {
            return (
                Check::skip(
                    CheckId::Auth,
                    "no credential: the credential lookup stopped",
                ),
                None,
            );
        }
        Ok(Ok(c)) => c,
    };
    let cred = match cred.as_ref() {
        Ok(c) => c,
        Err((reason, hint)) => {
            let check = Check::skip(
                CheckId::Auth,
                format!("no credential, so the login was not tried: {reason}"),
            );
            return (check.hint(hint.clone().unwrap_or_default()), None);
        }
    };
    let database = target.database.clone().unwrap_or_else(|| cred.user.clone());
    let login = Login {
        host: &target.endpoint.host,
        addr,
        user: &cred.user,
        password: cred.password.expose(),
        database: &database,
    };
    match Session::open_on(stream, &login, tls.clone(), ctx.layer_timeout()).await {
        Ok(session) => {
            let summary = format!("logged in as {} to database {database}", cred.user);
            let check =
                Check::ok(CheckId::Auth, summary).detail(format!("password from {}", cred.source));
            (check, Some(session))
        }
        Err(e) => {
            let check = failed(&e, &cred.user, &database, f);
            let refused = e.server_error().is_some_and(|(_, code)| code == "28P01");
            if refused && !target.endpoint.pooled {
                let login = (cred.user.as_str(), login.password, database.as_str());
                if let Some(cause) = password_probe::probe(ctx, target, tls, login).await {
                    return (told_apart(&check, &cause, &cred.user), None);
                }
            }
            (check, None)
        }
    }
}

/// The failed check, with what the pooled endpoint told about the cause.
fn told_apart(check: &Check, cause: &password_probe::Cause, user: &str) -> Check {
    Check::fail(CheckId::Auth, cause.summary(user))
        .detail(format!(
            "{}; the same login was tried on the cluster's pooled endpoint to tell a wrong password, an expired one and a missing role apart",
            check.detail
        ))
        .hint(cause.hint(user))
}

fn failed(e: &SessionError, user: &str, database: &str, f: &mut Findings) -> Check {
    let said = e.to_string();
    if let SessionError::Timeout(t) = e {
        return Check::fail(CheckId::Auth, format!("the login did not complete within {:.1} s", t.as_secs_f64()))
            .hint("TCP and TLS work, but the startup hangs: a pooler waiting for a server connection (the server behind it is down, or the pool is exhausted: query_wait_timeout), or a server starting up");
    }
    let (message, code) = e
        .server_error()
        .map_or((said.clone(), None), |(m, c)| (m, Some(c)));
    let d = knowledge::classify_login(&message, code.as_deref(), user, database);
    if f.direct
        && let Some(ip) = d.facts.host.as_deref().and_then(|h| h.parse().ok())
    {
        f.egress = Some(ip);
        f.egress_via = "the pg_hba message";
    }
    let summary = match d.category {
        Category::Unknown => format!("the login failed as {user} to database {database}: {said}"),
        Category::Auth => d.summary.clone(),
        other => format!("{} [{other}]", d.summary),
    };
    let detail = match &code {
        Some(code) => format!("server said: {said} (SQLSTATE {code})"),
        None => format!("client said: {said}"),
    };
    let hint = if d.hint_sends_to_doctor() {
        LOGIN_REFUSED_HINT.to_string()
    } else {
        d.hint
    };
    Check::fail(CheckId::Auth, summary)
        .detail(detail)
        .hint(hint)
}

/// The hint for a refusal the knowledge base cannot name (never "run
/// doctor": this is doctor).
const LOGIN_REFUSED_HINT: &str = "the layers below the login work; the message above is the \
    server's or pooler's own reason: its log for the same moment has the details (PostgreSQL \
    logs the cause of a refused login as a DETAIL line), and `pgconn explain 'MESSAGE'` reads it";
