//! `pgconn catalog import kubernetes|helm` and `pgconn catalog diff
//! kubernetes|helm`: the work is in `crate::import`; this file maps the
//! arguments and prints.

use std::time::Duration;

use comfy_table::{Table, presets};

use super::Context;
use crate::cli::{DiffArgs, ImportArgs, ImportSource};
use crate::error::{Error, Exit};
use crate::import::{self, Imported, kubernetes};
use crate::knowledge::sanitize;
use crate::output;

/// Reads the source the command names; notes go to stderr.
fn read(ctx: &Context, source: &ImportSource) -> Result<Imported, Error> {
    let imported = match source {
        ImportSource::Kubernetes(args) => kubernetes::import(&kubernetes::Options {
            context: ctx.kube_context().map(str::to_string),
            scope: match (&args.namespace, args.all_namespaces) {
                (_, true) => kubernetes::Scope::All,
                (Some(ns), false) => kubernetes::Scope::Namespace(ns.clone()),
                (None, false) => kubernetes::Scope::Context,
            },
            domain: args.domain.clone(),
            internal: args.internal,
            timeout: Duration::from_secs_f64(args.timeout),
        })?,
        ImportSource::Helm(args) => import::helm::import(&args.values)?,
    };
    for note in &imported.notes {
        output::warning(ctx.err, &sanitize(note));
    }
    Ok(imported)
}

/// `catalog import`: the catalog on stdout or in `-o FILE`.
pub fn import(ctx: &Context, args: &ImportArgs) -> Result<Exit, Error> {
    let imported = read(ctx, &args.source)?;
    import::to_catalog(&imported)?;
    let text = import::writer::yaml(&imported);
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Io {
            context: format!("writing {}", path.display()),
            source,
        })?,
        None => output::stdout(&text)?,
    }
    Ok(Exit::Success)
}

/// `catalog diff`: a table (or JSON) of what differs; exit 3 on drift.
pub fn diff(ctx: &Context, args: &DiffArgs) -> Result<Exit, Error> {
    let opened = ctx.open(crate::catalog::Purpose::Describe)?;
    let (found, current) = (opened.found, opened.catalog);
    let imported = import::to_catalog(&read(ctx, &args.source)?)?;
    let drift = import::diff(&current, &imported);
    if args.json {
        output::json(&serde_json::json!({ "ok": drift.is_empty(), "drift": drift }))?;
    } else if drift.is_empty() {
        output::line(&format!(
            "{}: no drift ({} clusters)",
            found.path.display(),
            current.clusters.len()
        ))?;
    } else {
        let mut table = Table::new();
        table.load_style(presets::NOTHING).set_header([
            "CLUSTER",
            "ROLE",
            "FIELD",
            "CATALOG",
            "CLUSTER SAYS",
        ]);
        for d in &drift {
            table.add_row(
                [&d.cluster, &d.role, &d.field, &d.catalog, &d.cluster_says].map(|t| sanitize(t)),
            );
        }
        output::line(table.trim_fmt().as_str())?;
    }
    Ok(if drift.is_empty() {
        Exit::Success
    } else {
        Exit::Drift
    })
}
