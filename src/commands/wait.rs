//! `pgconn wait`: resolves the endpoint, fetches its credential once, and
//! hands both to `doctor::wait`, which retries until the endpoint is ready
//! or `--timeout` passes. One line on stdout when ready; the last failure
//! with its hint (exit 1) when not.

use std::time::{Duration, Instant};

use super::{Context, select};
use crate::cli::WaitArgs;
use crate::credentials;
use crate::doctor::wait::{self, WaitOptions};
use crate::error::{Error, Exit};
use crate::knowledge::sanitize;
use crate::output;

/// Runs `wait`.
pub fn run(ctx: &Context, args: &WaitArgs) -> Result<Exit, Error> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.timeout);
    let catalog = ctx.catalog()?;
    let target = select(&catalog, &args.target)?;
    let connect_timeout = Duration::from_secs(u64::from(catalog.connect_timeout.max(1)));
    let settings = ctx.credentials(&catalog);
    let credential = credentials::fetch(&target, &settings)?;
    let opts = WaitOptions {
        deadline,
        interval: Duration::from_millis(args.interval),
        connect_timeout,
        progress: true,
    };
    let ready = wait::wait(&catalog, &target, credential, &opts)?;
    output::line(&sanitize(&format!(
        "{} is ready: {} (attempt {}, {:.1} s)",
        ready.label,
        ready.routing,
        ready.attempts,
        started.elapsed().as_secs_f64()
    )))?;
    Ok(Exit::Success)
}
