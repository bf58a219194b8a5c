//! `pgconn tunnel`: holds a `--via kube` tunnel to the endpoint, prints its
//! connection string (as `url --format F` would, dialling the tunnel while
//! verifying the endpoint's name) as the first line of stdout once it
//! accepts connections, and runs until SIGINT or SIGTERM.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::{Context, Needs, connect, open_tunnel};
use crate::cli::TunnelArgs;
use crate::connstr::{self, ConnStrError};
use crate::error::{Error, Exit};
use crate::output;

/// Runs `tunnel`.
pub fn run(ctx: &Context, args: &TunnelArgs) -> Result<Exit, Error> {
    let style = ctx.err;
    let format = args.format;
    if !connstr::dials_apart(format) {
        return Err(ConnStrError::TunnelUnsupported(format.as_str()).into());
    }
    let needs = Needs::unless_no_password(false, args.no_password);
    let catalog = ctx.catalog()?;
    let mut conn = connect(ctx, &catalog, &args.target, needs)?;
    let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(|source| Error::Io {
        context: "watching SIGINT and SIGTERM".into(),
        source,
    })?;
    let tunnel = open_tunnel(
        ctx,
        &conn.target,
        args.port.unwrap_or(0),
        std::time::Duration::from_secs(u64::from(catalog.connect_timeout.max(1))),
        style,
    )?;
    conn.dial = Some(tunnel.local_addr());
    let rendered = connstr::render(format, &conn.params())?;
    output::line(&rendered.text)?;
    for note in &rendered.notes {
        output::note(style, note);
    }
    let service = conn
        .target
        .endpoint
        .service
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    output::note(
        style,
        &format!(
            "tunnel: {} → service {service} (pod {}, port {}); each connection is its own stream; Ctrl-C ends it",
            tunnel.local_addr(),
            tunnel.first_pod().pod,
            tunnel.first_pod().port,
        ),
    );
    let _ = signals.forever().next();
    drop(tunnel);
    Ok(Exit::Success)
}
