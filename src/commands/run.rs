//! `pgconn run`: any command with the endpoint's environment injected,
//! signals forwarded, its exit status passed through.

use std::path::Path;
use std::process::Command;

use super::{Context, Needs, connect_via};
use crate::cli::RunArgs;
use crate::error::{Error, Exit};
use crate::launch::run_child;
use crate::output;
use crate::pgenv::{self, Include};

/// Tools that need a whole session (dumps, migrations with locks and SET).
const SESSION_TOOLS: &[&str] = &[
    "pg_dump",
    "pg_restore",
    "pg_dumpall",
    "flyway",
    "liquibase",
    "alembic",
    "migrate",
    "sqitch",
];

/// Runs `run`.
pub fn run(ctx: &Context, args: &RunArgs) -> Result<Exit, Error> {
    let style = ctx.err;
    super::check_prefix(args.prefix.as_deref())?;
    let Some((program, rest)) = args.command.split_first() else {
        return Err(Error::usage(
            "no command to run",
            "pgconn run CLUSTER [ROLE] -- CMD [ARGS...]",
        ));
    };
    let catalog = ctx.catalog()?;
    let needs = Needs {
        pin_ip: args.pin_ip,
        password: true,
    };
    // the tunnel (--via kube) is held for the child's lifetime
    let (conn, tunnel) = connect_via(ctx, &catalog, &args.target, needs, args.via)?;
    let tool = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if conn.target.endpoint.pooled && !args.no_guard && SESSION_TOOLS.contains(&tool.as_str()) {
        output::warning(
            style,
            &format!(
                "{tool} needs a whole session, but {} {} is transaction-pooled; use `--admin` (or --no-guard to silence)",
                conn.target.cluster.name, conn.target.endpoint.role
            ),
        );
    }
    let include = Include {
        password: true,
        url: true,
        prefix: args.prefix.as_deref(),
    };
    let mut cmd = Command::new(program);
    cmd.args(rest);
    cmd.env_remove("PGPASSFILE")
        .env_remove("PGSERVICE")
        .env_remove("PGHOSTADDR");
    for var in pgenv::variables(&conn.params(), include) {
        cmd.env(&var.name, var.value.expose());
    }
    let status = run_child(&mut cmd)?;
    drop(tunnel);
    Ok(Exit::Child(status))
}
