//! `pgconn psql`: the real psql, connected with verify-full; the password in
//! a private passfile (or the child's environment when it cannot be written
//! there), never in argv; psql's exit status is ours. When psql cannot
//! connect, one line of diagnosis follows its error; when the server rejects
//! a cached password, the credential is fetched afresh and psql runs once more.

use std::io::IsTerminal;
use std::process::Command;

use super::{Connection, Context, Needs, connect_via};
use crate::cli::{PsqlArgs, ViaArg};
use crate::credentials::{self, Credential};
use crate::error::{Error, Exit};
use crate::knowledge;
use crate::launch::{Passfile, Psql, run_child_teeing_stderr};
use crate::output::{self, Style};
use crate::pgenv::{self, Include};
use crate::platform;

/// Inherited variables that would override or confuse what pgconn sets.
const CLEARED: &[&str] = &[
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGHOSTADDR",
    "PGSSLROOTCERT",
    "PGDATABASE",
    "PGOPTIONS",
];

/// psql's exit status when it could not connect.
const PSQL_CONNECTION_FAILED: i32 = 2;

/// Runs `psql`.
pub fn run(ctx: &Context, args: &PsqlArgs) -> Result<Exit, Error> {
    let style = ctx.err;
    let catalog = ctx.catalog()?;
    let psql = Psql::find()?;
    let needs = Needs {
        pin_ip: args.pin_ip,
        password: true,
    };
    // the tunnel (--via kube) is held for the child's lifetime
    let (mut conn, _tunnel) = connect_via(ctx, &catalog, &args.target, needs, args.via)?;
    if conn.target.endpoint.pooled && std::io::stderr().is_terminal() {
        output::note(
            style,
            &pooled_notice(&conn.target.cluster.name, conn.target.endpoint.role),
        );
    }
    let (mut status, mut stderr) = launch(&psql, &conn, args, ctx.verbose, style)?;
    if status == PSQL_CONNECTION_FAILED
        && password_rejected(&stderr)
        && let Some(fresh) = refetch(&conn, style)?
    {
        conn.credential = Some(fresh);
        (status, stderr) = launch(&psql, &conn, args, ctx.verbose, style)?;
    }
    if status == PSQL_CONNECTION_FAILED && !stderr.is_empty() {
        let user = conn
            .credential
            .as_ref()
            .map_or(&conn.target.user, |c| &c.user);
        let database = conn.target.database.as_deref().unwrap_or(user);
        let diagnosis = knowledge::classify_login(&stderr, None, user, database);
        if diagnosis.category != knowledge::Category::Unknown {
            output::note(
                style,
                &format!("{} — {}", diagnosis.summary, diagnosis.hint),
            );
        }
        if let Some(around) = tunnel_suggestion(&conn, diagnosis.category, args.via) {
            output::note(style, &around);
        }
    }
    Ok(Exit::Child(status))
}

/// Runs psql once with the connection's environment and password.
fn launch(
    psql: &Psql,
    conn: &Connection<'_>,
    args: &PsqlArgs,
    verbose: u8,
    style: Style,
) -> Result<(i32, String), Error> {
    let params = conn.params();
    let mut cmd = Command::new(&psql.program);
    cmd.args(&args.psql_args);
    for name in CLEARED {
        cmd.env_remove(name);
    }
    for var in pgenv::variables(&params, Include::default()) {
        cmd.env(&var.name, var.value.expose());
    }
    let passfile = conn
        .credential
        .as_ref()
        .map(|c| pass_password(&mut cmd, c))
        .transpose()?
        .flatten();
    if verbose > 0 {
        let version = platform::libpq_major().map_or_else(|| "unknown".into(), |m| m.to_string());
        output::note(
            style,
            &format!(
                "{} (libpq {version}): sslrootcert={}, password via {}",
                psql.program.display(),
                crate::connstr::libpq_sslrootcert(&params).unwrap_or_else(|| "-".into()),
                if passfile.is_some() {
                    "a private passfile"
                } else {
                    "the environment"
                }
            ),
        );
    }
    let result = run_child_teeing_stderr(&mut cmd)?;
    drop(passfile);
    Ok(result)
}

/// Hands the password to psql: a private passfile, or the environment when
/// a passfile cannot hold it (a newline).
fn pass_password(cmd: &mut Command, credential: &Credential) -> Result<Option<Passfile>, Error> {
    if !Passfile::can_hold(credential.password.expose()) {
        cmd.env("PGPASSWORD", credential.password.expose());
        return Ok(None);
    }
    let file =
        Passfile::create(&credential.user, &credential.password).map_err(|source| Error::Io {
            context: "writing a private passfile".into(),
            source,
        })?;
    cmd.env("PGPASSFILE", file.path());
    Ok(Some(file))
}

/// Whether psql's error says the password was wrong (28P01, PostgreSQL or PgBouncer wording).
fn password_rejected(stderr: &str) -> bool {
    stderr.contains("password authentication failed")
        || stderr.contains("SASL authentication failed")
}

/// A fresh credential when the rejected one came from the cache.
fn refetch(conn: &Connection<'_>, style: Style) -> Result<Option<Credential>, Error> {
    let Some(old) = &conn.credential else {
        return Ok(None);
    };
    let fresh = credentials::refetch_after_rejection(&conn.target, &conn.settings, old)?;
    if fresh.is_some() {
        output::note(
            style,
            "the server rejected the cached password; fetched it afresh and retrying once",
        );
    }
    Ok(fresh)
}

/// When the path is closed (timeout, allowlist) and the endpoint's Service
/// is known, the way around it through the Kubernetes API.
fn tunnel_suggestion(
    conn: &Connection<'_>,
    category: knowledge::Category,
    via: Option<ViaArg>,
) -> Option<String> {
    let closed = matches!(
        category,
        knowledge::Category::Tcp | knowledge::Category::Allowlist
    );
    let service = conn.target.endpoint.service.as_ref()?;
    (closed && via.is_none()).then(|| {
        format!(
            "from outside the allowed networks: `pgconn psql {} --{} --via kube` goes through the Kubernetes API (service {service})",
            conn.target.cluster.name, conn.target.endpoint.role
        )
    })
}

/// What a user should know before typing into a transaction-pooled session.
pub fn pooled_notice(cluster: &str, role: crate::catalog::Role) -> String {
    format!(
        "{cluster} {role} goes through PgBouncer: SET, LISTEN, session advisory locks, temp tables \
         and WITH HOLD cursors do not outlive a transaction there; `pgconn psql {cluster} --admin` is the direct endpoint"
    )
}
