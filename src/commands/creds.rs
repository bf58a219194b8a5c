//! `pgconn creds`: which credential source answers for an endpoint, with
//! which user, whether from the cache and until when; the value only with
//! `--reveal`.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Context, select};
use crate::cli::CredsArgs;
use crate::credentials;
use crate::error::{Error, Exit};
use crate::knowledge::sanitize;
use crate::output;

#[derive(Serialize)]
struct LeaseShown {
    expires_at: u64,
    renewable: bool,
}

#[derive(Serialize)]
struct Shown<'a> {
    cluster: &'a str,
    role: String,
    user: &'a str,
    source: &'a str,
    cached: bool,
    lease: Option<LeaseShown>,
}

fn in_words(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// Runs `creds`.
pub fn run(ctx: &Context, args: &CredsArgs) -> Result<Exit, Error> {
    if args.reveal && args.json {
        return Err(Error::usage(
            "--json never carries the password, so it cannot be combined with --reveal",
            "`pgconn creds CLUSTER --reveal` prints it as text; scripts take it from \
             `pgconn url` or `pgconn env --format json`",
        ));
    }
    let style = ctx.err;
    let catalog = ctx.catalog()?;
    let target = select(&catalog, &args.target)?;
    let settings = ctx.credentials(&catalog);
    let credential = if args.refresh {
        credentials::fetch_fresh(&target, &settings)?
    } else {
        credentials::fetch(&target, &settings)?
    };
    let shown = Shown {
        cluster: &target.cluster.name,
        role: target.endpoint.role.to_string(),
        user: &credential.user,
        source: &credential.source,
        cached: credential.cached,
        lease: credential.lease.as_ref().map(|l| LeaseShown {
            expires_at: l.expires_at(),
            renewable: l.renewable,
        }),
    };
    if args.json {
        output::json(&shown)?;
        return Ok(Exit::Success);
    }
    let mut out = format!("{} {}\n", shown.cluster, shown.role);
    let _ = writeln!(out, "  user      {}", sanitize(shown.user));
    let _ = writeln!(out, "  source    {}", sanitize(shown.source));
    let _ = writeln!(
        out,
        "  cached    {}",
        if shown.cached {
            "yes"
        } else {
            "no (asked the source now)"
        }
    );
    if let Some(lease) = &credential.lease {
        let left = lease.expires_at().saturating_sub(credentials_now());
        let _ = writeln!(
            out,
            "  lease     ends in {}{}",
            in_words(left),
            if lease.renewable { ", renewable" } else { "" }
        );
        if ctx.verbose() {
            let _ = writeln!(out, "  lease id  {}", sanitize(&lease.id));
        }
    }
    if args.reveal {
        let _ = writeln!(out, "  password  {}", credential.password.expose());
    }
    output::stdout(&out)?;
    if !args.reveal && ctx.verbose() {
        output::note(style, "the password is printed only with --reveal");
    }
    Ok(Exit::Success)
}

fn credentials_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
