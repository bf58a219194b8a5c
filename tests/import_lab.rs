//! `catalog import` and `catalog diff` against the lab: the Kubernetes API
//! substitute serves the operators' objects of the lab topology (a Zalando
//! cluster, a CloudNativePG cluster with two Poolers, `LoadBalancer` and
//! in-cluster Services, Pods, Endpoints, Secrets), proven with the real
//! `kubectl`; the catalog imported from them logs in with real psql.
//!
//! Runs inside the lab namespace (`lab/test import_lab::`); without a lab
//! every test prints `skipped: lab not running`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli;
use crate::support::lab::{ADMIN_USER, Lab};

fn lab() -> Option<Lab> {
    let lab = Lab::get();
    if lab.is_none() {
        eprintln!("skipped: lab not running");
    }
    lab
}

/// `pgconn ARGS` with the lab's kubeconfig, HOME in `dir`, no keyring.
fn pgconn(lab: &Lab, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = cli::pgconn(args);
    for k in ["KUBERNETES_SERVICE_HOST", "VAULT_ADDR", "VAULT_TOKEN"] {
        cmd.env_remove(k);
    }
    cmd.env("HOME", dir)
        .env(
            "KUBECONFIG",
            lab.var("PGCONN_LAB_KUBECONFIG").expect("lab kubeconfig"),
        )
        .env("PGCONN_KEYRING", "none")
        .env("PGCONN_CATALOG", dir.join("pgconn.yaml"));
    bounded(cmd)
}

fn bounded(mut cmd: Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd
        .spawn()
        .and_then(std::process::Child::wait_with_output)
        .expect("run");
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{cmd:?} took too long"
    );
    out
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "expected success: {}\n{}",
        cli::stdout(out),
        cli::stderr(out)
    );
    cli::stdout(out)
}

/// Imports every namespace into `dir/pgconn.yaml`; the lab's CA is the one
/// local decision added (`sslrootcert`), as a user adds theirs.
fn import(lab: &Lab, dir: &Path) -> (PathBuf, String) {
    let path = dir.join("pgconn.yaml");
    let out = pgconn(
        lab,
        dir,
        &[
            "catalog",
            "import",
            "kubernetes",
            "-A",
            "-o",
            path.to_str().unwrap(),
        ],
    );
    ok(&out);
    let text = with_lab_ca(
        lab,
        &std::fs::read_to_string(&path).expect("import wrote the file"),
    );
    std::fs::write(&path, &text).unwrap();
    (path, text)
}

/// The catalog text with the lab's CA as `sslrootcert`.
fn with_lab_ca(lab: &Lab, text: &str) -> String {
    text.replacen(
        "version: 1\n",
        &format!("version: 1\nsslrootcert: \"{}\"\n", lab.ca_cert().display()),
        1,
    )
}

/// `pgconn --context CONTEXT catalog VERB kubernetes SCOPE…`.
fn in_context(lab: &Lab, dir: &Path, context: &str, verb: &str, scope: &[&str]) -> Output {
    let mut args = vec!["--context", context, "catalog", verb, "kubernetes"];
    args.extend_from_slice(scope);
    pgconn(lab, dir, &args)
}

fn kubectl(lab: &Lab, args: &[&str]) -> Output {
    let program = lab
        .var("PGCONN_LAB_KUBECTL")
        .filter(|p| !p.is_empty())
        .expect("kubectl is not installed: lab/lab install puts it in place");
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("KUBECONFIG", lab.var("PGCONN_LAB_KUBECONFIG").unwrap())
        .env("HOME", std::env::temp_dir());
    bounded(cmd)
}

#[test]
fn every_kind_import_reads_is_what_kubectl_reads() {
    let Some(lab) = lab() else { return };
    let services = ok(&kubectl(&lab, &["get", "svc", "-A"]));
    assert!(
        services.contains("temporal-db-external-admin")
            && services.contains("LoadBalancer")
            && services.contains("127.20.0.3"),
        "{services}"
    );
    let pods = ok(&kubectl(
        &lab,
        &[
            "get",
            "pods",
            "-n",
            "temporal",
            "-l",
            "spilo-role in (master),application=spilo",
        ],
    ));
    assert!(
        pods.contains("temporal-db-0") && !pods.contains("temporal-db-1"),
        "{pods}"
    );
    let ep = ok(&kubectl(
        &lab,
        &["get", "endpoints", "temporal-db", "-n", "temporal"],
    ));
    assert!(ep.contains("127.21.1.1:5432"), "{ep}");
    let slices = ok(&kubectl(
        &lab,
        &[
            "get",
            "endpointslices",
            "-n",
            "platform",
            "-l",
            "kubernetes.io/service-name=platform-db-rw",
        ],
    ));
    assert!(slices.contains("127.21.2.1"), "{slices}");
    assert!(ok(&kubectl(&lab, &["get", "configmaps", "-A"])).contains("kube-root-ca.crt"));
    assert!(ok(&kubectl(&lab, &["get", "postgresql", "-A"])).contains("temporal-db"));
    assert!(
        ok(&kubectl(
            &lab,
            &["get", "clusters.postgresql.cnpg.io", "-A"]
        ))
        .contains("platform-db")
    );
    let poolers = ok(&kubectl(&lab, &["get", "poolers", "-n", "platform"]));
    assert!(
        poolers.contains("platform-db-pooler-ro") && poolers.contains("platform-db-pooler-rw"),
        "{poolers}"
    );
    let json = ok(&kubectl(
        &lab,
        &[
            "get",
            "svc",
            "temporal-db-external-admin",
            "-n",
            "temporal",
            "-o",
            "json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["spec"]["loadBalancerSourceRanges"][0], "127.0.0.0/8");
    let resources = ok(&kubectl(&lab, &["api-resources"]));
    for kind in [
        "postgresqls",
        "poolers",
        "endpointslices",
        "services",
        "pods",
    ] {
        assert!(resources.contains(kind), "{resources}");
    }
    let denied = kubectl(&lab, &["--context", "lab-limited", "get", "svc", "-A"]);
    assert!(
        cli::stderr(&denied).contains("Forbidden"),
        "{}",
        cli::stderr(&denied)
    );
}

#[test]
fn imported_catalog_logs_in_on_every_role_with_the_secrets_it_names() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = import(&lab, dir.path());
    ok(&pgconn(&lab, dir.path(), &["catalog", "validate"]));
    // the in-cluster Services behind the endpoints, for tunnels
    for service in [
        "service: temporal/temporal-db-pooler ",
        "service: temporal/temporal-db-pooler-repl ",
        "service: temporal/temporal-db ",
        "service: platform/platform-db-pooler-rw ",
        "service: platform/platform-db-rw ",
    ] {
        assert!(text.contains(service), "{service} missing:\n{text}");
    }
    assert!(
        text.contains("# Service temporal/temporal-db-external-admin"),
        "{text}"
    );
    // allowlists from loadBalancerSourceRanges; 0.0.0.0/0 is none
    let ls: serde_json::Value =
        serde_json::from_str(&ok(&pgconn(&lab, dir.path(), &["ls", "--json"]))).unwrap();
    let row = |c: &str, r: &str| {
        ls.as_array()
            .unwrap()
            .iter()
            .find(|x| x["cluster"] == c && x["role"] == r)
            .cloned()
    };
    assert_eq!(
        row("temporal-db", "admin").unwrap()["allowed_source_ranges"][0],
        "127.0.0.0/8"
    );
    assert!(row("temporal-db", "write").unwrap()["allowed_source_ranges"].is_null());
    assert_eq!(row("temporal-db", "read").unwrap()["ip"], "127.20.0.2");
    assert_eq!(row("platform-db", "admin").unwrap()["ip"], "127.20.0.3");
    // the CloudNativePG cluster's ro Pooler has no external Service: no read role
    assert!(row("platform-db", "read").is_none(), "{ls}");
    let no_read = pgconn(&lab, dir.path(), &["url", "platform-db", "--read"]);
    assert_eq!(no_read.status.code(), Some(2), "{}", cli::stderr(&no_read));
    // every role logs in with the credentials of the Secret the import named
    for (cluster, role, user, secret) in [
        (
            "temporal-db",
            "write",
            "temporal",
            "temporal/temporal.temporal-db.credentials",
        ),
        (
            "temporal-db",
            "read",
            "temporal",
            "temporal/temporal.temporal-db.credentials",
        ),
        (
            "temporal-db",
            "admin",
            ADMIN_USER,
            "temporal/platform-admin.temporal-db.credentials",
        ),
        (
            "platform-db",
            "write",
            "platform",
            "platform/platform-db-app",
        ),
        (
            "platform-db",
            "admin",
            ADMIN_USER,
            "platform/platform-db-superuser",
        ),
    ] {
        check_login(&lab, dir.path(), cluster, role, None, user, secret);
    }
    // a CloudNativePG managed role logs in with its passwordSecret
    check_login(
        &lab,
        dir.path(),
        "platform-db",
        "write",
        Some("platform_ro"),
        "platform_ro",
        "platform/platform-db-platform-ro",
    );
}

/// `creds` names `secret`, and the URL `url` prints logs in as `user` on a
/// replica for read, on the primary otherwise.
fn check_login(
    lab: &Lab,
    dir: &Path,
    cluster: &str,
    role: &str,
    as_user: Option<&str>,
    user: &str,
    secret: &str,
) {
    let mut args = vec![cluster, "--role", role];
    if let Some(u) = as_user {
        args.extend(["--user", u]);
    }
    let creds = ok(&pgconn(lab, dir, &[&["creds"], &args[..]].concat()));
    assert!(creds.contains(secret), "{cluster} {role}: {creds}");
    let url = ok(&pgconn(lab, dir, &[&["url"], &args[..]].concat()));
    let sql = "select current_user, pg_is_in_recovery()";
    let r = lab.psql(&["-At", "-c", sql, url.trim()], &[]);
    let want_recovery = if role == "read" { "t" } else { "f" };
    assert_eq!(
        r.expect_ok(),
        format!("{user}|{want_recovery}"),
        "{cluster} {role}"
    );
}

#[test]
fn diff_is_clean_against_the_import_and_reports_a_changed_allowlist() {
    let Some(lab) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = import(&lab, dir.path());
    let clean = pgconn(&lab, dir.path(), &["catalog", "diff", "kubernetes", "-A"]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}{}",
        cli::stdout(&clean),
        cli::stderr(&clean)
    );
    assert!(cli::stdout(&clean).contains("no drift"));
    // someone narrows temporal-db's admin allowlist in the catalog by hand
    let admin =
        "allowed_source_ranges: [127.0.0.0/8]  # Service temporal/temporal-db-external-admin";
    assert!(text.contains(admin), "{text}");
    std::fs::write(
        &path,
        text.replace(admin, "allowed_source_ranges: [10.1.0.0/16]"),
    )
    .unwrap();
    let drift = pgconn(&lab, dir.path(), &["catalog", "diff", "kubernetes", "-A"]);
    assert_eq!(drift.status.code(), Some(3), "{}", cli::stderr(&drift));
    let table = cli::stdout(&drift);
    let line = table
        .lines()
        .find(|l| l.contains("allowed_source_ranges"))
        .unwrap_or_else(|| panic!("{table}"));
    for word in ["temporal-db", "admin", "10.1.0.0/16", "127.0.0.0/8"] {
        assert!(line.contains(word), "{line}");
    }
    assert_eq!(table.lines().count(), 2, "header and one row: {table}");
    let json = pgconn(
        &lab,
        dir.path(),
        &["catalog", "diff", "kubernetes", "-A", "--json"],
    );
    assert_eq!(json.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_str(&cli::stdout(&json)).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["drift"][0]["field"], "allowed_source_ranges");
    assert_eq!(v["drift"][0]["catalog"], "10.1.0.0/16");
    assert_eq!(v["drift"][0]["cluster_says"], "127.0.0.0/8");
}

#[test]
fn forbidden_context_exits_1_naming_the_403_and_a_partial_one_imports() {
    let Some(lab) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = in_context(&lab, dir.path(), "lab-limited", "import", &["-A"]);
    assert_eq!(out.status.code(), Some(1), "{}", cli::stderr(&out));
    let err = cli::stderr(&out);
    assert!(
        err.contains("403 Forbidden") && err.contains("services"),
        "{err}"
    );
    assert!(cli::stdout(&out).is_empty());
    let (_, _) = import(&lab, dir.path());
    let diff = in_context(&lab, dir.path(), "lab-limited", "diff", &["-A"]);
    assert_eq!(diff.status.code(), Some(1), "{}", cli::stderr(&diff));
    // a context that may not list Poolers: reported, skipped, the rest imported
    let partial = in_context(&lab, dir.path(), "lab-partial", "import", &["-A"]);
    let yaml = ok(&partial);
    assert!(
        cli::stderr(&partial).contains("poolers.postgresql.cnpg.io"),
        "{}",
        cli::stderr(&partial)
    );
    assert!(
        yaml.contains("platform-db:") && yaml.contains("temporal-db:"),
        "{yaml}"
    );
    // a namespace without databases: nothing to write, exit 1 with the way out
    let empty = pgconn(
        &lab,
        dir.path(),
        &["catalog", "import", "kubernetes", "-n", "default"],
    );
    assert_eq!(empty.status.code(), Some(1), "{}", cli::stderr(&empty));
    assert!(
        cli::stderr(&empty).contains("no PostgreSQL cluster"),
        "{}",
        cli::stderr(&empty)
    );
    // the limited context reads its own namespace
    let own = in_context(
        &lab,
        dir.path(),
        "lab-limited",
        "import",
        &["-n", "platform"],
    );
    let yaml = ok(&own);
    assert!(
        yaml.contains("platform-db:") && !yaml.contains("temporal-db:"),
        "{yaml}"
    );
}

#[test]
fn helm_values_merged_as_helm_give_the_same_endpoints_as_the_cluster() {
    let Some(lab) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let values = cli::repo().join("tests/import/values.yaml");
    let lab_values = cli::repo().join("tests/import/values-lab.yaml");
    // the first file alone: its admin allowlist and the cluster the second file drops
    let first = pgconn(
        &lab,
        dir.path(),
        &["catalog", "import", "helm", values.to_str().unwrap()],
    );
    let text = ok(&first);
    assert!(
        text.contains("192.0.2.0/24") && text.contains("apps-db:"),
        "{text}"
    );
    assert!(
        cli::stderr(&first).contains("no users"),
        "{}",
        cli::stderr(&first)
    );
    // a values file that cannot be read: exit 1, naming it
    let missing = pgconn(
        &lab,
        dir.path(),
        &["catalog", "import", "helm", "/nonexistent/values.yaml"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(cli::stderr(&missing).contains("/nonexistent/values.yaml"));
    // both files: the second's pgClusters replaces the first's list
    let both = [
        "catalog",
        "import",
        "helm",
        values.to_str().unwrap(),
        lab_values.to_str().unwrap(),
    ];
    let text = ok(&pgconn(&lab, dir.path(), &both));
    assert!(
        !text.contains("apps-db") && !text.contains("192.0.2.0/24"),
        "{text}"
    );
    // the same endpoints, users and Secrets as the cluster's objects say
    import(&lab, dir.path());
    let mut diff = both.to_vec();
    diff[1] = "diff";
    let out = pgconn(&lab, dir.path(), &diff);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        cli::stdout(&out),
        cli::stderr(&out)
    );
    // and the helm catalog logs in like the imported one
    std::fs::write(dir.path().join("pgconn.yaml"), with_lab_ca(&lab, &text)).unwrap();
    let _lock = lab.lock();
    let url = ok(&pgconn(&lab, dir.path(), &["url", "temporal-db", "--read"]));
    let r = lab.psql(&["-At", "-c", "select current_user", url.trim()], &[]);
    assert_eq!(r.expect_ok(), "temporal");
}

/// A second lab API server over the lab's objects, without some API groups
/// (a cluster where that operator is not installed); killed when dropped.
struct SecondServer {
    child: std::process::Child,
    kubeconfig: PathBuf,
}

impl SecondServer {
    fn start(lab: &Lab, dir: &Path, without: &str) -> SecondServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let listen = format!("127.0.0.1:{port}");
        let api = cli::repo().join("lab/kubeapi.py");
        let kdir = dir.join("kube");
        let kube = lab.var("PGCONN_LAB_KUBE_DIR").expect("lab kube dir");
        let mut generate = Command::new("/usr/bin/python3");
        generate
            .arg(&api)
            .args(["generate", kube, kdir.to_str().unwrap(), "0", &listen]);
        ok(&bounded(generate));
        let child = Command::new("/usr/bin/python3")
            .arg(&api)
            .args(["serve", kdir.to_str().unwrap(), &listen, without])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kubeapi.py");
        let server = SecondServer {
            child,
            kubeconfig: kdir.join("config"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(&listen).is_err() {
            assert!(
                Instant::now() < deadline,
                "kubeapi.py is not listening on {listen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for SecondServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_operator_that_is_not_installed_is_skipped_without_a_word() {
    let Some(lab) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = SecondServer::start(&lab, dir.path(), "postgresql.cnpg.io");
    let mut cmd = cli::pgconn(&["catalog", "import", "kubernetes", "-A"]);
    cmd.env("HOME", dir.path())
        .env("KUBECONFIG", &server.kubeconfig)
        .env_remove("KUBERNETES_SERVICE_HOST");
    let out = bounded(cmd);
    let yaml = ok(&out);
    let err = cli::stderr(&out);
    assert!(!err.contains("cnpg") && !err.contains("404"), "{err}");
    // the Zalando cluster as before; platform-db only from its Services, without users
    assert!(yaml.contains("temporal.temporal-db.credentials"), "{yaml}");
    assert!(
        yaml.contains("platform-db:") && !yaml.contains("platform-db-app"),
        "{yaml}"
    );
    assert!(
        err.contains("no operator object for cluster platform-db"),
        "{err}"
    );
}
