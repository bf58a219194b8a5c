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
fn human_output_is_one_block_per_endpoint_and_exit_codes_follow() {
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
