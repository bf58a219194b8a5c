//! `pgconn url`: one line on stdout, a connection string that works as
//! printed; notes on stderr.

use super::{load_catalog, select};
use crate::cli::{Cli, UrlArgs};
use crate::connstr::{self, ConnStrError, Params};
use crate::credentials::{self, Credential};
use crate::error::{Error, Exit};
use crate::output::{self, Style};
use crate::platform;

/// Runs `url`.
pub fn run(cli: &Cli, args: &UrlArgs, style: Style) -> Result<Exit, Error> {
    let catalog = load_catalog(cli)?;
    let target = select(&catalog, &args.target)?;
    let endpoint = target.endpoint;
    let hostaddr = if args.pin_ip {
        Some(endpoint.ip.ok_or_else(|| {
            ConnStrError::NoIpToPin(format!("{} {}", target.cluster.name, endpoint.role))
        })?)
    } else {
        None
    };
    let credential: Option<Credential> = if args.no_password {
        None
    } else {
        Some(credentials::fetch(&target)?)
    };
    let system_roots = platform::system_roots();
    let params = Params {
        host: &endpoint.host,
        port: endpoint.port,
        hostaddr,
        database: target.database.as_deref(),
        user: credential.as_ref().map_or(&target.user, |c| &c.user),
        password: credential.as_ref().map(|c| &c.password),
        sslmode: endpoint.sslmode,
        sslrootcert: &endpoint.sslrootcert,
        system_roots: &system_roots,
        connect_timeout: catalog.connect_timeout,
        pool_safe: endpoint.pooled && target.cluster.pooler.needs_pool_safety(),
    };
    let rendered = connstr::render(args.format.0, &params)?;
    if cli.verbose > 0 {
        if let Some(c) = &credential {
            output::note(style, &format!("password for {} from {}", c.user, c.source));
        }
        output::note(
            style,
            &format!(
                "roots: {} (libpq here knows sslrootcert=system: {})",
                endpoint.sslrootcert, system_roots.libpq_knows_system
            ),
        );
    }
    output::line(&rendered.text)?;
    for note in &rendered.notes {
        output::note(style, note);
    }
    Ok(Exit::Success)
}
