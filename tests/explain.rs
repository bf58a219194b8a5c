//! `pgconn explain`: the messages of the reference file, real messages
//! captured in the lab from psql and from the real drivers (psycopg 3,
//! asyncpg, node-postgres) under each fault, unknown text, stdin, the JSON
//! shape, sanitising and catalog advice.
//!
//! The lab part runs inside the lab namespace (`lab/lab exec -- cargo test
//! --offline --test integration explain::`); without a lab it prints `skipped: lab not
//! running`, the rest runs anywhere.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::cli::pgconn;
use crate::support::lab::{self, ADMIN_USER, Lab};
use serde_json::Value;

/// The categories of the CLI contract.
const CATEGORIES: [&str; 20] = [
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
    "database",
    "role",
    "too_many_connections",
    "prepared_statement",
    "read_only",
    "startup_parameter",
    "recovery_conflict",
    "channel_binding",
    "unknown",
];

/// `pgconn explain --json` with `text` on stdin; no catalog unless given.
fn explain_with(text: &str, catalog: Option<&Path>) -> Value {
    let mut cmd = pgconn(&["explain", "--json", "-"]);
    cmd.env(
        "PGCONN_CATALOG",
        catalog.unwrap_or(Path::new("/nonexistent/pgconn.yaml")),
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("pgconn runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("pgconn ends");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        ["category", "hint", "summary"],
        "exactly the contract's keys"
    );
    assert!(CATEGORIES.contains(&v["category"].as_str().unwrap()), "{v}");
    v
}

fn explain(text: &str) -> Value {
    explain_with(text, None)
}

fn assert_category(text: &str, want: &str) {
    let v = explain(text);
    assert_eq!(v["category"], want, "{text}\n{v:#}");
    assert!(!v["summary"].as_str().unwrap().is_empty());
    assert!(!v["hint"].as_str().unwrap().is_empty());
}

#[test]
fn reference_messages() {
    let cases = [
        (
            r#"could not translate host name "db.example" to address: Name or service not known"#,
            "dns",
        ),
        (
            r#"connection to server at "db" (10.0.0.1), port 5432 failed: Connection refused"#,
            "tcp",
        ),
        (
            r#"connection to server at "db" (10.0.0.1), port 5432 failed: timeout expired"#,
            "tcp",
        ),
        (
            "server does not support SSL, but SSL was required",
            "tls.negotiate",
        ),
        ("FATAL:  SSL required", "tls.negotiate"),
        ("SSL error: certificate verify failed", "tls.chain"),
        ("invalid peer certificate: UnknownIssuer", "tls.chain"),
        ("invalid peer certificate: Expired", "tls.expiry"),
        (
            r#"server certificate for "a.example" (and 1 other name) does not match host name "1.2.3.4""#,
            "tls.hostname",
        ),
        (
            r#"FATAL:  password authentication failed for user "u""#,
            "auth",
        ),
        (
            r#"FATAL:  no pg_hba.conf entry for host "1.2.3.4", user "u", database "d", SSL encryption"#,
            "auth",
        ),
        (
            r#"FATAL:  pg_hba.conf rejects connection for host "1.2.3.4", user "u", database "d", SSL encryption"#,
            "auth",
        ),
        (r#"FATAL:  database "d" does not exist"#, "database"),
        (r#"FATAL:  role "r" does not exist"#, "role"),
        (
            "FATAL:  sorry, too many clients already",
            "too_many_connections",
        ),
        (
            "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
            "too_many_connections",
        ),
        (
            r#"FATAL:  too many connections for role "r""#,
            "too_many_connections",
        ),
        ("FATAL:  the database system is starting up", "auth"),
        ("FATAL:  the database system is shutting down", "auth"),
        (
            "ERROR:  cannot execute INSERT in a read-only transaction",
            "read_only",
        ),
        (
            "ERROR:  canceling statement due to conflict with recovery",
            "recovery_conflict",
        ),
        (
            "FATAL:  unsupported startup parameter: extra_float_digits",
            "startup_parameter",
        ),
        (
            "FATAL:  unsupported startup parameter in options: search_path",
            "startup_parameter",
        ),
        (
            "FATAL:  no more connections allowed (max_client_conn)",
            "too_many_connections",
        ),
        ("ERROR:  query_wait_timeout", "pooler"),
        (
            "ERROR:  server login has been failing, cached error: connect failed",
            "pooler",
        ),
        ("FATAL:  SASL authentication failed", "auth"),
        ("FATAL:  no such database: shop", "database"),
        (
            r#"ERROR:  prepared statement "S_1" does not exist"#,
            "prepared_statement",
        ),
        (
            r#"ERROR:  prepared statement "S_1" already exists"#,
            "prepared_statement",
        ),
        (
            "channel binding is required, but server did not offer an authentication method that supports channel binding",
            "channel_binding",
        ),
    ];
    for (text, want) in cases {
        assert_category(text, want);
    }
}

#[test]
fn unknown_text_is_unknown() {
    for text in [
        "the coffee machine is empty",
        "ERROR:  relation \"users\" does not exist",
        "42",
    ] {
        let v = explain(text);
        assert_eq!(v["category"], "unknown", "{text}");
        assert!(v["hint"].as_str().unwrap().contains("pgconn doctor"), "{v}");
    }
}

#[test]
fn arguments_stdin_and_human_output() {
    let out = pgconn(&[
        "explain", "FATAL:", "sorry,", "too", "many", "clients", "already",
    ])
    .env("PGCONN_CATALOG", "/nonexistent/pgconn.yaml")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("too_many_connections: "), "{text}");
    assert!(text.contains("\nhint: "), "{text}");
    // nothing to explain: a usage error, never a hang on a missing stdin
    let out = pgconn(&["explain"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn remote_text_is_sanitised() {
    let v = explain(
        "FATAL:  password authentication failed for user \"\x1b[2J\x1b]0;owned\x07evil\u{202e}\"",
    );
    let shown = v.to_string();
    assert!(
        !shown.contains("\\u001b") && !shown.contains('\u{202e}'),
        "{shown}"
    );
    assert!(v["summary"].as_str().unwrap().contains("\"evil\""), "{v}");
}

#[test]
fn with_a_catalog_the_endpoint_to_use_is_named() {
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/catalogs/good/contract.yaml");
    let v = explain_with(
        "connection to server at \"temporal-db-write.pnats.cloud\" (103.110.174.19), port 5432: ERROR:  prepared statement \"S_3\" does not exist",
        Some(&catalog),
    );
    assert_eq!(v["category"], "prepared_statement");
    let hint = v["hint"].as_str().unwrap();
    assert!(hint.contains("pgconn url temporal-db --admin"), "{hint}");
    assert!(hint.contains("temporal-db's write endpoint"), "{hint}");
    // the same message without a catalog still explains
    let v = explain("ERROR:  prepared statement \"S_3\" does not exist");
    assert_eq!(v["category"], "prepared_statement");
}

// ---------------------------------------------------------------- the lab

fn lab_or_skip() -> Option<Lab> {
    let lab = Lab::get();
    if lab.is_none() {
        eprintln!("skipped: lab not running");
    }
    lab
}

/// A libpq URL for an endpoint (passwords in the lab are alphanumeric).
fn url(lab: &Lab, cluster: &str, role: &str, user: &str, password: &str, db: &str) -> String {
    format!(
        "postgresql://{user}:{password}@{}:{}/{db}?sslmode=verify-full&sslrootcert={}",
        lab.host(cluster, role),
        lab.port(cluster),
        lab.ca_cert().display()
    )
}

/// The drivers installed by `lab/lab install` (lab/.drivers).
#[derive(Clone, Copy, Debug)]
enum Driver {
    Psql,
    Psycopg,
    Asyncpg,
    Node,
}

const PSYCOPG: &str = "import os, psycopg\ntry:\n    psycopg.connect(os.environ['DSN'], connect_timeout=3).execute(os.environ.get('SQL', 'select 1'))\nexcept Exception as e:\n    print(f'{type(e).__module__}.{type(e).__name__}: {e}'); raise SystemExit(1)";
const ASYNCPG: &str = "import os, json, asyncio, asyncpg\nasync def main():\n    c = await asyncpg.connect(os.environ['DSN'], timeout=3, server_settings=json.loads(os.environ.get('SETTINGS') or '{}'))\n    await c.execute(os.environ.get('SQL', 'select 1'))\ntry:\n    asyncio.run(main())\nexcept Exception as e:\n    print(f'{type(e).__module__}.{type(e).__name__}: {e}'); raise SystemExit(1)";
const NODE: &str = "const {Client} = require('pg'); const c = new Client({connectionString: process.env.DSN, connectionTimeoutMillis: 3000});\nc.connect().then(() => c.query(process.env.SQL || 'select 1')).then(() => c.end()).catch(e => { console.log(String(e)); process.exit(1); });";

/// Runs a driver against `dsn`; its error text (it must fail).
fn capture(lab: &Lab, driver: Driver, dsn: &str, sql: &str) -> Option<String> {
    let drivers = Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/.drivers");
    let mut cmd: Command = match driver {
        Driver::Psql => {
            let mut c = lab.command("psql");
            c.args(["-X", "-Atc", sql, dsn]);
            c
        }
        Driver::Psycopg | Driver::Asyncpg => {
            let python = drivers.join("venv/bin/python");
            if !python.exists() {
                return None;
            }
            let mut c = lab.command(python.to_str().unwrap());
            c.args([
                "-c",
                if matches!(driver, Driver::Psycopg) {
                    PSYCOPG
                } else {
                    ASYNCPG
                },
            ]);
            c
        }
        Driver::Node => {
            let modules = drivers.join("node/node_modules");
            if !modules.exists() {
                return None;
            }
            let mut c = lab.command("node");
            c.args(["-e", NODE]).env("NODE_PATH", modules);
            c
        }
    };
    cmd.env("DSN", dsn).env("SQL", sql);
    let r = lab::run(cmd, None, Duration::from_secs(30));
    assert!(!r.ok(), "{driver:?} should have failed: {r:#?}");
    Some(r.text())
}

/// A captured message must get `want`.
fn expect(lab: &Lab, driver: Driver, dsn: &str, sql: &str, want: &str) {
    let Some(text) = capture(lab, driver, dsn, sql) else {
        eprintln!("{driver:?} not installed (lab/lab install): skipped");
        return;
    };
    let v = explain_with(&text, Some(&lab.catalog()));
    assert_eq!(
        v["category"], want,
        "{driver:?} said:\n{text}\nexplain: {v:#}"
    );
}

const ALL: [Driver; 4] = [Driver::Psql, Driver::Psycopg, Driver::Asyncpg, Driver::Node];

#[test]
fn real_messages_under_faults() {
    let Some(lab) = lab_or_skip() else { return };
    let pw = lab.password("temporal-db", "temporal");
    let write = url(&lab, "temporal-db", "write", "temporal", &pw, "temporal");
    let cases: [(&str, &str); 7] = [
        ("dns-nxdomain", "dns"),
        ("pooler-stopped", "tcp"),
        ("pooler-no-tls", "tls.negotiate"),
        ("cert-wrong-name", "tls.hostname"),
        ("cert-untrusted", "tls.chain"),
        ("pooler-full", "too_many_connections"),
        ("dns-wrong-ip", "tcp"),
    ];
    for (fault, want) in cases {
        let _guard = lab.inject(fault);
        for driver in ALL {
            expect(&lab, driver, &write, "select 1", want);
        }
    }
    // libpq does not say why a certificate was rejected; the others do
    let _guard = lab.inject("cert-expired");
    expect(&lab, Driver::Psql, &write, "select 1", "tls.chain");
    expect(&lab, Driver::Psycopg, &write, "select 1", "tls.chain");
    expect(&lab, Driver::Asyncpg, &write, "select 1", "tls.expiry");
    expect(&lab, Driver::Node, &write, "select 1", "tls.expiry");
}

#[test]
fn real_messages_from_the_server_and_the_pooler() {
    let Some(lab) = lab_or_skip() else { return };
    let admin_pw = lab.password("temporal-db", ADMIN_USER);
    let pw = lab.password("temporal-db", "temporal");
    {
        let _guard = lab.inject("admin-blackhole");
        let admin = url(
            &lab,
            "temporal-db",
            "admin",
            ADMIN_USER,
            &admin_pw,
            "temporal",
        );
        let dsn = format!("{admin}&connect_timeout=2");
        expect(&lab, Driver::Psql, &dsn, "select 1", "tcp");
        let text = capture(&lab, Driver::Psql, &dsn, "select 1").unwrap();
        let v = explain_with(&text, Some(&lab.catalog()));
        assert!(
            v["hint"].as_str().unwrap().contains("127.0.0.0/8"),
            "names the endpoint's allowlist: {v:#}"
        );
    }
    {
        let _guard = lab.inject("hba-reject");
        let dsn = url(&lab, "temporal-db", "admin", "temporal", &pw, "temporal");
        for driver in ALL {
            expect(&lab, driver, &dsn, "select 1", "auth");
        }
    }
    {
        let _guard = lab.inject("write-to-replica");
        let dsn = url(&lab, "temporal-db", "write", "temporal", &pw, "temporal");
        for driver in ALL {
            expect(
                &lab,
                driver,
                &dsn,
                "insert into lab_marker (cluster) values ('x')",
                "read_only",
            );
        }
    }
    let _lock = lab.lock();
    for (role, user, password, db, want) in [
        ("write", "temporal", "wrong-password", "temporal", "auth"),
        ("admin", ADMIN_USER, "wrong-password", "temporal", "auth"),
        (
            "admin",
            ADMIN_USER,
            admin_pw.as_str(),
            "nosuchdb",
            "database",
        ),
        ("write", "temporal", pw.as_str(), "nosuchdb", "database"),
    ] {
        let dsn = url(&lab, "temporal-db", role, user, password, db);
        for driver in ALL {
            expect(&lab, driver, &dsn, "select 1", want);
        }
    }
    // plaintext clients: the pooler and PostgreSQL both turn them away
    let plain = url(&lab, "temporal-db", "write", "temporal", &pw, "temporal")
        .replace("sslmode=verify-full", "sslmode=disable");
    expect(&lab, Driver::Psql, &plain, "select 1", "tls.negotiate");
    let plain = url(
        &lab,
        "temporal-db",
        "admin",
        ADMIN_USER,
        &admin_pw,
        "temporal",
    )
    .replace("sslmode=verify-full", "sslmode=disable");
    expect(&lab, Driver::Psql, &plain, "select 1", "tls.negotiate");
    // a startup parameter PgBouncer does not take (asyncpg sends server_settings as such)
    let dsn = url(&lab, "temporal-db", "write", "temporal", &pw, "temporal");
    let mut cmd = lab.command(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("lab/.drivers/venv/bin/python")
            .to_str()
            .unwrap(),
    );
    cmd.args(["-c", ASYNCPG])
        .env("DSN", &dsn)
        .env("SETTINGS", r#"{"work_mem": "64MB"}"#);
    if Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lab/.drivers/venv")
        .exists()
    {
        let r = lab::run(cmd, None, Duration::from_secs(30));
        assert!(
            !r.ok(),
            "PgBouncer should refuse work_mem as a startup parameter: {r:#?}"
        );
        let v = explain_with(&r.text(), Some(&lab.catalog()));
        assert_eq!(v["category"], "startup_parameter", "{}\n{v:#}", r.text());
        assert!(
            v["hint"].as_str().unwrap().contains("--admin"),
            "names the admin endpoints: {v:#}"
        );
    }
}

// ---------------------------------------------------------------- the corpus

/// `tests/data/explain_corpus.tsv`: (category, where it comes from, message).
fn corpus() -> Vec<(&'static str, &'static str, String)> {
    include_str!("data/explain_corpus.tsv")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.splitn(3, '\t');
            let (Some(want), Some(from), Some(text)) = (parts.next(), parts.next(), parts.next())
            else {
                panic!("corpus line without three tab-separated fields: {l}");
            };
            (want, from, text.replace("\\n", "\n").replace("\\t", "\t"))
        })
        .collect()
}

#[test]
fn corpus_is_classified() {
    let corpus = corpus();
    assert!(
        corpus.len() > 150,
        "the corpus lost lines: {}",
        corpus.len()
    );
    let mut wrong = Vec::new();
    for (want, from, text) in &corpus {
        assert!(
            CATEGORIES.contains(want),
            "unknown category {want} ({from})"
        );
        let v = explain(text);
        if v["category"] != *want {
            wrong.push(format!(
                "{from}: {text:?}\n  want {want}, got {}",
                v["category"]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} corpus messages misclassified:\n{}",
        wrong.len(),
        corpus.len(),
        wrong.join("\n")
    );
    // the sources' own wordings, not a catch-all: each source family has
    // messages in more than one category
    let unknown = corpus.iter().filter(|c| c.0 == "unknown").count();
    assert!(
        unknown * 10 < corpus.len(),
        "only messages too ambiguous to name may be unknown"
    );
}
