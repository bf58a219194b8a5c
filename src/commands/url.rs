//! `pgconn url`: one line on stdout, a connection string that works as
//! printed; notes on stderr.

use super::{Context, Needs, connect};
use crate::cli::UrlArgs;
use crate::connstr;
use crate::error::{Error, Exit};
use crate::output;

/// Runs `url`.
pub fn run(ctx: &Context, args: &UrlArgs) -> Result<Exit, Error> {
    let style = ctx.err;
    let needs = Needs::unless_no_password(args.pin_ip, args.no_password);
    let catalog = ctx.catalog_for(needs)?;
    let conn = connect(ctx, &catalog, &args.target, needs)?;
    let rendered = connstr::render(args.format, &conn.params())?;
    if ctx.verbose() {
        if let Some(c) = &conn.credential {
            output::note(style, &format!("password for {} from {}", c.user, c.source));
        }
        output::note(
            style,
            &format!(
                "roots: {} (libpq here knows sslrootcert=system: {})",
                conn.target.endpoint.sslrootcert, conn.roots.libpq_knows_system
            ),
        );
    }
    output::line(&rendered.text)?;
    for note in &rendered.notes {
        output::note(style, note);
    }
    Ok(Exit::Success)
}
