//! `catalog diff`: the current catalog against what import would write, both
//! as validated catalogs (so defaults are compared as derived): per cluster
//! and endpoint host, port, ip, allowlist, pooled, service; the pooler; per
//! user, whether it exists and the Kubernetes Secret it names.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::catalog::{Catalog, Cluster, Endpoint, SourceSpec, User};

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The cluster.
    pub cluster: String,
    /// The endpoint role, a user name (`user NAME`), or `-` for the cluster.
    pub role: String,
    /// What differs.
    pub field: String,
    /// What the catalog says (`-` when absent).
    pub catalog: String,
    /// What the cluster (or the values) says (`-` when absent).
    pub cluster_says: String,
}

const ABSENT: &str = "-";

/// Every difference, in cluster and role order.
pub fn diff(current: &Catalog, imported: &Catalog) -> Vec<Drift> {
    let names: BTreeSet<&str> = current
        .clusters
        .iter()
        .chain(&imported.clusters)
        .map(|c| c.name.as_str())
        .collect();
    let mut out = Vec::new();
    for name in names {
        let find = |cat: &'_ Catalog| cat.clusters.iter().find(|c| c.name == name).cloned();
        match (find(current), find(imported)) {
            (Some(a), Some(b)) => cluster(&a, &b, &mut out),
            (a, _) => out.push(Drift {
                cluster: name.into(),
                role: ABSENT.into(),
                field: "cluster".into(),
                catalog: if a.is_some() { "present" } else { ABSENT }.into(),
                cluster_says: if a.is_some() { ABSENT } else { "present" }.into(),
            }),
        }
    }
    out
}

#[allow(clippy::many_single_char_names)] // a: the catalog's, b: the source's, throughout
fn cluster(a: &Cluster, b: &Cluster, out: &mut Vec<Drift>) {
    let mut push = |role: &str, field: &str, x: String, y: String| {
        if x != y {
            out.push(Drift {
                cluster: a.name.clone(),
                role: role.into(),
                field: field.into(),
                catalog: x,
                cluster_says: y,
            });
        }
    };
    push(ABSENT, "pooler", pooler(a), pooler(b));
    for &role in crate::catalog::Role::ALL {
        let r = role.as_str();
        match (a.endpoint(role), b.endpoint(role)) {
            (None, None) => {}
            (Some(x), Some(y)) => {
                for (field, vx, vy) in endpoint_fields(x, y) {
                    push(r, field, vx, vy);
                }
            }
            (x, _) => push(
                r,
                "endpoint",
                if x.is_some() { "present" } else { ABSENT }.into(),
                if x.is_some() { ABSENT } else { "present" }.into(),
            ),
        }
    }
    let users: BTreeSet<&str> = a
        .users
        .iter()
        .chain(&b.users)
        .map(|u| u.name.as_str())
        .collect();
    for name in users {
        let role = format!("user {name}");
        match (a.user(name), b.user(name)) {
            (Some(x), Some(y)) => {
                if let (Some(sx), Some(sy)) = (secret(x), secret(y)) {
                    push(&role, "secret", sx, sy);
                }
            }
            (x, _) => push(
                &role,
                "user",
                if x.is_some() { "present" } else { ABSENT }.into(),
                if x.is_some() { ABSENT } else { "present" }.into(),
            ),
        }
    }
}

fn pooler(c: &Cluster) -> String {
    match c.pooler.kind {
        crate::catalog::PoolerKind::None => "none".into(),
        crate::catalog::PoolerKind::Pgbouncer => format!(
            "pgbouncer {}",
            serde_json::to_value(c.pooler.mode)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
    }
}

fn endpoint_fields(x: &Endpoint, y: &Endpoint) -> Vec<(&'static str, String, String)> {
    let opt = |v: Option<String>| v.unwrap_or_else(|| ABSENT.into());
    let ranges = |e: &Endpoint| {
        e.allowed_source_ranges.as_ref().map(|r| {
            let mut list: Vec<String> = r.iter().map(ToString::to_string).collect();
            list.sort();
            list.join(",")
        })
    };
    vec![
        ("host", x.host.clone(), y.host.clone()),
        ("port", x.port.to_string(), y.port.to_string()),
        (
            "ip",
            opt(x.ip.map(|i| i.to_string())),
            opt(y.ip.map(|i| i.to_string())),
        ),
        ("allowed_source_ranges", opt(ranges(x)), opt(ranges(y))),
        ("pooled", x.pooled.to_string(), y.pooled.to_string()),
        (
            "service",
            opt(x.service.as_ref().map(ToString::to_string)),
            opt(y.service.as_ref().map(ToString::to_string)),
        ),
    ]
}

/// The Kubernetes Secret a user's credentials name, if any.
fn secret(u: &User) -> Option<String> {
    u.credentials.as_ref()?.iter().find_map(|s| match s {
        SourceSpec::Kubernetes {
            secret: Some(name), ..
        } => Some(name.clone()),
        _ => None,
    })
}
