//! `pgconn psql`: the real psql, connected with verify-full; the password in
//! a private passfile (or the child's environment when it cannot be written
//! there), never in argv; psql's exit status is ours.

use std::io::IsTerminal;
use std::process::Command;

use super::{connect, load_catalog};
use crate::cli::{Cli, PsqlArgs};
use crate::connstr::SystemRoots;
use crate::error::{Error, Exit};
use crate::launch::{Passfile, Psql, run_child};
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

/// Runs `psql`.
pub fn run(cli: &Cli, args: &PsqlArgs, style: Style) -> Result<Exit, Error> {
    let catalog = load_catalog(cli)?;
    let psql = Psql::find()?;
    let roots = SystemRoots {
        libpq_knows_system: psql.knows_system_roots(),
        bundle: platform::ca_bundle(),
    };
    let conn = connect(&catalog, &args.target, args.pin_ip, true, roots)?;
    let params = conn.params();
    let mut cmd = Command::new(&psql.program);
    cmd.args(&args.psql_args);
    for name in CLEARED {
        cmd.env_remove(name);
    }
    for var in pgenv::variables(&params, Include::default()) {
        cmd.env(&var.name, var.value.expose());
    }
    let mut passfile = None;
    if let Some(credential) = &conn.credential {
        if Passfile::can_hold(credential.password.expose()) {
            let file =
                Passfile::create(&credential.user, &credential.password).map_err(|source| {
                    Error::Io {
                        context: "writing a private passfile".into(),
                        source,
                    }
                })?;
            cmd.env("PGPASSFILE", file.path());
            passfile = Some(file);
        } else {
            cmd.env("PGPASSWORD", credential.password.expose());
        }
    }
    if cli.verbose > 0 {
        let version = psql
            .major
            .map_or_else(|| "unknown".into(), |m| m.to_string());
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
    if conn.target.endpoint.pooled && std::io::stderr().is_terminal() {
        output::note(
            style,
            &pooled_notice(&conn.target.cluster.name, conn.target.endpoint.role),
        );
    }
    let status = run_child(&mut cmd)?;
    drop(passfile);
    Ok(Exit::Child(status))
}

/// What a user should know before typing into a transaction-pooled session.
pub fn pooled_notice(cluster: &str, role: crate::catalog::Role) -> String {
    format!(
        "{cluster} {role} goes through PgBouncer: SET, LISTEN, session advisory locks, temp tables \
         and WITH HOLD cursors do not outlive a transaction there; `pgconn psql {cluster} --admin` is the direct endpoint"
    )
}
