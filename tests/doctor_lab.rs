//! `pgconn doctor` against the real lab: no false alarm on the healthy lab,
//! and for every lab fault the right check fails (or warns) with the right
//! hint while the layers below it stay ok. Also: a dead endpoint costs one
//! timeout, and endpoints are checked concurrently.
//!
//! Runs inside the lab namespace: `lab/lab exec -- cargo test --offline
//! --test integration doctor_lab::`. Without a lab every test prints `skipped: lab not
//! running`.

use std::time::{Duration, Instant};

use crate::support::lab::{ADMIN_USER, COMMAND_TIMEOUT, Lab, Run};
use serde_json::Value;

fn lab() -> Option<Lab> {
    let lab = Lab::get();
    if lab.is_none() {
        eprintln!("skipped: lab not running");
    }
    lab
}

/// The layer order of the contract.
const IDS: [&str; 11] = [
    "dns",
    "tcp",
    "allowlist",
    "tls.negotiate",
    "tls.chain",
    "tls.hostname",
    "tls.expiry",
    "auth",
    "routing",
    "pooler",
    "lag",
];

/// The per-layer timeout the fault tests use.
const TIMEOUT: u64 = 2;

struct Doctor {
    json: Value,
    run: Run,
}

fn doctor_with(lab: &Lab, catalog: &std::path::Path, args: &[&str]) -> Doctor {
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.arg("--catalog")
        .arg(catalog)
        .args(["doctor", "--json", "--timeout", &TIMEOUT.to_string()])
        .args(args)
        .env("PGCONN_KEYRING", "none")
        .env("NO_COLOR", "1");
    let run = crate::support::lab::run(cmd, None, COMMAND_TIMEOUT);
    let json: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor did not print JSON ({e}): {run:#?}"));
    assert_eq!(json["schema_version"], 1);
    Doctor { json, run }
}

fn doctor(lab: &Lab, args: &[&str]) -> Doctor {
    doctor_with(lab, &lab.catalog(), args)
}

impl Doctor {
    fn endpoint(&self, cluster: &str, role: &str) -> &Value {
        self.json["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .find(|e| e["cluster"] == cluster && e["role"] == role)
            .unwrap_or_else(|| panic!("no endpoint {cluster} {role} in {:#}", self.json))
    }

    fn check(&self, cluster: &str, role: &str, id: &str) -> &Value {
        self.endpoint(cluster, role)["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no check {id} for {cluster} {role}"))
    }

    fn status(&self, cluster: &str, role: &str, id: &str) -> String {
        self.check(cluster, role, id)["status"]
            .as_str()
            .expect("status")
            .to_string()
    }

    /// `id` has `status`, and its summary and hint contain the needles.
    fn expect(&self, cluster: &str, role: &str, id: &str, status: &str, summary: &str, hint: &str) {
        let c = self.check(cluster, role, id);
        assert_eq!(
            c["status"], status,
            "{cluster} {role} {id}: {c:#}\n{}",
            self.run.stderr
        );
        let text = |k: &str| c[k].as_str().unwrap_or_default().to_string();
        assert!(
            text("summary").contains(summary),
            "{id} summary lacks {summary:?}: {c:#}"
        );
        assert!(
            text("hint").contains(hint),
            "{id} hint lacks {hint:?}: {c:#}"
        );
    }

    /// Every check of the layers below `id` is ok (allowlist aside: it is
    /// judged on its own).
    fn below_ok(&self, cluster: &str, role: &str, id: &str) {
        for lower in IDS.iter().take_while(|i| **i != id) {
            if *lower != "allowlist" {
                assert_eq!(
                    self.status(cluster, role, lower),
                    "ok",
                    "{cluster} {role}: {lower} below {id}"
                );
            }
        }
    }

    /// Every check after `id` in layer order is skipped (a failed layer).
    fn above_skipped(&self, cluster: &str, role: &str, id: &str) {
        for upper in IDS.iter().skip_while(|i| **i != id).skip(1) {
            if *upper != "allowlist" {
                assert_eq!(
                    self.status(cluster, role, upper),
                    "skip",
                    "{cluster} {role}: {upper} above {id}"
                );
            }
        }
    }

    /// An endpoint with nothing wrong.
    fn healthy(&self, cluster: &str, role: &str) {
        let e = self.endpoint(cluster, role);
        for c in e["checks"].as_array().expect("checks") {
            let id = c["id"].as_str().unwrap_or_default();
            let not_applicable =
                (id == "allowlist" && role != "admin") || (id == "lag" && role != "read");
            let want = if not_applicable { "skip" } else { "ok" };
            assert_eq!(c["status"], want, "{cluster} {role} {id}: {c:#}");
        }
        let ids: Vec<&str> = e["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, IDS, "check ids in layer order");
    }

    fn exit(&self) -> Option<i32> {
        self.run.code
    }
}

const ENDPOINTS: [(&str, &str); 5] = [
    ("temporal-db", "write"),
    ("temporal-db", "read"),
    ("temporal-db", "admin"),
    ("platform-db", "write"),
    ("platform-db", "admin"),
];

/// The human report of a doctor run (no colour, no keyring).
fn human(lab: &Lab, catalog: &std::path::Path, args: &[&str]) -> Run {
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.arg("--catalog")
        .arg(catalog)
        .args(["doctor", "--timeout", &TIMEOUT.to_string()])
        .args(args)
        .env("PGCONN_KEYRING", "none")
        .env("NO_COLOR", "1");
    crate::support::lab::run(cmd, None, COMMAND_TIMEOUT)
}

/// The catalog of the delayed lab (every endpoint behind the delay proxy,
/// ports mapped as a `LoadBalancer` does), when `lab/lab delay` runs.
fn delayed_catalog(lab: &Lab) -> Option<std::path::PathBuf> {
    let path = lab.dir().join("pgconn-delayed.yaml");
    if !path.exists() {
        eprintln!("skipped: the delayed lab is not running (lab/lab delay up)");
        return None;
    }
    Some(path)
}

#[test]
fn delayed_port_mapped_lab_direct_is_direct_and_pgbouncer_a_pooler() {
    let Some(lab) = lab() else { return };
    let Some(catalog) = delayed_catalog(&lab) else {
        return;
    };
    let _lock = lab.lock();
    let d = doctor_with(&lab, &catalog, &[]);
    assert_eq!(d.exit(), Some(0), "{:#?}", d.run);
    assert_eq!(d.json["ok"], true);
    for (cluster, role) in ENDPOINTS {
        // no warning and no failure anywhere on the healthy delayed lab
        d.healthy(cluster, role);
    }
    // the admin endpoints are dialled on 5434/5435 while their servers
    // listen on 5432/5433: still direct, no pooler warning
    for (cluster, port) in [("temporal-db", 5434), ("platform-db", 5435)] {
        assert_eq!(d.endpoint(cluster, "admin")["port"], port);
        d.expect(cluster, "admin", "pooler", "ok", "no pooler", "");
    }
    // the real PgBouncers behind mapped ports (7432/7433 -> 5432/5433) are
    // poolers, in the mode they run in
    for cluster in ["temporal-db", "platform-db"] {
        d.expect(
            cluster,
            "write",
            "pooler",
            "ok",
            "in transaction mode, as the catalog says",
            &format!("pgconn url {cluster} --admin"),
        );
    }
    d.expect(
        "temporal-db",
        "read",
        "pooler",
        "ok",
        "in transaction mode",
        "",
    );
}

#[test]
fn delayed_lab_healthy_human_report_fits_in_15_lines() {
    let Some(lab) = lab() else { return };
    let Some(catalog) = delayed_catalog(&lab) else {
        return;
    };
    let _lock = lab.lock();
    let r = human(&lab, &catalog, &[]);
    assert_eq!(r.code, Some(0), "{r:#?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.len() <= 15, "{} lines:\n{}", lines.len(), r.stdout);
    for (cluster, role) in ENDPOINTS {
        let heading = format!("ok   {cluster} {role}  {cluster}-{role}.delayed.");
        assert_eq!(
            lines.iter().filter(|l| l.starts_with(&heading)).count(),
            1,
            "one line for {cluster} {role}:\n{}",
            r.stdout
        );
    }
    assert!(
        r.stdout
            .contains("5 endpoint(s): 0 failing, 0 with warnings, 5 ok"),
        "{}",
        r.stdout
    );
    // -v shows every check of every endpoint
    let v = human(&lab, &catalog, &["-v"]);
    assert_eq!(v.code, Some(0), "{v:#?}");
    for id in IDS {
        assert_eq!(
            v.stdout
                .lines()
                .filter(|l| l.split_whitespace().nth(1) == Some(id))
                .count(),
            5,
            "{id} once per endpoint with -v:\n{}",
            v.stdout
        );
    }
}

#[test]
fn healthy_lab_has_no_false_alarm() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let d = doctor(&lab, &[]);
    assert_eq!(d.exit(), Some(0), "{:#?}", d.run);
    assert_eq!(d.json["ok"], true);
    assert_eq!(d.json["endpoints"].as_array().unwrap().len(), 5);
    for (cluster, role) in ENDPOINTS {
        d.healthy(cluster, role);
    }
    // the egress IP came from a direct server, and it says so
    assert_eq!(d.json["client"]["egress_ip"], "127.20.0.3");
    assert!(
        d.json["client"]["egress_source"]
            .as_str()
            .unwrap()
            .contains("inet_client_addr()")
    );
    // the pooler check knows the mode and names the admin endpoint
    d.expect(
        "temporal-db",
        "write",
        "pooler",
        "ok",
        "transaction mode",
        "pgconn url temporal-db --admin",
    );
    d.expect("temporal-db", "admin", "pooler", "ok", "no pooler", "");
    let detail = d.check("temporal-db", "write", "pooler")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    for limit in [
        "SET",
        "LISTEN",
        "advisory locks",
        "temporary tables",
        "WITH HOLD",
        "prepared statements",
    ] {
        assert!(
            detail.contains(limit),
            "pooler detail lacks {limit}: {detail}"
        );
    }
    // no password in the output, ever
    let pw = lab.password("temporal-db", "temporal");
    assert!(!d.run.text().contains(&pw), "the password leaked");
}

#[test]
fn human_output_is_one_line_per_healthy_endpoint_and_exit_codes_follow() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.arg("--catalog")
        .arg(lab.catalog())
        .args(["doctor", "temporal-db"])
        .env("NO_COLOR", "1");
    let r = crate::support::lab::run(cmd, None, COMMAND_TIMEOUT);
    assert_eq!(r.code, Some(0), "{r:#?}");
    assert!(
        !r.stdout.contains('\x1b'),
        "no colour off a terminal: {}",
        r.stdout
    );
    for role in ["write", "read", "admin"] {
        assert!(
            r.stdout
                .contains(&format!("ok   temporal-db {role}  temporal-db-{role}.")),
            "{}",
            r.stdout
        );
    }
    assert!(
        r.stdout.contains("3 endpoint(s): 0 failing"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.is_empty(),
        "no progress line off a terminal: {}",
        r.stderr
    );
    // usage errors are 2
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.arg("--catalog")
        .arg(lab.catalog())
        .args(["doctor", "nosuch"]);
    assert_eq!(
        crate::support::lab::run(cmd, None, COMMAND_TIMEOUT).code,
        Some(2)
    );
}

#[test]
fn fault_dns_nxdomain() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("dns-nxdomain");
    let d = doctor(&lab, &[]);
    assert_eq!(d.exit(), Some(3));
    assert_eq!(d.json["ok"], false);
    d.expect(
        "temporal-db",
        "write",
        "dns",
        "fail",
        "does not resolve",
        "hostname_template",
    );
    d.expect("temporal-db", "write", "dns", "fail", "", "127.20.0.1");
    assert!(
        d.check("temporal-db", "write", "dns")["detail"]
            .as_str()
            .unwrap()
            .contains("NXDOMAIN")
    );
    d.above_skipped("temporal-db", "write", "dns");
    d.healthy("temporal-db", "read");
}

#[test]
fn fault_dns_wrong_ip() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("dns-wrong-ip");
    let dns = lab
        .var("PGCONN_LAB_DNS")
        .unwrap_or("127.0.0.53")
        .to_string();
    let d = doctor(&lab, &["temporal-db", "write", "--nameserver", &dns]);
    assert_eq!(d.exit(), Some(3));
    d.expect(
        "temporal-db",
        "write",
        "dns",
        "warn",
        "127.20.0.99, but the catalog expects 127.20.0.1",
        "--pin-ip",
    );
    d.expect(
        "temporal-db",
        "write",
        "tcp",
        "fail",
        "connection refused",
        "127.20.0.99",
    );
    // which resolver answered what: the lab's DNS server itself has the wrong record
    let detail = d.check("temporal-db", "write", "dns")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains(&format!("nameserver {dns}:53 says: 127.20.0.99")),
        "{detail}"
    );
    d.above_skipped("temporal-db", "write", "tcp");
}

#[test]
fn fault_pooler_stopped() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("pooler-stopped");
    let d = doctor(&lab, &[]);
    d.expect(
        "temporal-db",
        "write",
        "tcp",
        "fail",
        "connection refused by 127.20.0.1:5432",
        "not running",
    );
    d.below_ok("temporal-db", "write", "tcp");
    d.above_skipped("temporal-db", "write", "tcp");
    d.healthy("platform-db", "write");
    // the human report: the faulted endpoint first and in full, its skipped
    // layers on one line, every healthy endpoint on one line
    let r = human(&lab, &lab.catalog(), &[]);
    assert_eq!(r.code, Some(3), "{r:#?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("fail temporal-db write  temporal-db-write."),
        "{}",
        r.stdout
    );
    assert!(
        lines[1].contains("fail tcp") && lines[1].contains("connection refused"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("hint: "), "{}", r.stdout);
    assert!(r.stdout.contains("    ok   dns "), "{}", r.stdout);
    assert_eq!(
        r.stdout.matches("not checked: tcp failed").count(),
        1,
        "skipped layers folded into one line: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("not checked: tcp failed (tls.negotiate, tls.chain, tls.hostname, tls.expiry, auth, routing, pooler, lag)"),
        "{}",
        r.stdout
    );
    for (cluster, role) in ENDPOINTS.iter().skip(1) {
        let heading = format!("ok   {cluster} {role}  {cluster}-{role}.");
        assert_eq!(
            r.stdout.lines().filter(|l| l.starts_with(&heading)).count(),
            1,
            "{}",
            r.stdout
        );
    }
    let indented = |text: &str| text.lines().filter(|l| l.starts_with("    ")).count();
    let first_block = r.stdout.split("\n\n").next().unwrap_or_default();
    assert_eq!(
        indented(&r.stdout),
        indented(first_block),
        "only the faulted endpoint shows its checks: {}",
        r.stdout
    );
}

#[test]
fn fault_admin_blackhole() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("admin-blackhole");
    let started = Instant::now();
    let d = doctor(&lab, &[]);
    let took = started.elapsed();
    d.expect(
        "temporal-db",
        "admin",
        "tcp",
        "fail",
        "packets are dropped",
        "port 5433 (platform-db admin)",
    );
    d.expect("temporal-db", "admin", "tcp", "fail", "", "allowlist");
    // the catalog still admits the egress IP: the live allowlist differs
    d.expect(
        "temporal-db",
        "admin",
        "allowlist",
        "warn",
        "yet this port drops packets",
        "loadBalancerSourceRanges",
    );
    d.below_ok("temporal-db", "admin", "tcp");
    d.healthy("platform-db", "admin");
    let bound = Duration::from_secs(TIMEOUT * 3 + 5);
    assert!(
        took < bound,
        "a dead endpoint should cost about one timeout, took {took:?}"
    );
}

/// The client is outside: the plain doctor fails tcp and names `--via kube`
/// (the endpoint's Service is known); through the tunnel every check of the
/// server passes, and dns/tcp/allowlist say they concern the tunnel.
#[test]
fn fault_admin_outside() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("admin-outside");
    let d = doctor(&lab, &["temporal-db", "--admin"]);
    d.expect(
        "temporal-db",
        "admin",
        "tcp",
        "fail",
        "packets are dropped",
        "pgconn psql temporal-db --admin --via kube",
    );
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.args([
        "doctor",
        "temporal-db",
        "--admin",
        "--via",
        "kube",
        "--json",
    ])
    .args(["--timeout", &TIMEOUT.to_string()])
    .env("PGCONN_CATALOG", lab.catalog())
    .env(
        "KUBECONFIG",
        lab.var("PGCONN_LAB_KUBECONFIG").expect("kubeconfig"),
    )
    .env("PGCONN_KEYRING", "none");
    let run = crate::support::lab::run(cmd, None, COMMAND_TIMEOUT);
    let json: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor --via kube did not print JSON ({e}): {run:#?}"));
    let via = Doctor { json, run };
    assert_eq!(via.exit(), Some(0), "{:#?}", via.run);
    for id in [
        "tcp",
        "tls.negotiate",
        "tls.chain",
        "tls.hostname",
        "tls.expiry",
        "auth",
        "routing",
        "pooler",
    ] {
        via.expect("temporal-db", "admin", id, "ok", "", "");
    }
    for (id, status) in [("dns", "skip"), ("tcp", "ok"), ("allowlist", "skip")] {
        via.expect("temporal-db", "admin", id, status, "via kube:", "");
    }
}

#[test]
fn fault_pooler_no_tls() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("pooler-no-tls");
    let d = doctor(&lab, &[]);
    d.expect(
        "temporal-db",
        "write",
        "tls.negotiate",
        "fail",
        "answered N",
        "client_tls_sslmode",
    );
    d.below_ok("temporal-db", "write", "tls.negotiate");
    d.above_skipped("temporal-db", "write", "tls.expiry");
}

#[test]
fn fault_cert_wrong_name() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("cert-wrong-name");
    let d = doctor(&lab, &[]);
    d.expect(
        "temporal-db",
        "write",
        "tls.hostname",
        "fail",
        "it names: wrong-name.lab.pgconn.test",
        "subjectAltName",
    );
    d.below_ok("temporal-db", "write", "tls.hostname");
    assert_eq!(d.status("temporal-db", "write", "tls.expiry"), "ok");
    d.above_skipped("temporal-db", "write", "tls.expiry");
}

#[test]
fn fault_cert_expired() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("cert-expired");
    let d = doctor(&lab, &[]);
    d.expect(
        "temporal-db",
        "write",
        "tls.expiry",
        "fail",
        "expired",
        "renew",
    );
    // chain and name are judged apart from the expiry: both fine
    d.below_ok("temporal-db", "write", "tls.expiry");
    d.above_skipped("temporal-db", "write", "tls.expiry");
}

#[test]
fn fault_cert_expiring() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("cert-expiring");
    let d = doctor(&lab, &[]);
    assert_eq!(
        d.exit(),
        Some(0),
        "a warning is not a failure: {:#?}",
        d.run
    );
    d.expect(
        "temporal-db",
        "write",
        "tls.expiry",
        "warn",
        "expires in",
        "renew it before",
    );
    d.below_ok("temporal-db", "write", "tls.expiry");
    for id in ["auth", "routing", "pooler"] {
        assert_eq!(d.status("temporal-db", "write", id), "ok", "{id}");
    }
}

#[test]
fn fault_cert_untrusted() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("cert-untrusted");
    let d = doctor(&lab, &[]);
    d.expect(
        "temporal-db",
        "write",
        "tls.chain",
        "fail",
        "does not chain to the trusted roots",
        "certificate verify failed",
    );
    d.below_ok("temporal-db", "write", "tls.chain");
    assert_eq!(d.status("temporal-db", "write", "tls.hostname"), "ok");
    assert_eq!(d.status("temporal-db", "write", "tls.expiry"), "ok");
    d.above_skipped("temporal-db", "write", "tls.expiry");
}

#[test]
fn fault_hba_reject() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("hba-reject");
    let d = doctor(&lab, &["temporal-db", "--admin", "--user", "temporal"]);
    assert_eq!(d.exit(), Some(3));
    d.expect(
        "temporal-db",
        "admin",
        "auth",
        "fail",
        "pg_hba.conf has no rule admitting user \"temporal\"",
        "127.20.0.3",
    );
    d.below_ok("temporal-db", "admin", "auth");
    d.above_skipped("temporal-db", "admin", "auth");
    // the address in the pg_hba message is the egress IP: the allowlist is judged
    assert_eq!(d.status("temporal-db", "admin", "allowlist"), "ok");
    // the admin user is still let in
    let d = doctor(&lab, &["temporal-db", "admin"]);
    d.healthy("temporal-db", "admin");
    assert_eq!(
        d.check("temporal-db", "admin", "auth")["summary"],
        format!("logged in as {ADMIN_USER} to database temporal")
    );
}

#[test]
fn fault_read_to_primary() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("read-to-primary");
    let d = doctor(&lab, &[]);
    d.expect(
        "temporal-db",
        "read",
        "routing",
        "warn",
        "read lands on the primary",
        "points at the primary",
    );
    d.below_ok("temporal-db", "read", "routing");
}

#[test]
fn fault_write_to_replica() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("write-to-replica");
    let d = doctor(&lab, &[]);
    assert_eq!(d.exit(), Some(3));
    d.expect(
        "temporal-db",
        "write",
        "routing",
        "fail",
        "write lands on a replica",
        "read-only transaction",
    );
    d.below_ok("temporal-db", "write", "routing");
}

#[test]
fn fault_pooler_full() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("pooler-full");
    let d = doctor(&lab, &[]);
    d.expect(
        "temporal-db",
        "write",
        "auth",
        "fail",
        "no connection slot left",
        "max_client_conn",
    );
    d.below_ok("temporal-db", "write", "auth");
    d.healthy("temporal-db", "read");
}

#[test]
fn fault_replica_stopped() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("replica-stopped");
    let d = doctor(&lab, &["temporal-db"]);
    assert_eq!(d.exit(), Some(3));
    // PgBouncer still answers and speaks TLS: the login waits for a server that is gone
    d.expect(
        "temporal-db",
        "read",
        "auth",
        "fail",
        "the login did not complete",
        "the server behind it is down",
    );
    d.below_ok("temporal-db", "read", "auth");
    d.above_skipped("temporal-db", "read", "auth");
    d.healthy("temporal-db", "write");
    d.healthy("temporal-db", "admin");
}

#[test]
fn dead_endpoints_are_checked_concurrently() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("admin-blackhole");
    // three endpoints (one per role: the catalog refuses two clusters on one
    // address and port) that all lead to the blackholed port: one after the
    // other they would cost three timeouts
    let dir = tempfile::tempdir().expect("tempdir");
    let catalog = dir.path().join("dead.yaml");
    let dead = format!(
        "{{ host: {}, ip: 127.20.0.3 }}",
        lab.host("temporal-db", "admin")
    );
    let text = format!(
        "version: 1\ndomain: {}\nsslmode: verify-full\nsslrootcert: \"{}\"\nclusters:\n  dead:\n    port: 5432\n    database: temporal\n    endpoints:\n      write: {dead}\n      read: {dead}\n      admin: {dead}\n    users:\n      {ADMIN_USER}:\n        roles: [write, read, admin]\n        credentials:\n          - file: {{ path: \"{}\" }}\n",
        lab.domain(),
        lab.ca_cert().display(),
        lab.secret_path("temporal-db", ADMIN_USER).display()
    );
    std::fs::write(&catalog, text).expect("write catalog");
    let started = Instant::now();
    let d = doctor_with(&lab, &catalog, &[]);
    let took = started.elapsed();
    for role in ["write", "read", "admin"] {
        d.expect("dead", role, "tcp", "fail", "packets are dropped", "");
    }
    let serial = Duration::from_secs(TIMEOUT * 3);
    assert!(
        took < serial,
        "three dead endpoints took {took:?}: not concurrent"
    );
}

/// A one-shot HTTP "IP echo" service on loopback that answers with the
/// caller's address, as ifconfig-style services do.
fn echo_service() -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/ip", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        if let Ok((mut conn, peer)) = listener.accept() {
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut request = [0u8; 1024];
            let _ = conn.read(&mut request);
            let body = format!("{}\n", peer.ip());
            let _ = write!(
                conn,
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n{body}"
            );
        }
    });
    (url, handle)
}

#[test]
fn the_egress_ip_comes_from_a_configured_echo_service_when_no_server_reports_it() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let (url, server) = echo_service();
    // A wrong password: the admin endpoint cannot report inet_client_addr().
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.arg("--catalog")
        .arg(lab.catalog())
        .args([
            "doctor",
            "temporal-db",
            "--admin",
            "--json",
            "--echo-url",
            &url,
        ])
        .env("PGCONN_PASSWORD_TEMPORAL_DB_PLATFORM_ADMIN", "wrong")
        .env("PGCONN_KEYRING", "none");
    let run = crate::support::lab::run(cmd, None, COMMAND_TIMEOUT);
    server.join().unwrap();
    let json: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:#?}"));
    assert_eq!(json["client"]["egress_ip"], "127.0.0.1", "{json:#}");
    let source = json["client"]["egress_source"].as_str().unwrap_or_default();
    assert!(source.contains("echo service"), "{source}");
    let allow = &json["endpoints"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "allowlist")
        .cloned()
        .unwrap();
    assert_eq!(allow["status"], "ok", "{allow:#}");
    assert!(
        allow["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("echo service"),
        "{allow:#}"
    );
    // Without any source the allowlist cannot be judged: a warning, never a guess.
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.arg("--catalog")
        .arg(lab.catalog())
        .args(["doctor", "temporal-db", "--admin", "--json"])
        .env("PGCONN_PASSWORD_TEMPORAL_DB_PLATFORM_ADMIN", "wrong")
        .env("PGCONN_KEYRING", "none");
    let run = crate::support::lab::run(cmd, None, COMMAND_TIMEOUT);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["client"]["egress_ip"], Value::Null, "{json:#}");
}

#[test]
fn every_listed_fault_has_a_doctor_test() {
    let Some(lab) = lab() else { return };
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(lab.var("PGCONN_LAB_SCRIPT").expect("PGCONN_LAB_SCRIPT"))
        .arg("faults");
    let r = crate::support::lab::run(cmd, None, Duration::from_secs(10));
    let source = include_str!("doctor_lab.rs");
    let listed: Vec<String> = r
        .expect_ok()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(!listed.is_empty());
    for name in &listed {
        let test = format!("fn fault_{}()", name.replace('-', "_"));
        assert!(
            source.contains(&test),
            "fault {name} has no doctor test `{test}`"
        );
    }
}

/// The drivers' venv (`lab/lab install`), where junitparser and xmlschema live.
fn drivers_python() -> std::path::PathBuf {
    std::env::var_os("PGCONN_LAB_DRIVERS")
        .map_or_else(
            || crate::support::cli::repo().join("lab/.drivers"),
            std::path::PathBuf::from,
        )
        .join("venv/bin/python")
}

/// `doctor --format FORMAT` (or `--json`) while `cert-expiring` warns on
/// temporal-db write and a wrong password fails platform-db write.
fn doctor_as(lab: &Lab, format: &[&str]) -> Run {
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.arg("--catalog")
        .arg(lab.catalog())
        .args(["doctor", "--timeout", &TIMEOUT.to_string()])
        .args(format)
        .env("PGCONN_PASSWORD_PLATFORM_DB_PLATFORM", "wrong")
        .env("PGCONN_KEYRING", "none")
        .env("NO_COLOR", "1");
    crate::support::lab::run(cmd, None, COMMAND_TIMEOUT)
}

/// What junitparser read and what xmlschema said of a `JUnit` report.
fn read_junit(lab: &Lab, xml: &str) -> Value {
    let python = drivers_python();
    assert!(
        python.exists(),
        "{} missing: run lab/lab install (junitparser, xmlschema)",
        python.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("report.xml");
    std::fs::write(&path, xml).expect("write report");
    let mut cmd = lab.command(python.to_str().expect("utf-8 path"));
    cmd.arg(crate::support::cli::repo().join("tests/junit/read_report.py"))
        .arg(&path);
    let r = crate::support::lab::run(cmd, None, COMMAND_TIMEOUT);
    serde_json::from_str(&r.expect_ok()).unwrap_or_else(|e| panic!("{e}: {r:#?}"))
}

/// Every check of the JSON report, with its endpoint's `cluster/role`.
fn json_checks(json: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for e in json["endpoints"].as_array().expect("endpoints") {
        let suite = format!(
            "{}/{}",
            e["cluster"].as_str().unwrap(),
            e["role"].as_str().unwrap()
        );
        for c in e["checks"].as_array().expect("checks") {
            out.push((suite.clone(), c.clone()));
        }
    }
    out
}

fn field<'v>(check: &'v Value, key: &str) -> &'v str {
    check[key].as_str().unwrap_or_default()
}

#[test]
fn every_format_exits_alike() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("cert-expiring");
    for format in [
        &["--json"][..],
        &["--format", "json"],
        &["--format", "human"],
        &["--format", "junit"],
        &["--format", "github"],
        &[],
    ] {
        let r = doctor_as(&lab, format);
        assert_eq!(r.code, Some(3), "{format:?}: {r:#?}");
        assert!(r.stderr.is_empty(), "{format:?}: {r:#?}");
    }
    // --json and --format json are one thing; --json with another format is a usage error
    let r = doctor_as(&lab, &["--json", "--format", "junit"]);
    assert_eq!(r.code, Some(2), "{r:#?}");
    // a healthy run exits 0 in every format (warnings allowed)
    let r = doctor_as(&lab, &["temporal-db", "--format", "junit"]);
    assert_eq!(r.code, Some(0), "{r:#?}");
}

#[test]
fn junit_report_is_read_by_a_junit_consumer_and_valid_against_the_schema() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("cert-expiring");
    let json: Value = serde_json::from_str(&doctor_as(&lab, &["--json"]).stdout).expect("json");
    let r = doctor_as(&lab, &["--format", "junit"]);
    assert_eq!(r.code, Some(3), "{r:#?}");
    let seen = read_junit(&lab, &r.stdout);
    assert_eq!(seen["schema_errors"], serde_json::json!([]), "{seen:#}");
    assert_eq!(seen["root"], "JUnitXml");
    let checks = json_checks(&json);
    let fails = checks.iter().filter(|(_, c)| c["status"] == "fail").count();
    assert_eq!(fails, 1, "one failure: platform-db write auth");
    assert_eq!(seen["totals"]["tests"], checks.len());
    assert_eq!(seen["totals"]["failures"], fails);
    // one testsuite per endpoint (cluster/role), one testcase per check in layer order
    let suites = seen["suites"].as_array().expect("suites");
    assert_eq!(suites.len(), 5);
    for suite in suites {
        let name = suite["name"].as_str().unwrap();
        let ids: Vec<&str> = suite["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                assert_eq!(c["classname"], name);
                c["name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(ids, IDS, "{name}");
    }
    let case = |suite: &str, id: &str| -> Value {
        suites
            .iter()
            .find(|s| s["name"] == suite)
            .and_then(|s| {
                s["cases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["name"] == id)
            })
            .cloned()
            .unwrap_or_else(|| panic!("no testcase {suite} {id}: {seen:#}"))
    };
    // each check, as the JSON report has it
    for (suite, check) in &checks {
        let c = case(suite, field(check, "id"));
        let result = c["result"].as_array().unwrap();
        let out = c["system_out"].as_str().unwrap_or_default();
        match field(check, "status") {
            "fail" => {
                assert_eq!(result.len(), 1, "{c:#}");
                assert_eq!(result[0]["kind"], "failure");
                assert_eq!(result[0]["message"], check["summary"]);
                assert_eq!(result[0]["type"], check["id"]);
                let text = result[0]["text"].as_str().unwrap();
                assert!(text.starts_with(field(check, "summary")), "{c:#}");
                assert!(
                    text.ends_with(&format!("\nhint: {}", field(check, "hint"))),
                    "{c:#}"
                );
            }
            "skip" => {
                assert_eq!(result.len(), 1, "{c:#}");
                assert_eq!(result[0]["kind"], "skipped");
                assert_eq!(result[0]["message"], check["summary"]);
            }
            "warn" => {
                assert!(result.is_empty(), "a warning passes: {c:#}");
                assert!(
                    out.starts_with(&format!("warning: {}", field(check, "summary"))),
                    "{c:#}"
                );
                assert!(
                    out.ends_with(&format!("\nhint: {}", field(check, "hint"))),
                    "{c:#}"
                );
            }
            _ => {
                assert!(result.is_empty(), "{c:#}");
                assert!(out.starts_with("ok: "), "{c:#}");
            }
        }
    }
    let warned = suites
        .iter()
        .find(|s| s["name"] == "temporal-db/write")
        .unwrap();
    assert_eq!(warned["properties"]["warnings"], "1", "{warned:#}");
    assert_eq!(warned["failures"], 0);
    // the schema is not vacuous: a testcase without classname and time is refused
    let broken = r.stdout.replacen(
        " classname=\"temporal-db/write\" name=\"dns\" time=",
        " name=\"dns\" x=",
        1,
    );
    let seen = read_junit(&lab, &broken);
    assert!(
        !seen["schema_errors"].as_array().unwrap().is_empty(),
        "{seen:#}"
    );
}

/// A parsed workflow command: name, properties, data (all unescaped).
type WorkflowCommand = (String, Vec<(String, String)>, String);

/// A workflow command as the runner reads it: `::name key=value,…::data`,
/// with the escapes of actions/toolkit (`%25 %0D %0A` in the data, also
/// `%3A %2C` in values). Returns (name, properties, data), unescaped.
fn workflow_command(line: &str) -> Result<WorkflowCommand, String> {
    let rest = line.strip_prefix("::").ok_or("does not start with ::")?;
    let (head, data) = rest.split_once("::").ok_or("no :: before the data")?;
    let (name, props) = head.split_once(' ').unwrap_or((head, ""));
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
        return Err(format!("bad command name {name:?}"));
    }
    let mut properties = Vec::new();
    for prop in props.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = prop.split_once('=').ok_or("property without =")?;
        if !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("bad property name {key:?}"));
        }
        properties.push((
            key.to_string(),
            unescape(value, &["%25", "%0D", "%0A", "%3A", "%2C"])?,
        ));
    }
    Ok((
        name.to_string(),
        properties,
        unescape(data, &["%25", "%0D", "%0A"])?,
    ))
}

fn unescape(text: &str, escapes: &[&str]) -> Result<String, String> {
    if text.contains('\r') || text.contains('\n') {
        return Err(format!("raw line break in {text:?}"));
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or_default();
        let plain = match escapes.iter().find(|e| **e == escape) {
            Some(&"%25") => '%',
            Some(&"%0D") => '\r',
            Some(&"%0A") => '\n',
            Some(&"%3A") => ':',
            Some(&"%2C") => ',',
            _ => return Err(format!("a bare % in {text:?}")),
        };
        out.push(plain);
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

#[test]
fn github_format_is_one_workflow_command_per_finding_then_the_human_report() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("cert-expiring");
    let json: Value = serde_json::from_str(&doctor_as(&lab, &["--json"]).stdout).expect("json");
    let r = doctor_as(&lab, &["--format", "github"]);
    assert_eq!(r.code, Some(3), "{r:#?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    // the annotations, in report order
    let mut got = Vec::new();
    let mut i = 0;
    while let Ok((name, props, data)) = workflow_command(lines[i]) {
        if name == "stop-commands" {
            break;
        }
        assert!(name == "error" || name == "warning", "{}", lines[i]);
        assert_eq!(props.len(), 1, "{}", lines[i]);
        assert_eq!(props[0].0, "title");
        got.push((name, props[0].1.clone(), data));
        i += 1;
    }
    let want: Vec<(String, String, String)> = json_checks(&json)
        .iter()
        .filter_map(|(suite, c)| {
            let level = match field(c, "status") {
                "fail" => "error",
                "warn" => "warning",
                _ => return None,
            };
            let mut message = field(c, "summary").to_string();
            for (prefix, key) in [("\n", "detail"), ("\nhint: ", "hint")] {
                if !field(c, key).is_empty() {
                    message.push_str(prefix);
                    message.push_str(field(c, key));
                }
            }
            Some((
                level.to_string(),
                format!("pgconn doctor {suite} {}", field(c, "id")),
                message,
            ))
        })
        .collect();
    assert_eq!(got, want);
    assert!(got.iter().any(|(l, ..)| l == "error") && got.iter().any(|(l, ..)| l == "warning"));
    // then the human report, with workflow commands stopped around it
    let (name, props, token) = workflow_command(lines[i]).expect("stop-commands");
    assert_eq!((name.as_str(), props.len()), ("stop-commands", 0));
    assert!(
        token.len() >= 16,
        "a token no report text can guess: {token}"
    );
    let resume = format!("::{token}::");
    assert_eq!(lines.last(), Some(&resume.as_str()), "{}", r.stdout);
    let human = &lines[i + 1..lines.len() - 1];
    assert!(!human.contains(&resume.as_str()));
    assert!(
        human.iter().any(|l| l.starts_with(
            "    fail auth           the server refused the password login of user \"platform\""
        )),
        "{human:#?}"
    );
    assert!(
        human
            .iter()
            .any(|l| l.starts_with("5 endpoint(s): 1 failing, 1 with warnings, 3 ok")),
        "{human:#?}"
    );
}

// ------------------------------------------------------- auth failure classes

/// The role the auth-failure tests change (a member of `pgconn_test_users`,
/// which the lab's `pg_hba` admits over TLS).
const AUTH_ROLE: &str = "doctor_auth_case";
const AUTH_PASSWORD: &str = "Auth-case-1";

/// Puts [`AUTH_ROLE`] back to a plain login role with its password, also
/// when the test panics.
struct RoleRestore<'a>(&'a Lab);

impl Drop for RoleRestore<'_> {
    fn drop(&mut self) {
        let sql = format!(
            "ALTER ROLE {AUTH_ROLE} LOGIN VALID UNTIL 'infinity' PASSWORD '{AUTH_PASSWORD}'"
        );
        let r = self.0.query("temporal-db", "admin", &sql);
        assert!(
            r.ok() || std::thread::panicking(),
            "could not restore {AUTH_ROLE}: {r:#?}"
        );
    }
}

/// As superuser on temporal-db's primary.
fn as_admin(lab: &Lab, sql: &str) {
    lab.query("temporal-db", "admin", sql).expect_ok();
}

/// `pgconn doctor temporal-db --admin --user USER` with `password` from the environment.
fn doctor_as_user(lab: &Lab, role: &str, user: &str, password: &str) -> Doctor {
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.arg("--catalog")
        .arg(lab.catalog())
        .args(["doctor", "--json", "--timeout", &TIMEOUT.to_string()])
        .args(["temporal-db", &format!("--{role}"), "--user", user])
        .env("PGCONN_KEYRING", "none")
        .env(password_var(user), password);
    let run = crate::support::lab::run(cmd, None, COMMAND_TIMEOUT);
    let json: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor did not print JSON ({e}): {run:#?}"));
    Doctor { json, run }
}

fn password_var(user: &str) -> String {
    format!("PGCONN_PASSWORD_TEMPORAL_DB_{}", user.to_uppercase())
}

/// `pgconn psql temporal-db --admin --user USER -- -c 'select 1'`: it must fail
/// to connect (psql's status 2); pgconn's note on stderr.
fn psql_note(lab: &Lab, role: &str, user: &str, password: &str) -> String {
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.args(["psql", "temporal-db", &format!("--{role}"), "--user", user])
        .args(["--", "-X", "-Atc", "select 1"])
        .env("PGCONN_CATALOG", lab.catalog())
        .env("PGCONN_KEYRING", "none")
        .env("NO_COLOR", "1")
        .env(password_var(user), password);
    let r = crate::support::lab::run(cmd, None, COMMAND_TIMEOUT);
    assert_eq!(r.code, Some(2), "psql should fail to connect: {r:#?}");
    r.stderr
}

/// One auth failure: doctor's `auth` check fails with both needles in its
/// summary and hint, never sends the user back to doctor, and pgconn psql's
/// note names the cause (`psql`: psql cannot ask a pooler for a second
/// opinion, so where doctor can tell more, its note names the candidates).
fn expect_auth_failure(
    lab: &Lab,
    (role, user, password): (&str, &str, &str),
    (summary, hint): (&str, &str),
    psql: &str,
) {
    let d = doctor_as_user(lab, role, user, password);
    assert_eq!(d.exit(), Some(3), "{:#?}", d.run);
    d.expect("temporal-db", role, "auth", "fail", summary, hint);
    d.below_ok("temporal-db", role, "auth");
    let check = d.check("temporal-db", role, "auth");
    assert!(
        !check["hint"].as_str().unwrap().contains("pgconn doctor"),
        "doctor must not send the user to doctor: {check:#}"
    );
    let note = psql_note(lab, role, user, password);
    assert!(
        note.contains(psql),
        "psql's note should name the cause ({psql:?}):\n{note}"
    );
    assert!(
        !d.run.text().contains(AUTH_PASSWORD) && !note.contains(AUTH_PASSWORD),
        "the password leaked"
    );
}

#[test]
fn auth_failures_name_their_cause() {
    let Some(lab) = lab() else { return };
    {
        // no pg_hba entry: the fault makes one, for the app user
        let _fault = lab.inject("hba-reject");
        let pw = lab.password("temporal-db", "temporal");
        expect_auth_failure(
            &lab,
            ("admin", "temporal", &pw),
            (
                "pg_hba.conf has no rule admitting user \"temporal\"",
                "hostssl",
            ),
            "pg_hba.conf has no rule admitting user \"temporal\"",
        );
    }
    let _lock = lab.lock();
    as_admin(
        &lab,
        &format!(
            // created once and kept (a pooler's server connection outlives a
            // dropped role: a new one of the same name would meet "invalid role OID")
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{AUTH_ROLE}') \
             THEN CREATE ROLE {AUTH_ROLE} IN ROLE pgconn_test_users; END IF; END $$; \
             ALTER ROLE {AUTH_ROLE} LOGIN VALID UNTIL 'infinity' PASSWORD '{AUTH_PASSWORD}'"
        ),
    );
    let _restore = RoleRestore(&lab);
    // the healthy role logs in: the cases below are the changes alone
    let d = doctor_as_user(&lab, "admin", AUTH_ROLE, AUTH_PASSWORD);
    d.expect("temporal-db", "admin", "auth", "ok", AUTH_ROLE, "");

    // NOLOGIN: the password is right, the role may not log in
    as_admin(&lab, &format!("ALTER ROLE {AUTH_ROLE} NOLOGIN"));
    expect_auth_failure(
        &lab,
        ("admin", AUTH_ROLE, AUTH_PASSWORD),
        (
            "exists, but may not log in: it has NOLOGIN",
            &format!("ALTER ROLE \"{AUTH_ROLE}\" LOGIN"),
        ),
        "exists, but may not log in: it has NOLOGIN",
    );
    as_admin(&lab, &format!("ALTER ROLE {AUTH_ROLE} LOGIN"));

    // VALID UNTIL in the past: the server answers as for a wrong password, and
    // so does the lab's PgBouncer (it looks this role up with auth_query):
    // doctor names the three causes and how to tell them, never "wrong"
    as_admin(
        &lab,
        &format!("ALTER ROLE {AUTH_ROLE} VALID UNTIL '2000-01-01'"),
    );
    expect_auth_failure(
        &lab,
        ("admin", AUTH_ROLE, AUTH_PASSWORD),
        (
            "a wrong password, a password past the role's VALID UNTIL, or no such role",
            "VALID UNTIL 'infinity'",
        ),
        "a password past the role's VALID UNTIL",
    );
    as_admin(
        &lab,
        &format!("ALTER ROLE {AUTH_ROLE} VALID UNTIL 'infinity'"),
    );

    // a wrong password
    expect_auth_failure(
        &lab,
        ("admin", AUTH_ROLE, "not-the-password"),
        (
            "a wrong password, a password past the role's VALID UNTIL, or no such role",
            "pgconn creds CLUSTER",
        ),
        "refused the password login of user \"doctor_auth_case\": a wrong password",
    );
    // no such role: PostgreSQL answers as for a wrong password (and the
    // lab's pg_hba admits members of a group only, so directly it is a
    // pg_hba refusal); PgBouncer's auth_query says it outright
    expect_auth_failure(
        &lab,
        ("write", "doctor_no_such_role", AUTH_PASSWORD),
        (
            "the role \"doctor_no_such_role\" does not exist",
            "auth_file",
        ),
        "the role \"doctor_no_such_role\" does not exist",
    );
}

// ------------------------------------------------------- pooler and lag, for real

/// The lab catalog with its top-level `pooler` line replaced.
fn catalog_with_pooler(lab: &Lab, dir: &std::path::Path, pooler: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(lab.catalog()).expect("lab catalog");
    let line = "pooler: { kind: pgbouncer, mode: transaction }";
    assert!(text.contains(line), "the lab catalog changed: {text}");
    let path = dir.join("pooler.yaml");
    std::fs::write(&path, text.replace(line, &format!("pooler: {pooler}"))).expect("write");
    path
}

#[test]
fn pooler_check_warns_when_the_catalog_is_wrong_about_the_pooler() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let dir = tempfile::tempdir().expect("tempdir");
    // the catalog says no pooler; PgBouncer in transaction mode answers
    let none = catalog_with_pooler(&lab, dir.path(), "{ kind: none }");
    let d = doctor_with(&lab, &none, &["temporal-db", "write"]);
    d.expect(
        "temporal-db",
        "write",
        "pooler",
        "warn",
        "in transaction mode answers, but the catalog says this endpoint is direct",
        "pooled: true",
    );
    assert!(
        d.check("temporal-db", "write", "pooler")["summary"]
            .as_str()
            .unwrap()
            .contains("PgBouncer"),
        "names what answers"
    );
    assert_eq!(
        d.exit(),
        Some(0),
        "a warning is not a failure: {:#?}",
        d.run
    );
    // the catalog says session mode
    let session = catalog_with_pooler(&lab, dir.path(), "{ kind: pgbouncer, mode: session }");
    let d = doctor_with(&lab, &session, &["temporal-db", "write"]);
    d.expect(
        "temporal-db",
        "write",
        "pooler",
        "warn",
        "in transaction mode, but the catalog says session",
        "pooler.mode",
    );
    // the real catalog: no warning
    let d = doctor(&lab, &["temporal-db", "write"]);
    d.expect(
        "temporal-db",
        "write",
        "pooler",
        "ok",
        "transaction mode",
        "",
    );
}

/// `sql` as superuser on temporal-db's replica itself (`ta2`, 127.21.1.2;
/// its certificate names the endpoints, so the CA is verified, not the name).
fn on_replica(lab: &Lab, sql: &str) -> Run {
    let conninfo = format!(
        "host=127.21.1.2 port=5432 dbname=temporal user={ADMIN_USER} sslmode=verify-ca sslrootcert={} connect_timeout=5",
        lab.ca_cert().display()
    );
    let pw = lab.password("temporal-db", ADMIN_USER);
    lab.psql(&["-At", "-c", sql, &conninfo], &[("PGPASSWORD", &pw)])
}

/// Resumes WAL replay on the lab replica, also when the test panics.
struct ResumeReplay<'a>(&'a Lab);

impl Drop for ResumeReplay<'_> {
    fn drop(&mut self) {
        let r = on_replica(self.0, "select pg_wal_replay_resume()");
        assert!(
            r.ok() || std::thread::panicking(),
            "could not resume replay: {r:#?}"
        );
    }
}

#[test]
fn lag_warns_on_a_paused_replica() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let healthy = doctor(&lab, &["temporal-db", "read"]);
    assert_eq!(healthy.status("temporal-db", "read", "lag"), "ok");
    on_replica(&lab, "select pg_wal_replay_pause()").expect_ok();
    let _resume = ResumeReplay(&lab);
    let mut last = None;
    for i in 0..20 {
        // WAL the replica receives but does not replay
        lab.query(
            "temporal-db",
            "admin",
            &format!(
                "create table if not exists lag_probe (n int); insert into lag_probe values ({i})"
            ),
        )
        .expect_ok();
        let d = doctor(&lab, &["temporal-db", "read", "--max-lag", "1"]);
        if d.status("temporal-db", "read", "lag") == "warn" {
            d.expect(
                "temporal-db",
                "read",
                "lag",
                "warn",
                "s behind the primary (threshold 1 s)",
                "read-your-writes",
            );
            d.below_ok("temporal-db", "read", "routing");
            return;
        }
        last = Some(d.check("temporal-db", "read", "lag").clone());
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("no lag warning on a paused replica within 20 tries: {last:#?}");
}
