//! Import from objects in memory: the rules of the contract, each output run
//! through the catalog loader.

use serde_json::{Value, json};

use super::kubernetes::{Objects, build};
use super::{diff, to_catalog, writer};
use crate::catalog::{Catalog, Role};

fn zalando(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "acid.zalan.do/v1", "kind": "postgresql",
        "metadata": {"namespace": ns, "name": name},
        "spec": {"users": {"app": [], "root": ["superuser"]}, "databases": {"appdb": "app"},
                 "enableConnectionPooler": true, "connectionPooler": {"mode": "session"}}})
}

fn service(ns: &str, name: &str, selector: &Value, port: u16) -> Value {
    json!({"metadata": {"namespace": ns, "name": name},
        "spec": {"type": "ClusterIP", "selector": selector,
                 "ports": [{"name": "postgresql", "port": port, "targetPort": 5432}]}})
}

fn lb(ns: &str, name: &str, host: &str, ip: &str, ranges: &[&str], selector: &Value) -> Value {
    json!({"metadata": {"namespace": ns, "name": name,
            "annotations": {"external-dns.alpha.kubernetes.io/hostname": host}},
        "spec": {"type": "LoadBalancer", "selector": selector, "loadBalancerSourceRanges": ranges,
                 "ports": [{"port": 6000, "targetPort": 5432}]},
        "status": {"loadBalancer": {"ingress": [{"ip": ip}]}}})
}

fn catalog(objects: &Objects, internal: bool) -> (Catalog, String) {
    let imported = build(objects, None, internal);
    let text = writer::yaml(&imported);
    (
        to_catalog(&imported).unwrap_or_else(|e| panic!("{e}\n{text}")),
        text,
    )
}

#[test]
fn internal_endpoints_only_when_asked_and_on_in_cluster_names() {
    let pooler = json!({"connection-pooler": "db-pooler"});
    let objects = Objects {
        zalando: vec![zalando("ns1", "db")],
        services: vec![
            service("ns1", "db", &Value::Null, 5432),
            service("ns1", "db-repl", &json!({"spilo-role": "replica"}), 5432),
            service("ns1", "db-pooler", &pooler, 5432),
        ],
        ..Objects::default()
    };
    let without = build(&objects, None, false);
    assert!(without.clusters.is_empty());
    assert!(
        without.notes[0].contains("--internal"),
        "{:?}",
        without.notes
    );
    let (cat, _) = catalog(&objects, true);
    let c = &cat.clusters[0];
    let host = |r: Role| c.endpoint(r).map(|e| (e.host.clone(), e.pooled));
    assert_eq!(host(Role::Write), Some(("db-pooler.ns1.svc".into(), true)));
    assert_eq!(host(Role::Read), Some(("db-repl.ns1.svc".into(), false)));
    assert_eq!(host(Role::Admin), Some(("db.ns1.svc".into(), false)));
    assert_eq!(c.default_user(Role::Write).unwrap().name, "app");
    assert_eq!(c.default_user(Role::Admin).unwrap().name, "root");
    assert_eq!(c.database.as_deref(), Some("appdb"));
}

#[test]
fn endpoints_from_load_balancers_by_host_pattern_and_open_ranges() {
    let master = json!({"spilo-role": "master", "cluster-name": "db"});
    let endpoints = |name: &str| {
        json!({"metadata": {"namespace": "ns1", "name": name},
        "subsets": [{"addresses": [{"ip": "10.0.0.1", "targetRef": {"kind": "Pod", "name": "db-0"}}]}]})
    };
    let objects = Objects {
        zalando: vec![zalando("ns1", "db")],
        endpoints: vec![endpoints("db"), endpoints("primary-lb")],
        services: vec![
            service("ns1", "db", &Value::Null, 5432),
            // neither labelled nor named by the chart: the host name says cluster and role
            lb(
                "ns1",
                "primary-lb",
                "db-admin.example.org",
                "192.0.2.3",
                &["10.0.0.0/8", "nonsense"],
                &master,
            ),
            lb(
                "ns1",
                "db-external-write",
                "db-write.example.org",
                "192.0.2.1",
                &["0.0.0.0/0"],
                &json!({"connection-pooler": "db-pooler"}),
            ),
        ],
        ..Objects::default()
    };
    let imported = build(&objects, None, false);
    assert!(
        imported.notes.iter().any(|n| n.contains("nonsense")),
        "{:?}",
        imported.notes
    );
    let (cat, text) = catalog(&objects, false);
    assert!(text.contains("domain: example.org"), "{text}");
    let c = &cat.clusters[0];
    let admin = c.endpoint(Role::Admin).unwrap();
    assert_eq!(admin.port, 6000);
    assert_eq!(admin.ip.unwrap().to_string(), "192.0.2.3");
    assert_eq!(
        admin.allowed_source_ranges.as_ref().unwrap()[0].to_string(),
        "10.0.0.0/8"
    );
    // the master Service has no selector: matched through its Endpoints
    assert_eq!(admin.service.as_ref().unwrap().to_string(), "ns1/db");
    let write = c.endpoint(Role::Write).unwrap();
    assert!(write.allowed_source_ranges.is_none() && write.pooled);
    assert!(c.endpoint(Role::Read).is_none());
    assert_eq!(c.pooler.mode, crate::catalog::PoolMode::Session);
    // round trip: the written catalog against itself has no drift
    assert_eq!(diff(&cat, &cat), vec![]);
}

#[test]
fn scalars_that_yaml_would_misread_are_quoted() {
    for text in ["yes", "5432", "a: b", "#x", "", "::1", "null"] {
        let quoted = writer::scalar(text);
        let back = crate::catalog::yaml_to_json(&format!("k: {quoted}\n")).unwrap();
        assert_eq!(back["k"], text, "{quoted}");
    }
    assert_eq!(
        writer::scalar("temporal/temporal-db"),
        "temporal/temporal-db"
    );
}
