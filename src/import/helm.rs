//! `catalog import helm`: the platform chart's values (`pgClusters[]` with
//! `externalAccess.{write,read,admin}`), several files merged as helm merges
//! them: maps key by key, later files win, lists replaced, `null` deletes.
//!
//! Users come from the values (`users`, Zalando style, with `databases`) or,
//! when `operator: cloudnativepg`, from CloudNativePG's Secret naming; the
//! in-cluster Services follow the operator's naming (Zalando unless said).

use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde_json::{Map, Value};

use super::ImportError;
use super::model::{
    Imported, ImportedCluster, ImportedEndpoint, ImportedPooler, ImportedUser, assign_roles,
    cloudnativepg_users, zalando_users,
};
use crate::catalog::{PoolMode, Role, ServiceRef};

/// Merges `over` into `base` as helm merges values files.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    b.remove(&k);
                } else if let Some(existing) = b.get_mut(&k) {
                    merge(existing, v);
                } else {
                    b.insert(k, v);
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Reads, merges and builds.
pub fn import(files: &[PathBuf]) -> Result<Imported, ImportError> {
    let mut values = Value::Object(Map::new());
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ImportError::Unreadable(format!("{}: {e}", path.display())))?;
        let doc = crate::catalog::yaml_to_json(&text)
            .map_err(|e| ImportError::Unreadable(format!("{}:{e}", path.display())))?;
        if !doc.is_null() {
            merge(&mut values, doc);
        }
    }
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let mut imported = build(&values, &format!("values {}", names.join(", ")));
    if imported.clusters.is_empty() {
        return Err(ImportError::NothingFound(format!(
            "no pgClusters with external access in {}",
            names.join(", ")
        )));
    }
    imported.source = format!("helm values {}", names.join(", "));
    Ok(imported)
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)?.as_str()
}

fn port(v: &Value) -> Option<u16> {
    let p = v.get("port")?;
    p.as_u64()
        .or_else(|| p.as_str()?.parse().ok())
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| *n > 0)
}

fn enabled(v: &Value) -> bool {
    v.get("enabled").and_then(Value::as_bool).unwrap_or(true)
}

/// What `allowedSourceRanges` says, when present.
enum Ranges {
    Absent,
    Everyone,
    Only(Vec<IpNet>),
}

fn ranges(v: &Value) -> Ranges {
    let Some(items) = v.get("allowedSourceRanges").and_then(Value::as_array) else {
        return Ranges::Absent;
    };
    let nets: Vec<IpNet> = items
        .iter()
        .filter_map(|i| i.as_str()?.trim().parse().ok())
        .collect();
    if nets.is_empty() || nets.iter().all(|n| n.prefix_len() == 0) {
        Ranges::Everyone
    } else {
        Ranges::Only(nets)
    }
}

impl Ranges {
    fn or(self, shared: Option<&Vec<IpNet>>) -> Option<Vec<IpNet>> {
        match self {
            Ranges::Absent => shared.cloned(),
            Ranges::Everyone => None,
            Ranges::Only(nets) => Some(nets),
        }
    }
}

/// Which operator's naming the cluster follows.
fn is_cloudnativepg(c: &Value) -> bool {
    matches!(text(c, "operator"), Some("cloudnativepg" | "cnpg"))
}

fn service_name(c: &Value, name: &str, role: Role) -> String {
    match (is_cloudnativepg(c), role) {
        (true, Role::Write) => format!("{name}-pooler-rw"),
        (true, Role::Read) => format!("{name}-pooler-ro"),
        (true, Role::Admin) => format!("{name}-rw"),
        (false, Role::Write) => format!("{name}-pooler"),
        (false, Role::Read) => format!("{name}-pooler-repl"),
        (false, Role::Admin) => name.to_string(),
    }
}

fn build(values: &Value, source: &str) -> Imported {
    let mut notes = Vec::new();
    let mut clusters: Vec<ImportedCluster> = Vec::new();
    let items = values
        .get("pgClusters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, c) in items.iter().enumerate() {
        let Some(name) = text(c, "name") else {
            notes.push(format!("pgClusters[{i}] has no name; left out"));
            continue;
        };
        let origin = format!("{source} pgClusters[{i}] ({name})");
        if let Some(cluster) = cluster(c, name, &origin, &mut notes) {
            if clusters.iter().any(|x| x.name == cluster.name) {
                notes.push(format!("{origin}: a second cluster {name}; left out"));
                continue;
            }
            clusters.push(cluster);
        }
    }
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    Imported {
        clusters,
        notes,
        ..Imported::default()
    }
}

fn cluster(
    c: &Value,
    name: &str,
    origin: &str,
    notes: &mut Vec<String>,
) -> Option<ImportedCluster> {
    let namespace = text(c, "namespace").map(str::to_string);
    let access = c.get("externalAccess").cloned().unwrap_or(Value::Null);
    if !enabled(&access) || access.is_null() {
        notes.push(format!("{origin}: externalAccess is not enabled; left out"));
        return None;
    }
    let dns_names: Vec<&str> = c
        .get("tls")
        .and_then(|t| t.get("additionalDNSNames"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let shared_ranges = ranges(&access).or(None);
    let mut endpoints = Vec::new();
    for &role in Role::ALL {
        let Some(e) = access.get(role.as_str()).filter(|e| enabled(e)) else {
            continue;
        };
        let eorigin = format!("{origin} externalAccess.{role}");
        let prefix = format!("{name}-{role}.");
        let Some(host) = text(e, "hostname")
            .or_else(|| dns_names.iter().copied().find(|d| d.starts_with(&prefix)))
        else {
            notes.push(format!(
                "{eorigin}: no hostname (nor one in tls.additionalDNSNames); left out"
            ));
            continue;
        };
        if !crate::catalog::is_host_name(host) {
            notes.push(format!(
                "{eorigin}: `{host}` is not a host name clients can use; left out"
            ));
            continue;
        }
        endpoints.push(ImportedEndpoint {
            role,
            host: host.to_string(),
            port: port(e).or_else(|| port(c)).unwrap_or(5432),
            ip: text(e, "loadBalancerIP").and_then(|ip| ip.parse::<IpAddr>().ok()),
            allowed_source_ranges: ranges(e).or(shared_ranges.as_ref()),
            pooled: role != Role::Admin,
            service: namespace.as_ref().map(|ns| ServiceRef {
                namespace: ns.clone(),
                name: service_name(c, name, role),
            }),
            origin: eorigin,
        });
    }
    if endpoints.is_empty() {
        notes.push(format!("{origin}: no enabled endpoint; left out"));
        return None;
    }
    let mode = c
        .get("pooler")
        .or_else(|| c.get("connectionPooler"))
        .and_then(|p| text(p, "mode").or_else(|| text(p, "poolMode")))
        .and_then(|m| match m {
            "session" => Some(PoolMode::Session),
            "statement" => Some(PoolMode::Statement),
            "transaction" => Some(PoolMode::Transaction),
            _ => None,
        })
        .unwrap_or(PoolMode::Transaction);
    let (database, mut users, owner, superuser) = users(c, name, origin);
    if users.is_empty() {
        notes.push(format!(
            "{origin}: the values name no users and no operator; the cluster has no users"
        ));
    }
    assign_roles(
        &mut users,
        owner.as_deref(),
        superuser.as_deref(),
        &endpoints,
    );
    Some(ImportedCluster {
        name: name.to_string(),
        namespace,
        origin: origin.to_string(),
        database,
        pooler: Some(ImportedPooler {
            mode,
            origin: format!("{origin} (write and read go through PgBouncer)"),
        }),
        endpoints,
        users,
    })
}

type Users = (
    Option<String>,
    Vec<ImportedUser>,
    Option<String>,
    Option<String>,
);

/// Database, users, owner and superuser from the values.
fn users(c: &Value, name: &str, origin: &str) -> Users {
    let databases = c.get("databases").and_then(Value::as_object);
    let (mut database, mut owner) = databases
        .and_then(|m| m.iter().next())
        .map(|(db, o)| (Some(db.clone()), o.as_str().map(str::to_string)))
        .unwrap_or_default();
    if is_cloudnativepg(c) {
        let initdb = c.get("bootstrap").and_then(|b| b.get("initdb"));
        let db = initdb
            .and_then(|i| text(i, "database"))
            .or_else(|| text(c, "database"))
            .unwrap_or("app")
            .to_string();
        let own = initdb
            .and_then(|i| text(i, "owner"))
            .or_else(|| text(c, "owner"))
            .unwrap_or(&db)
            .to_string();
        let superuser = c
            .get("enableSuperuserAccess")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let (users, superuser) = cloudnativepg_users(
            name,
            &own,
            superuser,
            c.get("managed").and_then(|m| m.get("roles")),
            origin,
        );
        return (Some(db), users, Some(own), superuser);
    }
    let (users, superuser) = zalando_users(name, c.get("users"), &format!("{origin} users"));
    if database.is_none() {
        database = text(c, "database").map(str::to_string);
        owner = owner.or_else(|| text(c, "owner").map(str::to_string));
    }
    (database, users, owner, superuser)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_helms_maps_key_by_key_lists_replaced() {
        let mut base =
            serde_json::json!({"a": {"x": 1, "y": [1, 2]}, "l": [{"n": 1}, {"n": 2}], "gone": 1});
        merge(
            &mut base,
            serde_json::json!({"a": {"y": [3], "z": 2}, "l": [{"n": 9}], "gone": null}),
        );
        assert_eq!(
            base,
            serde_json::json!({"a": {"x": 1, "y": [3], "z": 2}, "l": [{"n": 9}]})
        );
    }
}
