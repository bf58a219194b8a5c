//! Writes an [`Imported`] as a v1 catalog in YAML: what every cluster shares
//! (domain, shared IPs, the pooler most clusters have) is factored to the
//! top, values equal to what the catalog would derive are left out, and every
//! value carries a comment naming the object it came from.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use super::model::{Imported, ImportedCluster, ImportedEndpoint, ImportedUser};
use crate::catalog::{PoolMode, Role};

/// The catalog text.
pub fn yaml(imported: &Imported) -> String {
    let top = Top::of(imported);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# pgconn catalog written by `pgconn catalog import` from {}",
        one_line(&imported.source)
    );
    out.push_str("# each value names the object it came from; `pgconn catalog diff` shows drift\n");
    out.push_str("version: 1\n");
    if let Some((domain, why)) = &top.domain {
        let _ = writeln!(out, "domain: {}  # {why}", scalar(domain));
    }
    if let Some(mode) = top.pooler {
        let n = imported
            .clusters
            .iter()
            .filter(|c| c.pooler.as_ref().map(|p| p.mode) == Some(mode))
            .count();
        let _ = writeln!(
            out,
            "pooler: {{ kind: pgbouncer, mode: {} }}  # the pooler of {n} of {} clusters",
            mode_name(mode),
            imported.clusters.len()
        );
    }
    if !top.shared_ips.is_empty() {
        out.push_str("shared_ips:\n");
        for (role, (ip, n)) in &top.shared_ips {
            let _ = writeln!(
                out,
                "  {role}: {ip}  # the IP of every {role} LoadBalancer Service ({n})"
            );
        }
    }
    out.push_str("clusters:\n");
    for cluster in &imported.clusters {
        write_cluster(&mut out, cluster, &top, imported.context.as_deref());
    }
    out
}

/// What the clusters share.
struct Top {
    domain: Option<(String, String)>,
    pooler: Option<PoolMode>,
    shared_ips: BTreeMap<Role, (IpAddr, usize)>,
}

impl Top {
    fn of(imported: &Imported) -> Top {
        let domain = match &imported.domain {
            Some(d) => Some((d.clone(), "--domain".to_string())),
            None => common_domain(imported).map(|(d, n, total)| {
                (
                    d,
                    format!("the DNS suffix of {n} of the {total} endpoint host names"),
                )
            }),
        };
        Top {
            domain,
            pooler: common_pooler(imported),
            shared_ips: shared_ips(imported),
        }
    }

    fn template_host(&self, cluster: &str, role: Role) -> Option<String> {
        self.domain
            .as_ref()
            .map(|(d, _)| format!("{cluster}-{role}.{d}"))
    }
}

fn endpoints(imported: &Imported) -> impl Iterator<Item = &ImportedEndpoint> {
    imported.clusters.iter().flat_map(|c| c.endpoints.iter())
}

/// The most common DNS suffix (host minus its first label).
fn common_domain(imported: &Imported) -> Option<(String, usize, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0;
    for e in endpoints(imported) {
        total += 1;
        if let Some((_, suffix)) = e.host.split_once('.')
            && suffix.contains('.')
        {
            *counts.entry(suffix).or_default() += 1;
        }
    }
    let (domain, n) = counts
        .into_iter()
        .max_by_key(|(d, n)| (*n, std::cmp::Reverse(*d)))?;
    Some((domain.to_string(), n, total))
}

/// Per role, the IP every endpoint of that role has.
fn shared_ips(imported: &Imported) -> BTreeMap<Role, (IpAddr, usize)> {
    let mut out = BTreeMap::new();
    for &role in Role::ALL {
        let ips: Vec<Option<IpAddr>> = endpoints(imported)
            .filter(|e| e.role == role)
            .map(|e| e.ip)
            .collect();
        if let Some(Some(first)) = ips.first()
            && ips.iter().all(|ip| *ip == Some(*first))
        {
            out.insert(role, (*first, ips.len()));
        }
    }
    out
}

/// The pooler mode more than half of the clusters have.
fn common_pooler(imported: &Imported) -> Option<PoolMode> {
    let modes: Vec<PoolMode> = imported
        .clusters
        .iter()
        .filter_map(|c| c.pooler.as_ref().map(|p| p.mode))
        .collect();
    [
        PoolMode::Transaction,
        PoolMode::Session,
        PoolMode::Statement,
    ]
    .into_iter()
    .find(|m| modes.iter().filter(|x| *x == m).count() * 2 > imported.clusters.len())
}

fn mode_name(mode: PoolMode) -> &'static str {
    match mode {
        PoolMode::Transaction => "transaction",
        PoolMode::Session => "session",
        PoolMode::Statement => "statement",
    }
}

/// The port most endpoints of the cluster use, with the first object that says so.
fn cluster_port(cluster: &ImportedCluster) -> Option<(u16, &str)> {
    let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
    for e in &cluster.endpoints {
        *counts.entry(e.port).or_default() += 1;
    }
    let (port, _) = counts
        .into_iter()
        .max_by_key(|(p, n)| (*n, std::cmp::Reverse(*p)))?;
    let origin = cluster.endpoints.iter().find(|e| e.port == port)?;
    Some((port, origin.origin.as_str()))
}

fn write_cluster(out: &mut String, c: &ImportedCluster, top: &Top, context: Option<&str>) {
    let origin = one_line(&c.origin);
    let _ = writeln!(out, "  {}:  # {origin}", scalar(&c.name));
    if let Some(ns) = &c.namespace {
        let _ = writeln!(out, "    namespace: {}  # {origin}", scalar(ns));
    }
    let port = cluster_port(c);
    if let Some((port, from)) = port {
        let _ = writeln!(out, "    port: {port}  # {}", one_line(from));
    }
    if let Some(db) = &c.database {
        let _ = writeln!(out, "    database: {}  # {origin}", scalar(db));
    }
    match (&c.pooler, top.pooler) {
        (Some(p), Some(default)) if p.mode == default => {}
        (Some(p), _) => {
            let _ = writeln!(
                out,
                "    pooler: {{ kind: pgbouncer, mode: {} }}  # {}",
                mode_name(p.mode),
                one_line(&p.origin)
            );
        }
        (None, Some(_)) => {
            let _ = writeln!(out, "    pooler: {{ kind: none }}  # {origin}: no pooler");
        }
        (None, None) => {}
    }
    out.push_str("    endpoints:\n");
    for e in &c.endpoints {
        write_endpoint(out, c, e, top, port.map(|(p, _)| p));
    }
    if !c.users.is_empty() {
        out.push_str("    users:\n");
        for u in &c.users {
            write_user(out, u, c.namespace.as_deref(), context);
        }
    }
}

fn write_endpoint(
    out: &mut String,
    c: &ImportedCluster,
    e: &ImportedEndpoint,
    top: &Top,
    cluster_port: Option<u16>,
) {
    let origin = one_line(&e.origin);
    let mut fields = Vec::new();
    if top.template_host(&c.name, e.role).as_deref() != Some(e.host.as_str()) {
        fields.push(format!("host: {}", scalar(&e.host)));
    }
    if cluster_port != Some(e.port) {
        fields.push(format!("port: {}", e.port));
    }
    let shared = top.shared_ips.get(&e.role).map(|(ip, _)| *ip);
    if let Some(ip) = e.ip.filter(|ip| Some(*ip) != shared) {
        fields.push(format!("ip: {ip}"));
    }
    let default_pooled = e.role != Role::Admin && c.pooler.is_some();
    if e.pooled != default_pooled {
        fields.push(format!("pooled: {}", e.pooled));
    }
    if let Some(ranges) = &e.allowed_source_ranges {
        let list: Vec<String> = ranges.iter().map(ToString::to_string).collect();
        fields.push(format!("allowed_source_ranges: [{}]", list.join(", ")));
    }
    if let Some(s) = &e.service {
        fields.push(format!("service: {}", scalar(&s.to_string())));
    }
    if fields.is_empty() {
        let _ = writeln!(out, "      {}: {{}}  # {origin}", e.role);
        return;
    }
    let _ = writeln!(out, "      {}:", e.role);
    for f in fields {
        let _ = writeln!(out, "        {f}  # {origin}");
    }
}

fn write_user(out: &mut String, u: &ImportedUser, namespace: Option<&str>, context: Option<&str>) {
    let origin = one_line(&u.origin);
    let _ = writeln!(out, "      {}:  # {origin}", scalar(&u.name));
    if !u.roles.is_empty() {
        let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
        let _ = writeln!(
            out,
            "        roles: [{}]  # {}",
            roles.join(", "),
            one_line(&u.reason)
        );
    }
    let Some(secret) = &u.secret else { return };
    let mut fields = vec![format!("secret: {}", scalar(secret))];
    if let Some(k) = &u.username_key {
        fields.push(format!("username_key: {}", scalar(k)));
    }
    if let Some(ctx) = context {
        fields.push(format!("context: {}", scalar(ctx)));
    }
    let _ = writeln!(
        out,
        "        credentials:\n          - kubernetes: {{ {} }}  # Secret {}/{}",
        fields.join(", "),
        namespace.unwrap_or("<context namespace>"),
        one_line(secret)
    );
}

/// A YAML scalar: plain when it is unambiguous text, else double-quoted
/// (JSON string syntax is valid YAML).
pub fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':'))
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !text.ends_with(':')
        && !text.contains(": ")
        && text.parse::<f64>().is_err()
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

/// Comment text on one line, without control characters.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
