//! One file per subcommand; this file dispatches and holds what they share:
//! finding and loading the catalog and turning arguments into a target.

pub mod catalog;
pub mod completions;
mod ls;
pub mod man;
mod show;
mod url;

use std::path::PathBuf;

use crate::catalog::{self as cat, Catalog, Discovery, Role};
use crate::cli::{CatalogCommand, Cli, Command, TargetArgs};
use crate::error::{Error, Exit};
use crate::output::Style;
use crate::target::{self, Selector, Target};

/// Runs the parsed command.
pub fn dispatch(cli: &Cli, style: Style) -> Result<Exit, Error> {
    match &cli.command {
        Command::Ls(args) => ls::run(cli, args),
        Command::Show(args) => show::run(cli, args),
        Command::Url(args) => url::run(cli, args, style),
        Command::Catalog(CatalogCommand::Validate) => catalog::validate(cli, style),
        Command::Catalog(CatalogCommand::Path) => catalog::path(cli, style),
        Command::Catalog(CatalogCommand::Schema) => catalog::schema(),
        Command::Completions(args) => completions::run(args.shell),
        Command::Man(args) => man::run(&args.command),
    }
}

/// Where the catalog is, honouring `--catalog` and `$PGCONN_CATALOG`.
pub fn discover(flag: Option<&std::path::Path>) -> Result<Discovery, Error> {
    let env = std::env::var_os("PGCONN_CATALOG").map(PathBuf::from);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    Ok(cat::discover(
        flag,
        env.as_deref(),
        &cwd,
        dirs::config_dir().as_deref(),
    )?)
}

/// Finds and loads the catalog.
pub fn load_catalog(cli: &Cli) -> Result<Catalog, Error> {
    let found = discover(cli.catalog.as_deref())?;
    Ok(cat::load(&found.path)?.catalog)
}

/// The role asked for, from the positional or one of the flags.
fn requested_role(args: &TargetArgs) -> Result<Option<Role>, Error> {
    let flag = if args.write {
        Some(Role::Write)
    } else if args.read {
        Some(Role::Read)
    } else if args.admin {
        Some(Role::Admin)
    } else {
        args.role_flag.map(Role::from)
    };
    match (args.role_arg.map(Role::from), flag) {
        (Some(a), Some(b)) if a != b => Err(Error::usage(
            format!("two roles asked for: {a} and {b}"),
            "give the role once, as ROLE or as --write/--read/--admin",
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// Resolves the command's target, offering a picker when no cluster is named.
pub fn select<'c>(catalog: &'c Catalog, args: &TargetArgs) -> Result<Target<'c>, Error> {
    let mut role = requested_role(args)?;
    let cluster = match &args.cluster {
        Some(name) => name.clone(),
        None if crate::picker::available() => {
            let (name, picked) = crate::picker::pick_endpoint(catalog, role)?;
            role = Some(picked);
            name
        }
        None => return Err(no_cluster_error()),
    };
    let selector = Selector {
        cluster,
        role,
        user: args.user.clone(),
        database: args.db.clone(),
    };
    Ok(target::resolve(catalog, &selector)?)
}

/// The usage error for a missing cluster without a terminal (never a hang).
pub fn no_cluster_error() -> Error {
    Error::usage(
        "no cluster named, and no terminal to pick one on",
        "name the cluster, e.g. `pgconn url temporal-db --write`; `pgconn ls` lists them",
    )
}
