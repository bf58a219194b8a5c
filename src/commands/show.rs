//! `pgconn show`: everything known about one cluster, credential *sources*
//! included, secret values never.

use serde::Serialize;

use super::{Context, no_cluster_error};
use crate::catalog::{Cluster, PoolerKind};
use crate::cli::ShowArgs;
use crate::credentials;
use crate::error::{Error, Exit};
use crate::knowledge::sanitize_lines;
use crate::output;
use crate::target::{self, Selector};

/// A user and the sources that would be tried for it, in order.
#[derive(Debug, Serialize)]
struct UserSources {
    name: String,
    roles: Vec<String>,
    sources: Vec<String>,
    /// `FILE:LINE` where its sources were written.
    from: String,
}

#[derive(Debug, Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    cluster: &'a Cluster,
    catalog: String,
    credential_chain: Vec<UserSources>,
}

fn user_sources(
    cluster: &Cluster,
    catalog: &crate::catalog::Catalog,
    settings: &credentials::Settings,
) -> Vec<UserSources> {
    cluster
        .users
        .iter()
        .filter_map(|u| {
            let selector = Selector {
                cluster: cluster.name.clone(),
                role: u
                    .roles
                    .first()
                    .copied()
                    .or(cluster.endpoints.first().map(|e| e.role)),
                user: Some(u.name.clone()),
                database: None,
            };
            let target = target::resolve(catalog, &selector).ok()?;
            Some(UserSources {
                name: u.name.clone(),
                from: catalog.origin(u.pos),
                roles: u.roles.iter().map(ToString::to_string).collect(),
                sources: credentials::chain(&target, settings)
                    .iter()
                    .map(|s| s.label())
                    .collect(),
            })
        })
        .collect()
}

/// Runs `show`.
pub fn run(ctx: &Context, args: &ShowArgs) -> Result<Exit, Error> {
    let catalog = ctx.catalog_to_describe()?;
    let name = match &args.cluster {
        Some(name) => name.clone(),
        None if crate::picker::available() => crate::picker::pick_cluster(&catalog)?,
        None => return Err(no_cluster_error()),
    };
    let cluster = target::find_cluster(&catalog, &name)?;
    let chain = user_sources(cluster, &catalog, &ctx.credentials(&catalog));
    let location = catalog.origin(cluster.pos);
    if args.json {
        output::json(&Shown {
            cluster,
            catalog: location,
            credential_chain: chain,
        })?;
        return Ok(Exit::Success);
    }
    output::stdout(&sanitize_lines(&render(cluster, &location, &chain)))?;
    Ok(Exit::Success)
}

fn render(c: &Cluster, location: &str, chain: &[UserSources]) -> String {
    use std::fmt::Write as _;
    let mut out = format!("{}\n", c.name);
    let _ = writeln!(out, "  defined at   {location}");
    if let Some(ns) = &c.namespace {
        let _ = writeln!(out, "  namespace    {ns}");
    }
    if let Some(db) = &c.database {
        let _ = writeln!(out, "  database     {db}");
    }
    let pooler = match c.pooler.kind {
        PoolerKind::None => "none".to_string(),
        PoolerKind::Pgbouncer => format!(
            "pgbouncer, {:?} mode, max_prepared_statements {}",
            c.pooler.mode, c.pooler.max_prepared_statements
        )
        .to_lowercase(),
    };
    let _ = writeln!(out, "  pooler       {pooler}");
    out.push_str("\nendpoints\n");
    for e in &c.endpoints {
        let ip = e.ip.map_or_else(|| "-".into(), |ip| ip.to_string());
        let path = if e.pooled { "pooled" } else { "direct" };
        let _ = writeln!(
            out,
            "  {:<6} {}:{}  ip {ip}  {path}  sslmode {} (roots: {})",
            e.role,
            e.host,
            e.port,
            e.sslmode.as_str(),
            e.sslrootcert
        );
        if let Some(ranges) = &e.allowed_source_ranges {
            let ranges: Vec<String> = ranges.iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "         allowlist {}", ranges.join(", "));
        }
        if let Some(service) = &e.service {
            let _ = writeln!(
                out,
                "         service {service} (in-cluster, for --via kube)"
            );
        }
    }
    out.push_str("\nusers (credential sources, tried in order)\n");
    if chain.is_empty() {
        out.push_str("  none in the catalog: pass --user NAME\n");
    }
    for u in chain {
        let roles = if u.roles.is_empty() {
            "no default role".to_string()
        } else {
            format!("default for {}", u.roles.join(", "))
        };
        let _ = writeln!(out, "  {} ({roles}; from {})", u.name, u.from);
        for (i, s) in u.sources.iter().enumerate() {
            let _ = writeln!(out, "    {}. {s}", i + 1);
        }
    }
    out
}
