//! `pgconn ls`: one row per cluster × endpoint.

use comfy_table::{Table, presets};
use serde::Serialize;

use super::Context;
use crate::catalog::{Catalog, Endpoint, Role};
use crate::cli::LsArgs;
use crate::error::{Error, Exit};
use crate::output;

/// One row of `ls --json`.
#[derive(Debug, Serialize)]
struct Row<'a> {
    cluster: &'a str,
    role: Role,
    host: &'a str,
    port: u16,
    ip: Option<String>,
    pooled: bool,
    pool_mode: Option<&'static str>,
    allowed_source_ranges: Option<Vec<String>>,
}

fn rows(catalog: &Catalog) -> Vec<Row<'_>> {
    catalog
        .clusters
        .iter()
        .flat_map(|c| {
            c.endpoints.iter().map(move |e: &Endpoint| Row {
                cluster: &c.name,
                role: e.role,
                host: &e.host,
                port: e.port,
                ip: e.ip.map(|ip| ip.to_string()),
                pooled: e.pooled,
                pool_mode: e.pooled.then(|| c.pooler.mode.as_str()),
                allowed_source_ranges: e
                    .allowed_source_ranges
                    .as_ref()
                    .map(|r| r.iter().map(ToString::to_string).collect()),
            })
        })
        .collect()
}

/// Runs `ls`.
pub fn run(ctx: &Context, args: &LsArgs) -> Result<Exit, Error> {
    let catalog = ctx.catalog_to_describe()?;
    let rows = rows(&catalog);
    if args.json {
        output::json(&rows)?;
        return Ok(Exit::Success);
    }
    let mut table = Table::new();
    table.load_style(presets::NOTHING).set_header([
        "CLUSTER",
        "ROLE",
        "HOST:PORT",
        "EXPECTED IP",
        "POOLED",
        "ALLOWLIST",
    ]);
    for r in &rows {
        table.add_row([
            r.cluster.to_string(),
            r.role.to_string(),
            format!("{}:{}", r.host, r.port),
            r.ip.clone().unwrap_or_else(|| "-".into()),
            r.pool_mode
                .map_or_else(|| "no".into(), |m| format!("yes ({m})")),
            r.allowed_source_ranges
                .as_ref()
                .map_or_else(|| "-".into(), |r| r.join(", ")),
        ]);
    }
    output::line(table.trim_fmt().as_str())?;
    Ok(Exit::Success)
}
