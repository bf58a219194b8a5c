//! One file per subcommand; this file dispatches and holds what they share:
//! finding and loading the catalog and turning arguments into a target.

pub mod catalog;
pub mod completions;
mod creds;
mod doctor;
mod env;
mod explain;
mod login;
mod ls;
pub mod man;
mod psql;
mod run;
mod service;
mod show;
mod tunnel;
mod url;

use std::path::PathBuf;

use crate::catalog::{self as cat, Catalog, Discovery, Role};
use crate::cli::{CatalogCommand, Cli, Command, TargetArgs};
use crate::connstr::{ConnStrError, Params, SystemRoots};
use crate::credentials::{self, Credential};
use crate::error::{Error, Exit};
use crate::output::Style;
use crate::target::{self, Selector, Target};

/// Runs the parsed command.
pub fn dispatch(cli: &Cli, style: Style) -> Result<Exit, Error> {
    credentials::configure(credentials::Settings {
        kube_context: cli.context.clone(),
        ..credentials::Settings::default()
    });
    match &cli.command {
        Command::Creds(args) => creds::run(cli, args, style),
        Command::Login(args) => login::login(cli, args, style),
        Command::Logout(args) => login::logout(cli, args, style),
        Command::Ls(args) => ls::run(cli, args),
        Command::Show(args) => show::run(cli, args),
        Command::Url(args) => url::run(cli, args, style),
        Command::Env(args) => env::run(cli, args, style),
        Command::Psql(args) => psql::run(cli, args, style),
        Command::Run(args) => run::run(cli, args, style),
        Command::Tunnel(args) => tunnel::run(cli, args, style),
        Command::Doctor(args) => doctor::run(cli, args),
        Command::Explain(args) => explain::run(cli, args),
        Command::Service(command) => service::run(cli, command, style),
        Command::Catalog(CatalogCommand::Validate) => catalog::validate(cli),
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
    Ok(cat::load_fast(&found.path)?)
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

/// `--prefix` must be able to start environment variable names.
pub fn check_prefix(prefix: Option<&str>) -> Result<(), Error> {
    match prefix.filter(|p| !crate::pgenv::valid_prefix(p)) {
        Some(bad) => Err(Error::usage(
            format!("`{bad}` cannot start a variable name"),
            "use letters, digits and `_`, e.g. --prefix APP_DB_",
        )),
        None => Ok(()),
    }
}

/// The usage error for a missing cluster without a terminal (never a hang).
pub fn no_cluster_error() -> Error {
    Error::usage(
        "no cluster named, and no terminal to pick one on",
        "name the cluster, e.g. `pgconn url temporal-db --write`; `pgconn ls` lists them",
    )
}

/// A target with everything needed to write its connection parameters.
pub struct Connection<'c> {
    /// The endpoint and user.
    pub target: Target<'c>,
    /// The credential, unless the command runs without one.
    pub credential: Option<Credential>,
    /// `--pin-ip`: the catalog's IP for the endpoint.
    pub hostaddr: Option<std::net::IpAddr>,
    /// `--via kube`: the tunnel's local address, dialled instead of the
    /// endpoint (host stays the endpoint's name, for TLS).
    pub dial: Option<std::net::SocketAddr>,
    /// How to name system roots for the libpq that will read the parameters.
    pub roots: SystemRoots,
    /// Connect timeout in seconds.
    pub connect_timeout: u32,
}

impl Connection<'_> {
    /// The parameters for `connstr` and `pgenv`.
    pub fn params(&self) -> Params<'_> {
        let endpoint = self.target.endpoint;
        Params {
            host: &endpoint.host,
            port: self.dial.map_or(endpoint.port, |a| a.port()),
            hostaddr: self.dial.map(|a| a.ip()).or(self.hostaddr),
            database: self.target.database.as_deref(),
            user: self
                .credential
                .as_ref()
                .map_or(&self.target.user, |c| &c.user),
            password: self.credential.as_ref().map(|c| &c.password),
            sslmode: endpoint.sslmode,
            sslrootcert: &endpoint.sslrootcert,
            system_roots: &self.roots,
            connect_timeout: self.connect_timeout,
            pool_safe: endpoint.pooled && self.target.cluster.pooler.needs_pool_safety(),
        }
    }
}

/// Resolves the target and, when `with_password`, its credential.
pub fn connect<'c>(
    catalog: &'c Catalog,
    args: &TargetArgs,
    pin_ip: bool,
    with_password: bool,
    roots: SystemRoots,
) -> Result<Connection<'c>, Error> {
    let target = select(catalog, args)?;
    let hostaddr = if pin_ip {
        let endpoint = target.endpoint;
        Some(endpoint.ip.ok_or_else(|| {
            ConnStrError::NoIpToPin(format!("{} {}", target.cluster.name, endpoint.role))
        })?)
    } else {
        None
    };
    credentials::configure_timeout(std::time::Duration::from_secs(u64::from(
        catalog.connect_timeout.max(1),
    )));
    let credential = if with_password {
        Some(credentials::fetch(&target)?)
    } else {
        None
    };
    Ok(Connection {
        target,
        credential,
        hostaddr,
        dial: None,
        roots,
        connect_timeout: catalog.connect_timeout,
    })
}

/// Opens a `--via kube` tunnel to the target's Service on `local_port`
/// (0: a free one), each API step bounded by `timeout`; its notes go to stderr.
pub fn open_tunnel(
    cli: &Cli,
    target: &Target<'_>,
    local_port: u16,
    timeout: std::time::Duration,
    style: Style,
) -> Result<crate::tunnel::Tunnel, Error> {
    let endpoint = target.endpoint;
    let label = format!("{} {}", target.cluster.name, endpoint.role);
    let service = endpoint
        .service
        .clone()
        .ok_or_else(|| crate::tunnel::TunnelError::NoService(label.clone()))?;
    let spec = crate::tunnel::Spec {
        label,
        service,
        endpoint_port: endpoint.port,
        context: cli.context.clone(),
        timeout,
        local_port,
    };
    let log: crate::tunnel::Log = std::sync::Arc::new(move |line: &str| {
        crate::output::note(style, &format!("tunnel: {line}"));
    });
    Ok(crate::tunnel::Tunnel::open(spec, log)?)
}
