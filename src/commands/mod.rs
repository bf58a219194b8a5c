//! One file per subcommand; this file dispatches and holds what they share:
//! finding and loading the catalog and turning arguments into a target.

pub mod catalog;
pub mod completions;
mod context;
mod creds;
mod doctor;
mod env;
mod explain;
mod import;
mod login;
mod ls;
pub mod man;
mod psql;
mod run;
mod service;
mod show;
mod tunnel;
mod url;
mod wait;

pub use context::{Context, discover};

use crate::catalog::{Catalog, Role};
use crate::cli::{CatalogCommand, Command, TargetArgs};
use crate::connstr::{ConnStrError, Params, SystemRoots};
use crate::credentials::{self, Credential};
use crate::error::{Error, Exit};
use crate::target::{self, Selector, Target};

/// Runs the parsed command with the global flags resolved in `ctx`.
pub fn dispatch(ctx: &Context, command: &Command) -> Result<Exit, Error> {
    match command {
        Command::Creds(args) => creds::run(ctx, args),
        Command::Login(args) => login::login(ctx, args),
        Command::Logout(args) => login::logout(ctx, args),
        Command::Ls(args) => ls::run(ctx, args),
        Command::Show(args) => show::run(ctx, args),
        Command::Url(args) => url::run(ctx, args),
        Command::Env(args) => env::run(ctx, args),
        Command::Psql(args) => psql::run(ctx, args),
        Command::Run(args) => run::run(ctx, args),
        Command::Tunnel(args) => tunnel::run(ctx, args),
        Command::Doctor(args) => doctor::run(ctx, args),
        Command::Explain(args) => explain::run(ctx, args),
        Command::Wait(args) => wait::run(ctx, args),
        Command::Service(command) => service::run(ctx, command),
        Command::Catalog(CatalogCommand::Validate) => catalog::validate(ctx),
        Command::Catalog(CatalogCommand::Path) => catalog::path(ctx),
        Command::Catalog(CatalogCommand::Schema) => catalog::schema(),
        Command::Catalog(CatalogCommand::Trust { path }) => catalog::trust(ctx, path.as_deref()),
        Command::Catalog(CatalogCommand::Refresh) => catalog::refresh(ctx),
        Command::Catalog(CatalogCommand::Untrust { path }) => {
            catalog::untrust(ctx, path.as_deref())
        }
        Command::Catalog(CatalogCommand::Import(args)) => import::import(ctx, args),
        Command::Catalog(CatalogCommand::Diff(args)) => import::diff(ctx, args),
        Command::Completions(args) => completions::run(args.shell),
        Command::Man(args) => man::run(&args.command),
    }
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
        args.role_flag
    };
    match (args.role_arg, flag) {
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
    /// The settings the credential was fetched with (for a refetch).
    pub settings: credentials::Settings,
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

/// What a connection needs besides its target.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// `--pin-ip`: dial the catalog's IP (libpq `hostaddr`).
    pub pin_ip: bool,
    /// Fetch the credential (not for `--no-password`).
    pub password: bool,
}

impl Needs {
    /// A password unless `--no-password` was given.
    pub fn unless_no_password(pin_ip: bool, no_password: bool) -> Self {
        Needs {
            pin_ip,
            password: !no_password,
        }
    }
}

/// Resolves the target and, when asked, its credential; roots are named
/// for the libpq on this machine.
pub fn connect<'c>(
    ctx: &Context,
    catalog: &'c Catalog,
    args: &TargetArgs,
    needs: Needs,
) -> Result<Connection<'c>, Error> {
    let roots = crate::platform::system_roots();
    let (pin_ip, with_password) = (needs.pin_ip, needs.password);
    let target = select(catalog, args)?;
    let hostaddr = if pin_ip {
        let endpoint = target.endpoint;
        Some(endpoint.ip.ok_or_else(|| {
            ConnStrError::NoIpToPin(format!("{} {}", target.cluster.name, endpoint.role))
        })?)
    } else {
        None
    };
    let settings = ctx.credentials(catalog);
    let credential = if with_password {
        Some(credentials::fetch(&target, &settings)?)
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
        settings,
    })
}

/// [`connect`], through a `--via kube` tunnel when `via` asks for one: the
/// connection dials the tunnel's local end (TLS still verifies the
/// endpoint's name); the caller holds the tunnel while it is used.
pub fn connect_via<'c>(
    ctx: &Context,
    catalog: &'c Catalog,
    args: &TargetArgs,
    needs: Needs,
    via: Option<crate::cli::ViaArg>,
) -> Result<(Connection<'c>, Option<crate::tunnel::Tunnel>), Error> {
    let mut conn = connect(ctx, catalog, args, needs)?;
    let timeout = std::time::Duration::from_secs(u64::from(catalog.connect_timeout.max(1)));
    let tunnel = match via {
        Some(crate::cli::ViaArg::Kube) => {
            Some(open_tunnel(ctx, &conn.target, 0, timeout, ctx.err)?)
        }
        None => None,
    };
    conn.dial = tunnel.as_ref().map(crate::tunnel::Tunnel::local_addr);
    Ok((conn, tunnel))
}

/// Opens a `--via kube` tunnel to the target's Service on `local_port`
/// (0: a free one), each API step bounded by `timeout`; its notes go to stderr.
pub fn open_tunnel(
    ctx: &Context,
    target: &Target<'_>,
    local_port: u16,
    timeout: std::time::Duration,
    style: crate::output::Style,
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
        context: ctx.kube_context().map(str::to_string),
        timeout,
        local_port,
    };
    let log: crate::tunnel::Log = std::sync::Arc::new(move |line: &str| {
        crate::output::note(style, &format!("tunnel: {line}"));
    });
    Ok(crate::tunnel::Tunnel::open(spec, log)?)
}
