//! `pgconn doctor`: selects endpoints (all of them when no cluster is
//! named; never a picker), runs the checks and prints the report. The async
//! runtime lives inside `doctor::run`: other commands stay runtime-free.

use std::time::{Duration, Instant};

use super::Context;
use crate::catalog::{Catalog, Role};
use crate::cli::{DoctorArgs, DoctorFormat, TargetArgs, ViaArg};
use crate::doctor::{self, Options, Tunneled, github, junit, render};
use crate::error::{Error, Exit};
use crate::output;
use crate::target::{self, Selector, Target};

/// Runs `doctor`.
pub fn run(ctx: &Context, args: &DoctorArgs) -> Result<Exit, Error> {
    let catalog = ctx.catalog()?;
    let targets = select_all(&catalog, &args.target)?;
    let format = args.output_format();
    // held while the checks run
    let held = match args.via {
        Some(ViaArg::Kube) => open_tunnels(ctx, &targets, args.timeout),
        None => Vec::new(),
    };
    let opts = Options {
        timeout: Duration::from_secs_f64(args.timeout),
        egress_ip: args.egress_ip,
        nameserver: args.nameserver,
        echo_url: args.echo_url.clone(),
        max_lag: Duration::from_secs(args.max_lag),
        progress: format == DoctorFormat::Human,
        credentials: ctx.credentials(&catalog),
        last_layer: None,
        tunnels: held.iter().map(|(t, _)| t.clone()).collect(),
    };
    let started = Instant::now();
    let report = doctor::run(&catalog, &targets, &opts)?;
    drop(held);
    let human = || render::human(&report, ctx.out, ctx.verbose(), started.elapsed());
    match format {
        DoctorFormat::Json => output::json(&report)?,
        DoctorFormat::Human => output::stdout(&human())?,
        DoctorFormat::Junit => output::stdout(&junit::render(&report, started.elapsed()))?,
        DoctorFormat::Github => output::stdout(&github::render(&report, &human()))?,
    }
    Ok(if report.ok {
        Exit::Success
    } else {
        Exit::DoctorFailed
    })
}

/// One tunnel per target (`--via kube`); one that cannot be opened is
/// reported by the endpoint's `tcp` check, not as an error of the run.
fn open_tunnels(
    ctx: &Context,
    targets: &[Target<'_>],
    timeout: f64,
) -> Vec<(Tunneled, Option<crate::tunnel::Tunnel>)> {
    targets
        .iter()
        .map(|t| {
            let service = t
                .endpoint
                .service
                .as_ref()
                .map(ToString::to_string)
                .ok_or_else(|| {
                    "the catalog names no service: NAMESPACE/NAME for this endpoint".to_string()
                });
            let opened = super::open_tunnel(ctx, t, 0, Duration::from_secs_f64(timeout), ctx.err);
            let local = opened
                .as_ref()
                .map(crate::tunnel::Tunnel::local_addr)
                .map_err(|e| (e.to_string(), e.hint()));
            let tunneled = Tunneled {
                cluster: t.cluster.name.clone(),
                role: t.endpoint.role,
                service,
                local,
                pod_port: opened.as_ref().ok().map(|t| t.first_pod().port),
            };
            (tunneled, opened.ok())
        })
        .collect()
}

/// The endpoints to check: every endpoint of every cluster without a
/// cluster; every endpoint of the named cluster without a role; else one.
fn select_all<'c>(catalog: &'c Catalog, args: &TargetArgs) -> Result<Vec<Target<'c>>, Error> {
    let role = super::requested_role(args)?;
    let clusters: Vec<&str> = match &args.cluster {
        Some(name) => vec![target::find_cluster(catalog, name)?.name.as_str()],
        None => catalog.clusters.iter().map(|c| c.name.as_str()).collect(),
    };
    let mut targets = Vec::new();
    for name in clusters {
        let cluster = target::find_cluster(catalog, name)?;
        let roles: Vec<Role> = match role {
            Some(r) => vec![r],
            None => cluster.endpoints.iter().map(|e| e.role).collect(),
        };
        if role.is_some() && cluster.endpoint(roles[0]).is_none() && args.cluster.is_none() {
            continue; // `doctor --read` over all clusters: those without one are not an error
        }
        for r in roles {
            let selector = Selector {
                cluster: name.to_string(),
                role: Some(r),
                user: args.user.clone(),
                database: args.db.clone(),
            };
            targets.push(target::resolve(catalog, &selector)?);
        }
    }
    Ok(targets)
}
