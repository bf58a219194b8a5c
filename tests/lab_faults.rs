//! The lab's topology and every fault of `lab/lab faults`, proven with psql
//! (libpq) and `sslmode=verify-full`: inject, show the symptom, heal, show
//! the endpoint healthy again.
//!
//! Runs inside the lab namespace: `lab/test` (or
//! `lab/lab up && lab/lab exec -- cargo test --offline --test integration lab_faults::`).
//! Without a lab every test prints `skipped: lab not running`.

use crate::support::lab::{ADMIN_USER, Lab};
use std::time::Duration;

fn lab() -> Option<Lab> {
    let lab = Lab::get();
    if lab.is_none() {
        eprintln!("skipped: lab not running");
    }
    lab
}

/// libpq's connect timeout for the cases where packets are dropped.
const SHORT_TIMEOUT: &str = "connect_timeout=3";

#[test]
fn healthy_baseline() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();

    // every endpoint of both clusters, verify-full against the lab CA
    for (cluster, role) in [
        ("temporal-db", "write"),
        ("temporal-db", "read"),
        ("temporal-db", "admin"),
        ("platform-db", "write"),
        ("platform-db", "admin"),
    ] {
        lab.assert_healthy(cluster, role);
    }

    // writes go to the primary through the pooler, in transaction mode
    let r = lab.query("temporal-db", "write", "show transaction_read_only");
    assert_eq!(r.expect_ok(), "off");
    let port = lab
        .query("temporal-db", "write", "select inet_server_port()")
        .expect_ok();
    assert_ne!(
        port, "5432",
        "write endpoint should be a pooler in front of the primary (unix socket), got port {port}"
    );
    let port = lab
        .query("temporal-db", "admin", "select inet_server_port()")
        .expect_ok();
    assert_eq!(port, "5432", "admin endpoint goes straight to the primary");

    // the read-only user reads through the read pooler and cannot write
    let r = lab.query_as(
        "temporal-db",
        "read",
        "temporal_ro",
        "select count(*) from lab_marker",
        "connect_timeout=5",
    );
    assert_eq!(r.expect_ok(), "1");
    let r = lab.query_as(
        "temporal-db",
        "admin",
        "temporal_ro",
        "insert into lab_marker (cluster) values ('x')",
        "connect_timeout=5",
    );
    r.expect_failure_with("read-only transaction");

    // hostssl only: a plaintext client is turned away by the pooler and by PostgreSQL
    lab.query_as(
        "temporal-db",
        "write",
        "temporal",
        "select 1",
        "sslmode=disable connect_timeout=5",
    )
    .expect_failure_with("SSL required");
    lab.query_as(
        "temporal-db",
        "admin",
        ADMIN_USER,
        "select 1",
        "sslmode=disable connect_timeout=5",
    )
    .expect_failure_with("pg_hba.conf rejects connection");

    // platform-db has no read endpoint: its name does not exist
    lab.query_as(
        "platform-db",
        "read",
        "platform",
        "select 1",
        "connect_timeout=5",
    )
    .expect_failure_with("could not translate host name");

    // the catalog and the CA the lab advertises exist
    assert!(
        lab.catalog().is_file(),
        "{} missing",
        lab.catalog().display()
    );
    assert!(
        lab.ca_cert().is_file(),
        "{} missing",
        lab.ca_cert().display()
    );
    let s = lab.s_client("temporal-db", "write");
    assert!(s.text().contains("Verify return code: 0 (ok)"), "{s:#?}");
}

#[test]
fn fault_dns_nxdomain() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("dns-nxdomain");
    lab.query("temporal-db", "write", "select 1")
        .expect_failure_with(
            "could not translate host name \"temporal-db-write.lab.pgconn.test\" to address",
        );
    lab.assert_healthy("temporal-db", "read");
    fault.heal();
    lab.assert_healthy("temporal-db", "write");
}

#[test]
fn fault_dns_wrong_ip() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("dns-wrong-ip");
    let r = lab.query("temporal-db", "write", "select 1");
    r.expect_failure_with("(127.20.0.99), port 5432 failed: Connection refused");
    fault.heal();
    lab.assert_healthy("temporal-db", "write");
}

#[test]
fn fault_pooler_stopped() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("pooler-stopped");
    lab.query("temporal-db", "write", "select 1")
        .expect_failure_with("(127.20.0.1), port 5432 failed: Connection refused");
    // same shared IP, other cluster's pooler: still answers
    lab.assert_healthy("platform-db", "write");
    fault.heal();
    lab.assert_healthy("temporal-db", "write");
}

#[test]
fn fault_admin_blackhole() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("admin-blackhole");
    let r = lab.query_as(
        "temporal-db",
        "admin",
        ADMIN_USER,
        "select 1",
        SHORT_TIMEOUT,
    );
    r.expect_failure_with("timeout expired");
    assert!(
        r.elapsed >= Duration::from_millis(2500),
        "dropped packets should time out, not fail fast: {r:#?}"
    );
    // same IP, other port: answers, which points at the allowlist
    lab.assert_healthy("platform-db", "admin");
    fault.heal();
    lab.assert_healthy("temporal-db", "admin");
}

#[test]
fn fault_admin_outside() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("admin-outside");
    lab.query_as(
        "temporal-db",
        "admin",
        ADMIN_USER,
        "select 1",
        SHORT_TIMEOUT,
    )
    .expect_failure_with("timeout expired");
    // the pod address is closed to the client too; the cluster's inside gets through to both
    let dial = |from: &str, to: &str| {
        let script = format!(
            "import socket\ns = socket.socket()\n{}s.settimeout(2)\ns.connect(('{to}', 5432))",
            if from.is_empty() {
                String::new()
            } else {
                format!("s.bind(('{from}', 0))\n")
            }
        );
        let mut cmd = lab.command("python3");
        cmd.args(["-c", &script]);
        crate::support::lab::run(cmd, None, Duration::from_secs(10))
    };
    let inside = lab
        .var("PGCONN_LAB_INSIDE_IP")
        .expect("PGCONN_LAB_INSIDE_IP");
    let admin_ip = lab.var("PGCONN_LAB_ADMIN_IP").expect("PGCONN_LAB_ADMIN_IP");
    dial("", "127.21.1.1").expect_failure_with("timed out");
    dial(inside, "127.21.1.1").expect_ok();
    dial(inside, admin_ip).expect_ok();
    lab.assert_healthy("platform-db", "admin");
    fault.heal();
    lab.assert_healthy("temporal-db", "admin");
    dial("", "127.21.1.1").expect_ok();
}

#[test]
fn fault_pooler_no_tls() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("pooler-no-tls");
    lab.query("temporal-db", "write", "select 1")
        .expect_failure_with("server does not support SSL, but SSL was required");
    fault.heal();
    lab.assert_healthy("temporal-db", "write");
}

#[test]
fn fault_cert_wrong_name() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("cert-wrong-name");
    lab.query("temporal-db", "write", "select 1").expect_failure_with(
        "server certificate for \"wrong-name.lab.pgconn.test\" does not match host name \"temporal-db-write.lab.pgconn.test\"",
    );
    // verify-ca does not check names: it connects
    let r = lab.query_as(
        "temporal-db",
        "write",
        "temporal",
        "select 1",
        "sslmode=verify-ca connect_timeout=5",
    );
    assert_eq!(r.expect_ok(), "1");
    fault.heal();
    lab.assert_healthy("temporal-db", "write");
}

#[test]
fn fault_cert_expired() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("cert-expired");
    lab.query("temporal-db", "write", "select 1")
        .expect_failure_with("certificate verify failed");
    let s = lab.s_client("temporal-db", "write");
    assert!(s.text().contains("certificate has expired"), "{s:#?}");
    fault.heal();
    lab.assert_healthy("temporal-db", "write");
}

#[test]
fn fault_cert_expiring() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("cert-expiring");
    // still connects with verify-full ...
    lab.assert_healthy("temporal-db", "write");
    // ... but the leaf expires in under 14 days
    let pem = lab.server_cert_pem("temporal-db", "write");
    assert!(
        lab.cert_valid_for(&pem, 3600),
        "the expiring leaf should still be valid"
    );
    assert!(
        !lab.cert_valid_for(&pem, 14 * 24 * 3600),
        "the leaf should expire within 14 days"
    );
    fault.heal();
    lab.assert_healthy("temporal-db", "write");
    let pem = lab.server_cert_pem("temporal-db", "write");
    assert!(
        lab.cert_valid_for(&pem, 14 * 24 * 3600),
        "healthy leaf should be valid for 14+ days"
    );
}

#[test]
fn fault_cert_untrusted() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("cert-untrusted");
    lab.query("temporal-db", "write", "select 1")
        .expect_failure_with("certificate verify failed");
    let s = lab.s_client("temporal-db", "write");
    assert!(
        s.text().contains("unable to get local issuer certificate"),
        "{s:#?}"
    );
    fault.heal();
    lab.assert_healthy("temporal-db", "write");
}

#[test]
fn fault_hba_reject() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("hba-reject");
    let r = lab.query_as(
        "temporal-db",
        "admin",
        "temporal",
        "select 1",
        "connect_timeout=5",
    );
    r.expect_failure_with("no pg_hba.conf entry for host");
    r.expect_failure_with("user \"temporal\", database \"temporal\", SSL encryption");
    // the admin user still gets in, and the pooler (unix socket) is unaffected
    lab.assert_healthy("temporal-db", "admin");
    lab.assert_healthy("temporal-db", "write");
    fault.heal();
    let r = lab.query_as(
        "temporal-db",
        "admin",
        "temporal",
        "select 1",
        "connect_timeout=5",
    );
    assert_eq!(r.expect_ok(), "1");
}

#[test]
fn fault_read_to_primary() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("read-to-primary");
    assert_eq!(
        lab.in_recovery("temporal-db", "read"),
        "f",
        "read endpoint should land on the primary"
    );
    fault.heal();
    lab.assert_healthy("temporal-db", "read");
}

#[test]
fn fault_write_to_replica() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("write-to-replica");
    assert_eq!(
        lab.in_recovery("temporal-db", "write"),
        "t",
        "write endpoint should land on the replica"
    );
    lab.query(
        "temporal-db",
        "write",
        "insert into lab_marker (cluster) values ('write-to-replica')",
    )
    .expect_failure_with("cannot execute INSERT in a read-only transaction");
    fault.heal();
    lab.assert_healthy("temporal-db", "write");
    // and a write works again (rolled back: leaves the lab as it was)
    let r = lab.query(
        "temporal-db",
        "write",
        "begin; insert into lab_marker (cluster) values ('write-ok'); rollback",
    );
    r.expect_ok();
}

#[test]
fn fault_pooler_full() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("pooler-full");
    lab.query("temporal-db", "write", "select 1")
        .expect_failure_with("no more connections allowed (max_client_conn)");
    lab.assert_healthy("temporal-db", "read");
    fault.heal();
    lab.assert_healthy("temporal-db", "write");
}

#[test]
fn fault_replica_stopped() {
    let Some(lab) = lab() else { return };
    let mut fault = lab.inject("replica-stopped");
    // PgBouncer accepts the client and then waits for a server that is gone
    lab.query_as("temporal-db", "read", "temporal", "select 1", SHORT_TIMEOUT)
        .expect_failure_with("(127.20.0.2), port 5432 failed: timeout expired");
    lab.assert_healthy("temporal-db", "write");
    fault.heal();
    lab.assert_healthy("temporal-db", "read");
    // the healed replica has caught up: nothing to replay, no lag
    let caught_up = lab.query(
        "temporal-db",
        "read",
        "select pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()",
    );
    assert_eq!(caught_up.expect_ok(), "t");
}

#[test]
fn every_listed_fault_has_a_test() {
    let Some(lab) = lab() else { return };
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(lab.var("PGCONN_LAB_SCRIPT").expect("PGCONN_LAB_SCRIPT"))
        .arg("faults");
    let r = crate::support::lab::run(cmd, None, Duration::from_secs(10));
    let listed: Vec<String> = r
        .expect_ok()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let source = include_str!("lab_faults.rs");
    for name in &listed {
        let test = format!("fn fault_{}()", name.replace('-', "_"));
        assert!(source.contains(&test), "fault {name} has no test `{test}`");
    }
    assert_eq!(listed.len(), 15, "faults listed: {listed:?}");
}
