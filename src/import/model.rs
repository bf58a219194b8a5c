//! What an import found, before it is written as a catalog: clusters with
//! their endpoints and users, each value tagged with the object it came from.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use crate::catalog::{PoolMode, Role, ServiceRef};

/// Everything one import found.
#[derive(Debug, Default)]
pub struct Imported {
    /// Clusters, sorted by name.
    pub clusters: Vec<ImportedCluster>,
    /// `--domain`; else the writer picks the most common DNS suffix.
    pub domain: Option<String>,
    /// Where it was read from, for the header comment (`context lab`).
    pub source: String,
    /// What was skipped or guessed, said on stderr.
    pub notes: Vec<String>,
    /// The kubeconfig context the credential sources should use, when asked for by name.
    pub context: Option<String>,
}

/// One cluster.
#[derive(Debug, Clone)]
pub struct ImportedCluster {
    /// Catalog name (the operator object's name).
    pub name: String,
    /// Kubernetes namespace.
    pub namespace: Option<String>,
    /// The object the cluster came from, e.g. `postgresql temporal/temporal-db`.
    pub origin: String,
    /// Default database.
    pub database: Option<String>,
    /// The PgBouncer in front of write and read, if any.
    pub pooler: Option<ImportedPooler>,
    /// Endpoints in role order.
    pub endpoints: Vec<ImportedEndpoint>,
    /// Users with their roles and Secrets.
    pub users: Vec<ImportedUser>,
}

/// A PgBouncer pooler.
#[derive(Debug, Clone)]
pub struct ImportedPooler {
    /// Its pool mode.
    pub mode: PoolMode,
    /// Where the mode was read.
    pub origin: String,
}

/// One endpoint.
#[derive(Debug, Clone)]
pub struct ImportedEndpoint {
    /// write, read or admin.
    pub role: Role,
    /// DNS name.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The address the name should resolve to.
    pub ip: Option<IpAddr>,
    /// The allowlist; `None` when anyone may connect.
    pub allowed_source_ranges: Option<Vec<IpNet>>,
    /// Whether a pooler answers.
    pub pooled: bool,
    /// The in-cluster Service behind it.
    pub service: Option<ServiceRef>,
    /// The object it came from, e.g. `Service temporal/temporal-db-external-write`.
    pub origin: String,
}

/// One database user.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    /// PostgreSQL role name (the catalog key; the Secret's `username` wins at login).
    pub name: String,
    /// Endpoint roles it is the default user of.
    pub roles: Vec<Role>,
    /// Why it has them (set by [`assign_roles`]).
    pub reason: String,
    /// The Kubernetes Secret with its password, when known.
    pub secret: Option<String>,
    /// The Secret's key holding the user name.
    pub username_key: Option<String>,
    /// Where the user (and the Secret's name) came from.
    pub origin: String,
}

/// The users of a cluster with their roles: the owner serves write and read,
/// the superuser admin (the owner when there is none); only roles that have
/// an endpoint are given.
pub fn assign_roles(
    users: &mut [ImportedUser],
    owner: Option<&str>,
    superuser: Option<&str>,
    endpoints: &[ImportedEndpoint],
) {
    let has = |role: Role| endpoints.iter().any(|e| e.role == role);
    let owner = owner
        .filter(|o| users.iter().any(|u| u.name == *o))
        .or_else(|| {
            users
                .iter()
                .map(|u| u.name.as_str())
                .find(|n| Some(*n) != superuser)
        })
        .map(str::to_string);
    let admin = superuser
        .filter(|s| users.iter().any(|u| u.name == *s))
        .map(str::to_string)
        .or_else(|| owner.clone());
    for u in users.iter_mut() {
        u.roles.clear();
        let is_owner = owner.as_deref() == Some(u.name.as_str());
        if is_owner {
            u.roles
                .extend([Role::Write, Role::Read].into_iter().filter(|r| has(*r)));
        }
        let is_admin = admin.as_deref() == Some(u.name.as_str()) && has(Role::Admin);
        if is_admin {
            u.roles.push(Role::Admin);
        }
        u.reason = match (is_owner, is_admin) {
            (true, true) => "the database owner; admin too, as no superuser is named".into(),
            (true, false) => "the database owner".into(),
            (false, true) => "the superuser".into(),
            (false, false) => String::new(),
        };
    }
}

/// Users of a Zalando cluster from its `users` map (`{name: [flags]}`), each
/// with the operator's Secret `{user}.{cluster}.credentials.postgresql.acid.zalan.do`
/// (`_` becomes `-`); and the first user flagged `superuser`.
pub fn zalando_users(
    cluster: &str,
    users: Option<&Value>,
    origin: &str,
) -> (Vec<ImportedUser>, Option<String>) {
    let mut out = Vec::new();
    let mut superuser = None;
    for (user, flags) in users.and_then(Value::as_object).into_iter().flatten() {
        let is_super = flags
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x.as_str() == Some("superuser")));
        if is_super && superuser.is_none() {
            superuser = Some(user.clone());
        }
        out.push(ImportedUser {
            name: user.clone(),
            roles: Vec::new(),
            reason: String::new(),
            secret: Some(format!(
                "{}.{cluster}.credentials.postgresql.acid.zalan.do",
                user.replace('_', "-")
            )),
            username_key: Some("username".into()),
            origin: format!("{origin}.{user} (Zalando Secret convention)"),
        });
    }
    (out, superuser)
}

/// Users of a CloudNativePG cluster: the owner with `{cluster}-app`,
/// `postgres` with `{cluster}-superuser` when superuser access is enabled,
/// and the managed roles (`managed.roles`) with a `passwordSecret`; and the
/// superuser (`postgres`, else the first managed role flagged so).
pub fn cloudnativepg_users(
    cluster: &str,
    owner: &str,
    superuser_access: bool,
    managed: Option<&Value>,
    origin: &str,
) -> (Vec<ImportedUser>, Option<String>) {
    let mut users = vec![ImportedUser {
        name: owner.to_string(),
        roles: Vec::new(),
        reason: String::new(),
        secret: Some(format!("{cluster}-app")),
        username_key: Some("username".into()),
        origin: format!("{origin}: owner of bootstrap.initdb (CloudNativePG Secret convention)"),
    }];
    if superuser_access {
        users.push(ImportedUser {
            name: "postgres".into(),
            roles: Vec::new(),
            reason: String::new(),
            secret: Some(format!("{cluster}-superuser")),
            username_key: Some("username".into()),
            origin: format!("{origin}: enableSuperuserAccess (CloudNativePG Secret convention)"),
        });
    }
    let (managed, managed_superuser) = managed_roles(managed, origin);
    for m in managed {
        if users.iter().all(|u| u.name != m.name) {
            users.push(m);
        }
    }
    let superuser = superuser_access
        .then(|| "postgres".to_string())
        .or(managed_superuser);
    (users, superuser)
}

/// CloudNativePG's managed roles (`spec.managed.roles`) that log in with a
/// `passwordSecret` (basic-auth: `username`, `password`); and the first one
/// flagged `superuser`.
fn managed_roles(roles: Option<&Value>, origin: &str) -> (Vec<ImportedUser>, Option<String>) {
    let roles = roles.and_then(Value::as_array);
    let mut users = Vec::new();
    let mut superuser = None;
    for (i, role) in roles.into_iter().flatten().enumerate() {
        let (Some(name), Some(secret)) = (
            role.get("name").and_then(Value::as_str),
            role.get("passwordSecret")
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str),
        ) else {
            continue;
        };
        let flag = |k: &str| role.get(k).and_then(Value::as_bool);
        if role.get("ensure").and_then(Value::as_str) == Some("absent")
            || flag("login") == Some(false)
        {
            continue;
        }
        if flag("superuser") == Some(true) && superuser.is_none() {
            superuser = Some(name.to_string());
        }
        users.push(ImportedUser {
            name: name.to_string(),
            roles: Vec::new(),
            reason: String::new(),
            secret: Some(secret.to_string()),
            username_key: Some("username".into()),
            origin: format!("{origin}: managed.roles[{i}].passwordSecret"),
        });
    }
    (users, superuser)
}
