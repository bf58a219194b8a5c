//! The schema walk: a [`Node`] tree becomes a [`Catalog`], with every default
//! derived and every problem reported with its position.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;

use super::fields::{Fields, Report, join};
use super::model::{
    Catalog, Cluster, Endpoint, PoolMode, Pooler, PoolerKind, Role, RootCert, ServiceRef, SslMode,
    User,
};
use super::node::{Node, Pos, Value};
use super::template::Template;

const TOP_KEYS: &[&str] = &[
    "version",
    "domain",
    "hostname_template",
    "sslmode",
    "sslrootcert",
    "connect_timeout",
    "pooler",
    "shared_ips",
    "clusters",
    // steer includes; taken out before the walk (see include.rs)
    "include",
    "trust_remote_commands",
    "refresh",
];
const CLUSTER_KEYS: &[&str] = &[
    "namespace",
    "port",
    "database",
    "pooler",
    "endpoints",
    "users",
];
const POOLER_KEYS: &[&str] = &["kind", "mode", "max_prepared_statements"];
const ENDPOINT_KEYS: &[&str] = &[
    "host",
    "port",
    "ip",
    "pooled",
    "sslmode",
    "sslrootcert",
    "allowed_source_ranges",
    "service",
];
const USER_KEYS: &[&str] = &["roles", "credentials"];

/// Defaults from the top of the catalog that every cluster inherits.
struct Defaults {
    domain: Option<String>,
    template: Option<Template>,
    sslmode: SslMode,
    sslrootcert: RootCert,
    pooler: PartialPooler,
    shared_ips: HashMap<Role, IpAddr>,
}

#[derive(Clone, Copy, Default)]
struct PartialPooler {
    kind: Option<PoolerKind>,
    mode: Option<PoolMode>,
    max_prepared_statements: Option<u32>,
}

impl PartialPooler {
    fn over(self, base: PartialPooler) -> PartialPooler {
        PartialPooler {
            kind: self.kind.or(base.kind),
            mode: self.mode.or(base.mode),
            max_prepared_statements: self
                .max_prepared_statements
                .or(base.max_prepared_statements),
        }
    }

    fn finish(self) -> Pooler {
        Pooler {
            kind: self.kind.unwrap_or(PoolerKind::None),
            // Unknown mode: assume the strictest common one, so strings stay pool-safe.
            mode: self.mode.unwrap_or(PoolMode::Transaction),
            max_prepared_statements: self.max_prepared_statements.unwrap_or(0),
        }
    }
}

/// Walks a whole catalog document.
pub fn catalog(root: &Node, path: &Path, report: &mut Report) -> Catalog {
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let empty = Catalog {
        path: path.to_path_buf(),
        domain: None,
        connect_timeout: 5,
        clusters: Vec::new(),
        sources: Vec::new(),
    };
    let Some(top) = Fields::open(root, "", TOP_KEYS, report) else {
        return empty;
    };
    version(&top, report);
    let domain = top.str("domain", report).map(|(d, _)| d.to_string());
    let template = hostname_template(&top, report);
    let defaults = Defaults {
        domain: domain.clone(),
        template,
        sslmode: sslmode(&top, report).unwrap_or(SslMode::VerifyFull),
        sslrootcert: sslrootcert(&top, base_dir, report).unwrap_or(RootCert::System),
        pooler: pooler(&top, report),
        shared_ips: shared_ips(&top, report),
    };
    let connect_timeout = top
        .uint("connect_timeout", 1, 3600, report)
        .map_or(5, |(t, _)| u32::try_from(t).unwrap_or(5));
    let clusters = if let Some(node) = top.get("clusters") {
        clusters(node, &defaults, base_dir, report)
    } else {
        report.error(top.pos, "", "the catalog has no `clusters`");
        Vec::new()
    };
    check_port_collisions(&clusters, report);
    Catalog {
        path: path.to_path_buf(),
        domain,
        connect_timeout,
        clusters,
        sources: Vec::new(),
    }
}

fn version(top: &Fields<'_>, report: &mut Report) {
    if !top.has("version") {
        report
            .warn(top.pos, "version", "no `version`; reading it as version 1")
            .hint = Some("add `version: 1` at the top".into());
        return;
    }
    if let Some((v, pos)) = top.uint("version", 0, u64::MAX, report)
        && v != 1
    {
        report
            .error(
                pos,
                "version",
                format!("catalog version {v} is not supported"),
            )
            .hint = Some("this pgconn reads version 1; upgrade pgconn".into());
    }
}

fn hostname_template(top: &Fields<'_>, report: &mut Report) -> Option<Template> {
    let (text, pos) = top
        .str("hostname_template", report)
        .unwrap_or((super::template::DEFAULT, top.pos));
    match Template::parse(text) {
        Ok(t) => Some(t),
        Err(message) => {
            report.error(pos, "hostname_template", message).hint =
                Some("placeholders: {cluster} {role} {domain} {namespace}".into());
            None
        }
    }
}

fn sslmode(fields: &Fields<'_>, report: &mut Report) -> Option<SslMode> {
    let mode = fields.one_of::<SslMode>("sslmode", report)?;
    if mode != SslMode::VerifyFull
        && let Some(node) = fields.get("sslmode")
    {
        report
            .warn(
                node.pos,
                &fields.child("sslmode"),
                format!("`{}` is weaker than verify-full", mode.as_str()),
            )
            .hint = Some("endpoints have publicly trusted certificates: use verify-full".into());
    }
    Some(mode)
}

fn sslrootcert(fields: &Fields<'_>, base_dir: &Path, report: &mut Report) -> Option<RootCert> {
    let (text, pos) = fields.str("sslrootcert", report)?;
    if text == "system" {
        return Some(RootCert::System);
    }
    let given = expand_home(text);
    let path = base_dir.join(given.strip_prefix("./").unwrap_or(&given));
    if !path.is_file() {
        report
            .error(
                pos,
                &fields.child("sslrootcert"),
                format!("root certificate file {} does not exist", path.display()),
            )
            .hint = Some("give a PEM file, or `system` for the OS trust store".into());
    }
    Some(RootCert::File(path))
}

/// Expands a leading `~/` the way users expect in a config file.
pub(super) fn expand_home(text: &str) -> PathBuf {
    match (text.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(text),
    }
}

fn pooler(fields: &Fields<'_>, report: &mut Report) -> PartialPooler {
    let Some(node) = fields.get("pooler") else {
        return PartialPooler::default();
    };
    let Some(p) = Fields::open(node, &fields.child("pooler"), POOLER_KEYS, report) else {
        return PartialPooler::default();
    };
    PartialPooler {
        kind: p.one_of::<PoolerKind>("kind", report),
        mode: p.one_of::<PoolMode>("mode", report),
        max_prepared_statements: p
            .uint("max_prepared_statements", 0, u64::from(u32::MAX), report)
            .and_then(|(n, _)| u32::try_from(n).ok()),
    }
}

fn shared_ips(top: &Fields<'_>, report: &mut Report) -> HashMap<Role, IpAddr> {
    let mut ips = HashMap::new();
    let Some(node) = top.get("shared_ips") else {
        return ips;
    };
    let Some(f) = Fields::open(node, "shared_ips", &role_names(), report) else {
        return ips;
    };
    for &role in Role::ALL {
        if let Some(ip) = ip_field(&f, role.as_str(), report) {
            ips.insert(role, ip);
        }
    }
    ips
}

fn ip_field(fields: &Fields<'_>, key: &str, report: &mut Report) -> Option<IpAddr> {
    let (text, pos) = fields.str(key, report)?;
    let ip = text.parse::<IpAddr>().ok();
    if ip.is_none() {
        report.error(
            pos,
            &fields.child(key),
            format!("`{text}` is not an IP address"),
        );
    }
    ip
}

fn clusters(
    node: &Node,
    defaults: &Defaults,
    base_dir: &Path,
    report: &mut Report,
) -> Vec<Cluster> {
    if !matches!(node.value, Value::Map(_)) {
        report.error(
            node.pos,
            "clusters",
            format!(
                "expected a mapping of cluster names, found {}",
                node.type_name()
            ),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for (key, value) in Fields::entries(node) {
        let path = join("clusters", &key.name);
        if !valid_name(&key.name) {
            report
                .error(
                    key.pos,
                    &path,
                    format!("`{}` is not a valid cluster name", key.name.escape_debug()),
                )
                .hint = Some("use letters, digits, `-`, `_` and `.`".into());
            continue;
        }
        if let Some(c) = cluster(&key.name, key.pos, value, &path, defaults, base_dir, report) {
            out.push(c);
        }
    }
    if out.is_empty() && !report.has_errors() {
        report.error(node.pos, "clusters", "the catalog lists no clusters");
    }
    out
}

/// A string field that must hold no control character: these values reach
/// `pg_service.conf`, `.pgpass`, connection strings and terminals, where a
/// newline would start a new setting (`sslmode=disable`) and an escape
/// sequence would rewrite the screen.
fn printable_str(f: &Fields<'_>, key: &str, report: &mut Report) -> Option<String> {
    let (value, pos) = f.str(key, report)?;
    printable(value, pos, &f.child(key), report).then(|| value.to_string())
}

/// Reports a control character in `value` (at `pos`, key `path`); false if one.
fn printable(value: &str, pos: Pos, path: &str, report: &mut Report) -> bool {
    let Some(c) = value.chars().find(|c| c.is_control()) else {
        return true;
    };
    report
        .error(
            pos,
            path,
            format!(
                "`{}` contains the control character U+{:04X}",
                value.escape_debug(),
                u32::from(c)
            ),
        )
        .hint = Some("names, hosts, users and databases are one line of printable text".into());
    false
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn cluster(
    name: &str,
    pos: Pos,
    node: &Node,
    path: &str,
    defaults: &Defaults,
    base_dir: &Path,
    report: &mut Report,
) -> Option<Cluster> {
    let f = Fields::open(node, path, CLUSTER_KEYS, report)?;
    let namespace = printable_str(&f, "namespace", report);
    let port = f
        .uint("port", 1, 65535, report)
        .map_or(5432, |(p, _)| u16::try_from(p).unwrap_or(5432));
    let database = printable_str(&f, "database", report);
    let pooler = pooler(&f, report).over(defaults.pooler).finish();
    let ctx = ClusterCtx {
        name,
        namespace: namespace.as_deref(),
        port,
        pooler,
        defaults,
        base_dir,
    };
    let endpoints = endpoints(&f, &ctx, report);
    let users = users(&f, &endpoints, report);
    check_default_users(&f, &endpoints, &users, report);
    Some(Cluster {
        name: name.to_string(),
        namespace,
        port,
        database,
        pooler,
        endpoints,
        users,
        pos,
    })
}

struct ClusterCtx<'a> {
    name: &'a str,
    namespace: Option<&'a str>,
    port: u16,
    pooler: Pooler,
    defaults: &'a Defaults,
    base_dir: &'a Path,
}

fn endpoints(f: &Fields<'_>, ctx: &ClusterCtx<'_>, report: &mut Report) -> Vec<Endpoint> {
    let Some(node) = f.get("endpoints") else {
        report
            .error(f.pos, &f.path, "the cluster has no `endpoints`")
            .hint = Some("add at least `endpoints: { write: {} }`".into());
        return Vec::new();
    };
    let Some(e) = Fields::open(node, &f.child("endpoints"), &role_names(), report) else {
        return Vec::new();
    };
    Role::ALL
        .iter()
        .copied()
        .filter(|role| e.has(role.as_str()))
        .filter_map(|role| {
            let node = e.get(role.as_str());
            endpoint(role, node, &e.child(role.as_str()), ctx, report)
        })
        .collect()
}

fn endpoint(
    role: Role,
    node: Option<&Node>,
    path: &str,
    ctx: &ClusterCtx<'_>,
    report: &mut Report,
) -> Option<Endpoint> {
    let null = Node {
        value: Value::Null,
        pos: Pos::default(),
    };
    let node = node.unwrap_or(&null);
    let f = Fields::open(node, path, ENDPOINT_KEYS, report)?;
    let host = match f.str("host", report) {
        Some((h, pos)) => {
            check_host(h, pos, &f.child("host"), report);
            h.to_string()
        }
        None => derived_host(role, &f, ctx, report)?,
    };
    let port = f
        .uint("port", 1, 65535, report)
        .map_or(ctx.port, |(p, _)| u16::try_from(p).unwrap_or(ctx.port));
    let ip = ip_field(&f, "ip", report).or_else(|| ctx.defaults.shared_ips.get(&role).copied());
    let pooled = f
        .bool("pooled", report)
        .unwrap_or(role != Role::Admin && ctx.pooler.kind != PoolerKind::None);
    Some(Endpoint {
        role,
        host,
        port,
        ip,
        pooled,
        sslmode: sslmode(&f, report).unwrap_or(ctx.defaults.sslmode),
        sslrootcert: sslrootcert(&f, ctx.base_dir, report)
            .unwrap_or_else(|| ctx.defaults.sslrootcert.clone()),
        allowed_source_ranges: source_ranges(&f, report),
        service: service_ref(&f, report),
    })
}

/// `service: NAMESPACE/NAME`: the in-cluster Service behind the endpoint.
fn service_ref(f: &Fields<'_>, report: &mut Report) -> Option<ServiceRef> {
    let (text, pos) = f.str("service", report)?;
    let parsed = text.split_once('/').filter(|(ns, name)| {
        [ns, name].iter().all(|part| {
            !part.is_empty()
                && part.len() <= 253
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        })
    });
    if let Some((namespace, name)) = parsed {
        return Some(ServiceRef {
            namespace: namespace.to_string(),
            name: name.to_string(),
        });
    }
    report
        .error(
            pos,
            &f.child("service"),
            format!("`{text}` is not NAMESPACE/NAME"),
        )
        .hint = Some("name the in-cluster Service, e.g. `temporal/temporal-db-rw`".into());
    None
}

fn derived_host(
    role: Role,
    f: &Fields<'_>,
    ctx: &ClusterCtx<'_>,
    report: &mut Report,
) -> Option<String> {
    let template = ctx.defaults.template.as_ref()?;
    match template.render(
        ctx.name,
        role,
        ctx.defaults.domain.as_deref(),
        ctx.namespace,
    ) {
        Ok(host) => {
            check_host(&host, f.pos, &f.path, report);
            Some(host)
        }
        Err(missing) => {
            report
                .error(
                    f.pos,
                    &f.path,
                    format!("the host name template needs `{missing}`, which is not set"),
                )
                .hint = Some(format!("set `{missing}` or give this endpoint a `host`"));
            None
        }
    }
}

/// A DNS name the catalog accepts: labels of letters, digits, `-` and `_`.
pub fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

fn check_host(host: &str, pos: Pos, path: &str, report: &mut Report) {
    if !is_host_name(host) && host.parse::<IpAddr>().is_err() {
        report.error(
            pos,
            path,
            format!("`{}` is not a valid host name", host.escape_debug()),
        );
    }
}

fn source_ranges(f: &Fields<'_>, report: &mut Report) -> Option<Vec<IpNet>> {
    let items = f.str_list("allowed_source_ranges", report)?;
    let path = f.child("allowed_source_ranges");
    let mut nets = Vec::with_capacity(items.len());
    for (text, pos) in items {
        if let Ok(net) = text.parse::<IpNet>() {
            nets.push(net);
            continue;
        }
        let d = report.error(pos, &path, format!("`{text}` is not a CIDR range"));
        if let Ok(ip) = text.parse::<IpAddr>() {
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            d.hint = Some(format!("for a single address write `{ip}/{bits}`"));
        }
    }
    Some(nets)
}

fn users(f: &Fields<'_>, endpoints: &[Endpoint], report: &mut Report) -> Vec<User> {
    let Some(node) = f.get("users") else {
        return Vec::new();
    };
    let path = f.child("users");
    if !matches!(node.value, Value::Map(_)) {
        report.error(
            node.pos,
            &path,
            format!(
                "expected a mapping of user names, found {}",
                node.type_name()
            ),
        );
        return Vec::new();
    }
    Fields::entries(node)
        .filter_map(|(key, value)| {
            let upath = join(&path, &key.name);
            if !printable(&key.name, key.pos, &upath, report) {
                return None;
            }
            let u = Fields::open(value, &upath, USER_KEYS, report)?;
            Some(User {
                name: key.name.clone(),
                roles: user_roles(&u, endpoints, report),
                credentials: u
                    .get("credentials")
                    .map(|c| super::sources::credentials(c, &u.child("credentials"), report)),
                pos: u.get("credentials").map_or(value.pos, |c| c.pos),
            })
        })
        .collect()
}

fn user_roles(u: &Fields<'_>, endpoints: &[Endpoint], report: &mut Report) -> Vec<Role> {
    let path = u.child("roles");
    let mut roles = Vec::new();
    for (text, pos) in u.str_list("roles", report).unwrap_or_default() {
        let Some(role) = Role::parse(text) else {
            report
                .error(pos, &path, format!("unknown role `{text}`"))
                .hint = Some("roles are write, read and admin".into());
            continue;
        };
        if !endpoints.iter().any(|e| e.role == role) {
            report.error(
                pos,
                &path,
                format!("role `{role}` has no endpoint in this cluster"),
            );
        }
        roles.push(role);
    }
    roles
}

fn check_default_users(
    f: &Fields<'_>,
    endpoints: &[Endpoint],
    users: &[User],
    report: &mut Report,
) {
    let pos = f.get("users").map_or(f.pos, |n| n.pos);
    for endpoint in endpoints {
        let owners: Vec<&str> = users
            .iter()
            .filter(|u| u.roles.contains(&endpoint.role))
            .map(|u| u.name.as_str())
            .collect();
        match owners.as_slice() {
            [] if users.is_empty() => {}
            [] => {
                report
                    .error(
                        pos,
                        &f.child("users"),
                        format!("no user has role `{}`", endpoint.role),
                    )
                    .hint = Some(format!("add `{}` to one user's `roles`", endpoint.role));
            }
            [_] => {}
            many => {
                report.error(
                    pos,
                    &f.child("users"),
                    format!(
                        "role `{}` has more than one default user: {}",
                        endpoint.role,
                        many.join(", ")
                    ),
                );
            }
        }
    }
}

/// Two clusters on the same address and port for the same role would send
/// one cluster's clients to the other.
fn check_port_collisions(clusters: &[Cluster], report: &mut Report) {
    let mut seen: HashMap<(Role, String, u16), &str> = HashMap::new();
    for cluster in clusters {
        for e in &cluster.endpoints {
            let addr = e.ip.map_or_else(|| e.host.clone(), |ip| ip.to_string());
            let key = (e.role, addr.clone(), e.port);
            if let Some(first) = seen.get(&key) {
                report
                    .error(
                        cluster.pos,
                        &join("clusters", &cluster.name),
                        format!(
                            "{} endpoint {addr}:{} is also cluster `{first}`'s",
                            e.role, e.port
                        ),
                    )
                    .hint = Some("each cluster needs its own port on a shared IP".into());
            } else {
                seen.insert(key, &cluster.name);
            }
        }
    }
}

/// The keys of a per-role mapping (`shared_ips`, `endpoints`).
fn role_names() -> Vec<&'static str> {
    Role::names().collect()
}
