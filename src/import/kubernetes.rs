//! `catalog import kubernetes`: read the operators' objects and the Services
//! (read-only: discovery and list calls, each bounded by the timeout), then
//! build the clusters from them ([`build`], pure, so it is tested without a
//! server).
//!
//! Clusters come from Zalando `postgresql` and CloudNativePG `Cluster`
//! objects; endpoints from `LoadBalancer` Services (external-dns host name,
//! MetalLB/status IP, `loadBalancerSourceRanges`); each endpoint's `service`
//! is the in-cluster Service with the same selector, else the one whose
//! Endpoints reach the same pods (Zalando's master Service has no selector:
//! Patroni writes its Endpoints). Pods are not listed: Endpoints say enough.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use futures_util::future::join_all;
use ipnet::IpNet;
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::{Api, Client};
use serde_json::Value;

use super::ImportError;
use super::model::{
    Imported, ImportedCluster, ImportedEndpoint, ImportedPooler, ImportedUser, assign_roles,
    cloudnativepg_users, zalando_users,
};
use crate::catalog::{PoolMode, Role, ServiceRef};
use crate::knowledge::sanitize;
use crate::net::runtime::block_on;

/// Which namespaces to read.
#[derive(Debug, Clone)]
pub enum Scope {
    /// The context's namespace (as kubectl).
    Context,
    /// One namespace (`-n`).
    Namespace(String),
    /// Every namespace (`-A`).
    All,
}

/// What `import kubernetes` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// kubeconfig context; the current one when `None`.
    pub context: Option<String>,
    /// Namespaces to read.
    pub scope: Scope,
    /// DNS suffix to factor out; the most common one when `None`.
    pub domain: Option<String>,
    /// In-cluster endpoints for clusters without external Services.
    pub internal: bool,
    /// Bound of each request.
    pub timeout: Duration,
}

/// The objects an import reads, as the API server gave them.
#[derive(Debug, Default, Clone)]
pub struct Objects {
    /// `Service` (v1).
    pub services: Vec<Value>,
    /// `Endpoints` (v1).
    pub endpoints: Vec<Value>,
    /// Zalando `postgresql` (acid.zalan.do/v1).
    pub zalando: Vec<Value>,
    /// CloudNativePG `Cluster` (postgresql.cnpg.io/v1).
    pub cnpg_clusters: Vec<Value>,
    /// CloudNativePG `Pooler` (postgresql.cnpg.io/v1).
    pub cnpg_poolers: Vec<Value>,
}

/// One kind read by the import.
struct Kind {
    group: &'static str,
    version: &'static str,
    name: &'static str,
    plural: &'static str,
}

const KINDS: [Kind; 5] = [
    Kind {
        group: "",
        version: "v1",
        name: "Service",
        plural: "services",
    },
    Kind {
        group: "",
        version: "v1",
        name: "Endpoints",
        plural: "endpoints",
    },
    Kind {
        group: "acid.zalan.do",
        version: "v1",
        name: "postgresql",
        plural: "postgresqls",
    },
    Kind {
        group: "postgresql.cnpg.io",
        version: "v1",
        name: "Cluster",
        plural: "clusters",
    },
    Kind {
        group: "postgresql.cnpg.io",
        version: "v1",
        name: "Pooler",
        plural: "poolers",
    },
];

impl Kind {
    fn resource(&self) -> ApiResource {
        let api_version = if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        };
        ApiResource {
            group: self.group.into(),
            version: self.version.into(),
            api_version,
            kind: self.name.into(),
            plural: self.plural.into(),
        }
    }

    fn resource_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// Reads the objects: the kinds of API groups that are not installed are
/// skipped, a 403 is noted and skipped; `Err` only when nothing could be read.
pub fn read(options: &Options) -> Result<(Objects, Vec<String>, String), ImportError> {
    block_on(
        "the Kubernetes API server",
        options.timeout * 4,
        read_async(options),
    )
    .map_err(ImportError::Unreadable)?
}

async fn read_async(options: &Options) -> Result<(Objects, Vec<String>, String), ImportError> {
    let (client, ctx, default_ns) =
        match crate::kube_client::connect(options.context.clone(), options.timeout).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Err(ImportError::Unreadable(
                    "no kubeconfig (KUBECONFIG, ~/.kube/config) and not in a pod".into(),
                ));
            }
            Err(e) => return Err(ImportError::Unreadable(e)),
        };
    let namespace = match &options.scope {
        Scope::All => None,
        Scope::Namespace(ns) => Some(ns.clone()),
        Scope::Context => Some(default_ns),
    };
    let groups = installed_groups(&client, options.timeout).await;
    let mut notes = Vec::new();
    let lists = KINDS.iter().map(|kind| {
        let skip = !kind.group.is_empty() && groups.as_ref().is_ok_and(|g| !g.contains(kind.group));
        let client = client.clone();
        let namespace = namespace.clone();
        async move {
            if skip {
                return Ok(None);
            }
            list(client, kind, namespace.as_deref(), options.timeout)
                .await
                .map(Some)
        }
    });
    let results = join_all(lists).await;
    let mut objects = Objects::default();
    let mut failures = Vec::new();
    let mut read_any = false;
    for (kind, result) in KINDS.iter().zip(results) {
        let items = match result {
            Ok(Some(items)) => {
                read_any = true;
                items
            }
            Ok(None) | Err(Failure::NotInstalled) => continue,
            Err(Failure::Forbidden(message)) => {
                let text = format!(
                    "403 Forbidden reading {} ({ctx}): {message}",
                    kind.resource_name()
                );
                notes.push(format!("{text}; skipped"));
                failures.push(text);
                continue;
            }
            Err(Failure::Other(message)) => {
                failures.push(format!(
                    "reading {} ({ctx}): {message}",
                    kind.resource_name()
                ));
                continue;
            }
        };
        match kind.plural {
            "services" => objects.services = items,
            "endpoints" => objects.endpoints = items,
            "postgresqls" => objects.zalando = items,
            "clusters" => objects.cnpg_clusters = items,
            _ => objects.cnpg_poolers = items,
        }
    }
    if !read_any {
        return Err(ImportError::Unreadable(failures.join("; ")));
    }
    notes.extend(
        failures
            .into_iter()
            .filter(|f| !f.starts_with("403"))
            .map(|f| format!("{f}; skipped")),
    );
    let scope = namespace.map_or_else(|| "all namespaces".into(), |ns| format!("namespace {ns}"));
    Ok((objects, notes, format!("{ctx}, {scope}")))
}

enum Failure {
    Forbidden(String),
    NotInstalled,
    Other(String),
}

/// The API groups the server serves (`/apis`); `Err` leaves the decision to
/// the list calls (a 404 there means not installed).
async fn installed_groups(client: &Client, timeout: Duration) -> Result<BTreeSet<String>, ()> {
    match tokio::time::timeout(timeout, client.list_api_groups()).await {
        Ok(Ok(list)) => Ok(list.groups.into_iter().map(|g| g.name).collect()),
        _ => Err(()),
    }
}

async fn list(
    client: Client,
    kind: &Kind,
    namespace: Option<&str>,
    timeout: Duration,
) -> Result<Vec<Value>, Failure> {
    let resource = kind.resource();
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::all_with(client, &resource),
    };
    let listed = tokio::time::timeout(timeout, api.list(&ListParams::default()))
        .await
        .map_err(|_| Failure::Other(format!("no answer within {} s", timeout.as_secs_f32())))?;
    match listed {
        Ok(list) => Ok(list
            .items
            .into_iter()
            .filter_map(|o| serde_json::to_value(o).ok())
            .collect()),
        Err(kube::Error::Api(status)) if status.code == 403 => {
            Err(Failure::Forbidden(sanitize(&status.message)))
        }
        Err(kube::Error::Api(status)) if status.code == 404 => Err(Failure::NotInstalled),
        Err(kube::Error::Api(status)) if status.code == 401 => Err(Failure::Other(
            "401 Unauthorized: log in again (expired token?)".into(),
        )),
        Err(e) => Err(Failure::Other(sanitize(&crate::net::error_chain(&e)))),
    }
}

// ------------------------------------------------------------------ building

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn name_of(v: &Value) -> &str {
    text(v, &["metadata", "name"]).unwrap_or_default()
}

fn namespace_of(v: &Value) -> &str {
    text(v, &["metadata", "namespace"]).unwrap_or_default()
}

fn labels(v: &Value, path: &[&str]) -> BTreeMap<String, String> {
    at(v, path)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn parse_mode(text: &str) -> Option<PoolMode> {
    match text {
        "transaction" => Some(PoolMode::Transaction),
        "session" => Some(PoolMode::Session),
        "statement" => Some(PoolMode::Statement),
        _ => None,
    }
}

/// Which operator made a cluster: it names the in-cluster Services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Zalando,
    CloudNativePg,
    Unknown,
}

/// A cluster as its operator object describes it.
struct OperatorCluster {
    namespace: String,
    name: String,
    operator: Operator,
    origin: String,
    database: Option<String>,
    owner: Option<String>,
    superuser: Option<String>,
    users: Vec<ImportedUser>,
    pooler: Option<ImportedPooler>,
    /// In-cluster Services of its poolers, by role.
    pooler_services: Vec<(Role, String)>,
}

impl OperatorCluster {
    fn direct_service(&self, role: Role) -> Option<String> {
        let c = &self.name;
        match (self.operator, role) {
            (Operator::Zalando, Role::Read) => Some(format!("{c}-repl")),
            (Operator::Zalando, _) => Some(c.clone()),
            (Operator::CloudNativePg, Role::Read) => Some(format!("{c}-ro")),
            (Operator::CloudNativePg, _) => Some(format!("{c}-rw")),
            (Operator::Unknown, _) => None,
        }
    }

    fn is_pooler_service(&self, name: &str) -> bool {
        self.pooler_services.iter().any(|(_, s)| s == name)
    }
}

fn zalando(object: &Value) -> OperatorCluster {
    let (ns, name) = (namespace_of(object), name_of(object));
    let origin = format!("postgresql {ns}/{name}");
    let spec = object.get("spec").cloned().unwrap_or(Value::Null);
    let (users, superuser) =
        zalando_users(name, spec.get("users"), &format!("{origin} spec.users"));
    let (database, owner) = spec
        .get("databases")
        .and_then(Value::as_object)
        .and_then(|m| m.iter().next())
        .map(|(db, owner)| (Some(db.clone()), owner.as_str().map(str::to_string)))
        .unwrap_or_default();
    let flag = |k: &str| spec.get(k).and_then(Value::as_bool).unwrap_or(false);
    let mut pooler_services = Vec::new();
    if flag("enableConnectionPooler") {
        pooler_services.push((Role::Write, format!("{name}-pooler")));
    }
    if flag("enableReplicaConnectionPooler") {
        pooler_services.push((Role::Read, format!("{name}-pooler-repl")));
    }
    let pooler = (!pooler_services.is_empty()).then(|| ImportedPooler {
        mode: text(&spec, &["connectionPooler", "mode"])
            .and_then(parse_mode)
            .unwrap_or(PoolMode::Transaction),
        origin: format!("{origin} spec.connectionPooler"),
    });
    OperatorCluster {
        namespace: ns.into(),
        name: name.into(),
        operator: Operator::Zalando,
        origin,
        database,
        owner,
        superuser,
        users,
        pooler,
        pooler_services,
    }
}

fn cloudnativepg(object: &Value, poolers: &[Value]) -> OperatorCluster {
    let (ns, name) = (namespace_of(object), name_of(object));
    let origin = format!("Cluster {ns}/{name}");
    let initdb = at(object, &["spec", "bootstrap", "initdb"]);
    let database = initdb
        .and_then(|i| text(i, &["database"]))
        .unwrap_or("app")
        .to_string();
    let owner = initdb
        .and_then(|i| text(i, &["owner"]))
        .unwrap_or(&database)
        .to_string();
    let superuser_access = at(object, &["spec", "enableSuperuserAccess"])
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (users, superuser) = cloudnativepg_users(
        name,
        &owner,
        superuser_access,
        at(object, &["spec", "managed", "roles"]),
        &origin,
    );
    let mine: Vec<&Value> = poolers
        .iter()
        .filter(|p| namespace_of(p) == ns && text(p, &["spec", "cluster", "name"]) == Some(name))
        .collect();
    let mut pooler_services = Vec::new();
    let mut pooler = None;
    for p in &mine {
        let role = match text(p, &["spec", "type"]) {
            Some("ro") => Role::Read,
            _ => Role::Write,
        };
        pooler_services.push((role, name_of(p).to_string()));
        if pooler.is_none() || role == Role::Write {
            pooler = Some(ImportedPooler {
                // CloudNativePG's default pool mode is session
                mode: text(p, &["spec", "pgbouncer", "poolMode"])
                    .and_then(parse_mode)
                    .unwrap_or(PoolMode::Session),
                origin: format!("Pooler {ns}/{}", name_of(p)),
            });
        }
    }
    OperatorCluster {
        namespace: ns.into(),
        name: name.into(),
        operator: Operator::CloudNativePg,
        origin,
        database: Some(database),
        owner: Some(owner),
        superuser,
        users,
        pooler,
        pooler_services,
    }
}

/// Cluster and role of a `LoadBalancer` Service: labels, else the chart's
/// name `{cluster}-external-{role}`, else the host `{cluster}-{role}.…`.
fn cluster_and_role(service: &Value, host: &str) -> Option<(String, Role)> {
    let name = name_of(service);
    let l = labels(service, &["metadata", "labels"]);
    let labelled = l.get("cluster-name").or_else(|| l.get("cnpg.io/cluster"));
    let by_name = name
        .rsplit_once("-external-")
        .and_then(|(c, r)| Some((c.to_string(), Role::parse(r)?)));
    let first = host.split('.').next().unwrap_or_default();
    let by_host = first
        .rsplit_once('-')
        .and_then(|(c, r)| Some((c.to_string(), Role::parse(r)?)));
    match labelled {
        Some(cluster) => {
            let role = by_name
                .as_ref()
                .filter(|(c, _)| c == cluster)
                .or(by_host.as_ref().filter(|(c, _)| c == cluster))
                .map(|(_, r)| *r)
                .or_else(|| {
                    Role::ALL
                        .iter()
                        .copied()
                        .find(|r| name.ends_with(&format!("-{r}")))
                })?;
            Some((cluster.clone(), role))
        }
        None => by_name.or(by_host),
    }
}

/// The port clients use: the one named for PostgreSQL or PgBouncer, else the only one.
fn service_port(service: &Value) -> Option<u16> {
    let ports = at(service, &["spec", "ports"])?.as_array()?;
    let named = ports.iter().find(|p| {
        matches!(
            text(p, &["name"]),
            Some("postgresql" | "postgres" | "pgbouncer")
        )
    });
    let port = named.or(if ports.len() == 1 {
        ports.first()
    } else {
        None
    })?;
    u16::try_from(port.get("port")?.as_u64()?)
        .ok()
        .filter(|p| *p > 0)
}

fn service_ip(service: &Value) -> Option<IpAddr> {
    let annotations = labels(service, &["metadata", "annotations"]);
    at(service, &["status", "loadBalancer", "ingress"])
        .and_then(|i| i.get(0))
        .and_then(|i| i.get("ip"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            annotations
                .get("metallb.universe.tf/loadBalancerIPs")
                .cloned()
        })
        .or_else(|| annotations.get("metallb.io/loadBalancerIPs").cloned())
        .or_else(|| text(service, &["spec", "loadBalancerIP"]).map(str::to_string))
        .and_then(|ips| ips.split(',').next()?.trim().parse().ok())
}

/// `loadBalancerSourceRanges`; absent or everyone (`0.0.0.0/0`, `::/0`) is no allowlist.
fn source_ranges(service: &Value, notes: &mut Vec<String>) -> Option<Vec<IpNet>> {
    let items = at(service, &["spec", "loadBalancerSourceRanges"])?.as_array()?;
    let mut nets = Vec::new();
    for item in items.iter().filter_map(Value::as_str) {
        match item.trim().parse::<IpNet>() {
            Ok(net) => nets.push(net),
            Err(_) => notes.push(format!(
                "Service {}/{}: `{}` in loadBalancerSourceRanges is not a CIDR range; left out",
                namespace_of(service),
                name_of(service),
                sanitize(item)
            )),
        }
    }
    if nets.is_empty() || nets.iter().all(|n| n.prefix_len() == 0) {
        return None;
    }
    Some(nets)
}

/// The in-cluster Services of each namespace with their selectors, and the
/// pods every Service reaches (its Endpoints, which the control plane keeps
/// for a selector and Patroni for Zalando's master), computed once: matching
/// every `LoadBalancer` Service against them stays linear.
struct Index<'a> {
    services: BTreeMap<&'a str, Vec<InCluster<'a>>>,
    reaches: BTreeMap<(&'a str, &'a str), BTreeSet<&'a str>>,
}

struct InCluster<'a> {
    name: &'a str,
    selector: BTreeMap<String, String>,
}

impl<'a> Index<'a> {
    fn new(objects: &'a Objects) -> Index<'a> {
        let mut reaches: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
        for e in &objects.endpoints {
            let pods = reaches.entry((namespace_of(e), name_of(e))).or_default();
            let subsets = e.get("subsets").and_then(Value::as_array);
            for subset in subsets.into_iter().flatten() {
                let addresses = subset.get("addresses").and_then(Value::as_array);
                for a in addresses.into_iter().flatten() {
                    if let Some(pod) = text(a, &["targetRef", "name"]) {
                        pods.insert(pod);
                    }
                }
            }
        }
        let mut services: BTreeMap<&str, Vec<InCluster<'_>>> = BTreeMap::new();
        for s in &objects.services {
            if text(s, &["spec", "type"]) != Some("LoadBalancer") {
                services
                    .entry(namespace_of(s))
                    .or_default()
                    .push(InCluster {
                        name: name_of(s),
                        selector: labels(s, &["spec", "selector"]),
                    });
            }
        }
        Index { services, reaches }
    }

    /// The in-cluster Service behind a `LoadBalancer` one: the one with the
    /// same selector, else the one whose Endpoints reach the same pods, else
    /// the `LoadBalancer` Service itself.
    fn in_cluster_service(&self, lb: &Value) -> ServiceRef {
        let ns = namespace_of(lb);
        let selector = labels(lb, &["spec", "selector"]);
        let candidates = self.services.get(ns).map_or(&[][..], Vec::as_slice);
        let same_selector = candidates
            .iter()
            .find(|s| !selector.is_empty() && s.selector == selector);
        let same_pods = || {
            let wanted = self
                .reaches
                .get(&(ns, name_of(lb)))
                .filter(|w| !w.is_empty())?;
            candidates
                .iter()
                .find(|s| self.reaches.get(&(ns, s.name)) == Some(wanted))
        };
        ServiceRef {
            namespace: ns.into(),
            name: same_selector
                .or_else(same_pods)
                .map_or(name_of(lb), |s| s.name)
                .into(),
        }
    }
}

/// The endpoint a `LoadBalancer` Service gives, filed under its cluster.
fn lb_endpoint(
    lb: &Value,
    index: &Index<'_>,
    clusters: &mut BTreeMap<(String, String), OperatorCluster>,
    endpoints: &mut BTreeMap<(String, String), Vec<ImportedEndpoint>>,
    notes: &mut Vec<String>,
) {
    let origin = format!("Service {}/{}", namespace_of(lb), name_of(lb));
    let annotations = labels(lb, &["metadata", "annotations"]);
    let Some(host) = annotations
        .get("external-dns.alpha.kubernetes.io/hostname")
        .and_then(|h| h.split(',').map(str::trim).find(|h| !h.is_empty()))
        .map(|h| h.trim_end_matches('.').to_string())
    else {
        notes.push(format!(
            "{origin}: no external-dns.alpha.kubernetes.io/hostname annotation; left out"
        ));
        return;
    };
    let Some((cluster, role)) = cluster_and_role(lb, &host) else {
        notes.push(format!(
            "{origin}: cannot tell its cluster and role (no cluster-name/cnpg.io/cluster label, \
             not named {{cluster}}-external-{{role}}, host not {{cluster}}-{{role}}.…); left out"
        ));
        return;
    };
    if !crate::catalog::is_host_name(&host) {
        notes.push(format!(
            "{origin}: `{host}` (external-dns hostname) is not a host name clients can use; left out"
        ));
        return;
    }
    let Some(port) = service_port(lb) else {
        notes.push(format!(
            "{origin}: no port named postgresql/postgres/pgbouncer and not exactly one; left out"
        ));
        return;
    };
    let key = (namespace_of(lb).to_string(), cluster.clone());
    let op = clusters.entry(key.clone()).or_insert_with(|| {
        notes.push(format!(
            "{origin}: no operator object for cluster {cluster}; the cluster has no users"
        ));
        OperatorCluster {
            namespace: key.0.clone(),
            name: cluster.clone(),
            operator: Operator::Unknown,
            origin: origin.clone(),
            database: None,
            owner: None,
            superuser: None,
            users: Vec::new(),
            pooler: None,
            pooler_services: Vec::new(),
        }
    });
    let service = index.in_cluster_service(lb);
    let selector = labels(lb, &["spec", "selector"]);
    let pooled = role != Role::Admin
        && op.pooler.is_some()
        && (op.is_pooler_service(&service.name)
            || selector.contains_key("connection-pooler")
            || selector.contains_key("cnpg.io/poolerName"));
    let list = endpoints.entry(key).or_default();
    if list.iter().any(|e| e.role == role) {
        notes.push(format!(
            "{origin}: a second {role} endpoint of {cluster}; left out"
        ));
        return;
    }
    list.push(ImportedEndpoint {
        role,
        host,
        port,
        ip: service_ip(lb),
        allowed_source_ranges: source_ranges(lb, notes),
        pooled,
        service: Some(service),
        origin,
    });
}

/// Builds the clusters from what was read.
pub fn build(objects: &Objects, domain: Option<String>, internal: bool) -> Imported {
    let mut notes = Vec::new();
    let mut clusters: BTreeMap<(String, String), OperatorCluster> = BTreeMap::new();
    for o in &objects.zalando {
        let c = zalando(o);
        clusters.insert((c.namespace.clone(), c.name.clone()), c);
    }
    for o in &objects.cnpg_clusters {
        let c = cloudnativepg(o, &objects.cnpg_poolers);
        clusters.insert((c.namespace.clone(), c.name.clone()), c);
    }
    let mut endpoints: BTreeMap<(String, String), Vec<ImportedEndpoint>> = BTreeMap::new();
    let mut lbs: Vec<&Value> = objects
        .services
        .iter()
        .filter(|s| text(s, &["spec", "type"]) == Some("LoadBalancer"))
        .collect();
    lbs.sort_by_key(|s| (namespace_of(s).to_string(), name_of(s).to_string()));
    let index = Index::new(objects);
    for lb in lbs {
        lb_endpoint(lb, &index, &mut clusters, &mut endpoints, &mut notes);
    }
    let mut out: BTreeMap<String, ImportedCluster> = BTreeMap::new();
    for (key, op) in clusters {
        let mut eps = endpoints.remove(&key).unwrap_or_default();
        if eps.is_empty() && internal {
            eps = internal_endpoints(&op, objects);
        }
        if eps.is_empty() {
            notes.push(format!(
                "{}: no external Service; left out (--internal gives it in-cluster endpoints)",
                op.origin
            ));
            continue;
        }
        eps.sort_by_key(|e| e.role);
        if out.contains_key(&op.name) {
            notes.push(format!(
                "{}: a cluster of that name was imported from another namespace; left out",
                op.origin
            ));
            continue;
        }
        let mut users = op.users.clone();
        assign_roles(
            &mut users,
            op.owner.as_deref(),
            op.superuser.as_deref(),
            &eps,
        );
        out.insert(
            op.name.clone(),
            ImportedCluster {
                name: op.name.clone(),
                namespace: Some(op.namespace.clone()),
                origin: op.origin.clone(),
                database: op.database.clone(),
                pooler: op.pooler.clone(),
                endpoints: eps,
                users,
            },
        );
    }
    Imported {
        clusters: out.into_values().collect(),
        domain,
        notes,
        ..Imported::default()
    }
}

/// Endpoints on the in-cluster names (`{service}.{namespace}.svc`): the
/// pooler's Service for write and read when there is one, else the direct one.
fn internal_endpoints(op: &OperatorCluster, objects: &Objects) -> Vec<ImportedEndpoint> {
    let find = |name: &str| {
        objects
            .services
            .iter()
            .find(|s| namespace_of(s) == op.namespace && name_of(s) == name)
    };
    let mut out = Vec::new();
    for &role in Role::ALL {
        let pooler = (role != Role::Admin)
            .then(|| op.pooler_services.iter().find(|(r, _)| *r == role))
            .flatten()
            .map(|(_, s)| s.clone());
        let mut candidates = pooler.iter().cloned().chain(op.direct_service(role));
        let Some((service, name)) = candidates.find_map(|n| find(&n).map(|s| (s, n))) else {
            continue;
        };
        let Some(port) = service_port(service) else {
            continue;
        };
        out.push(ImportedEndpoint {
            role,
            host: format!("{name}.{}.svc", op.namespace),
            port,
            ip: None,
            allowed_source_ranges: None,
            pooled: op.pooler.is_some() && op.is_pooler_service(&name),
            service: Some(ServiceRef {
                namespace: op.namespace.clone(),
                name: name.clone(),
            }),
            origin: format!("Service {}/{name} (in-cluster)", op.namespace),
        });
    }
    out
}

/// Reads and builds.
pub fn import(options: &Options) -> Result<Imported, ImportError> {
    let (objects, mut notes, source) = read(options)?;
    let mut imported = build(&objects, options.domain.clone(), options.internal);
    notes.append(&mut imported.notes);
    imported.notes = notes;
    imported.source = source;
    imported.context.clone_from(&options.context);
    if imported.clusters.is_empty() {
        return Err(ImportError::NothingFound(format!(
            "no PostgreSQL cluster with endpoints in {}",
            imported.source
        )));
    }
    Ok(imported)
}
