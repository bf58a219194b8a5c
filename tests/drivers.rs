//! Driver conformance: every `pgconn url` format that has a driver installable
//! here, used by that REAL driver through the lab, with verification on.
//!
//! For each driver: (1) lab users whose passwords hold every special
//! character (`@ : / ? # % & + ' " $ \`, space, `;` `=` `` ` ``, non-ASCII,
//! and in a second user a newline) connect with the string exactly as
//! `pgconn url` printed it, plus only what pgconn's stderr note says to set in
//! code; (2) on the pooled write endpoint (PgBouncer 1.18, transaction mode)
//! the same parameterised query runs in interleaved transactions on two
//! connections past the drivers' auto-prepare thresholds without
//! `prepared statement … does not exist / already exists`, and the same
//! script WITHOUT pgconn's pool-safe setting fails (the negative control:
//! the test can fail); (3) with the `cert-wrong-name` fault the same driver
//! and string refuse to connect.
//!
//! Drivers and their scripts (tests/drivers/, installed by `lab/lab install`
//! into lab/.drivers): psql (libpq), psycopg 3, SQLAlchemy + psycopg,
//! asyncpg, SQLAlchemy + asyncpg, node-postgres, pgjdbc, and pgx v4 (Debian's
//! Go 1.19 sources, built offline in GOPATH mode: pgx v5, which the `pgx`
//! format's pool-safe key is for, is not packaged; pgconn's note tells v4
//! users what to write instead, and the test follows it). The connection
//! string carries the password, so it reaches the scripts in the
//! environment (`DRIVER_URL`), never in their argv. Prisma and Npgsql
//! cannot be installed here: their formats keep their unit tests only.
//!
//! Runs inside the lab namespace: `lab/test drivers::`, or
//! `lab/lab up && lab/lab exec -- cargo test --offline --test integration drivers::`.
//! Without a lab every test prints `skipped: lab not running`.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::support::cli::{self, drivers_dir};
use crate::support::lab::{self, Lab, Run};

const CLUSTER: &str = "temporal-db";
/// The pooled endpoint every check goes through.
const WRITE_HOST: &str = "temporal-db-write.lab.pgconn.test";
/// Bound for one driver run (the JVM compiles the check first).
const DRIVER_TIMEOUT: Duration = Duration::from_secs(90);

/// A lab user made by `lab/lab user` for these tests.
struct TestUser {
    name: &'static str,
    password: &'static str,
}

/// Every special character of the core issue, `;`, `=`, a backtick, `%41`
/// (a driver that decodes twice turns it into `A`), `$HOME` (a shell that
/// expands it), and non-ASCII (NFKC-stable, so `SASLprep` leaves it alone).
const SPECIAL: TestUser = TestUser {
    name: "drv_special",
    password: "p@ss:w/o?r#d%41&x+y'\"$HOME\\ ;=`é€日本z",
};
/// The same with a newline inside: `SASLprep` prohibits control characters,
/// so PostgreSQL and libpq fall back to the raw bytes; each driver must too.
const NEWLINE: TestUser = TestUser {
    name: "drv_newline",
    password: "two\nlines @:/?#%&+'\"$\\ ü",
};
/// Owns the negative controls: PgBouncer pools per (database, user), so the
/// named statements they leave on server connections never meet the other users.
const NEGATIVE: TestUser = TestUser {
    name: "drv_negative",
    password: "neg@:/?#%&+'\"$\\ é",
};

fn lab() -> Option<Lab> {
    let lab = Lab::get();
    if lab.is_none() {
        eprintln!("skipped: lab not running");
    }
    lab
}

fn repo() -> &'static Path {
    cli::repo()
}

// ------------------------------------------------------------------ lab users

/// Create (or update) the test users once per test process, under the lab lock.
fn ensure_users(lab: &Lab) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        for user in [&SPECIAL, &NEWLINE, &NEGATIVE] {
            create_user(lab, user);
        }
    });
}

/// `lab/lab user CLUSTER NAME FILE`: the password goes in a 0600 file.
fn create_user(lab: &Lab, user: &TestUser) {
    let dir = lab.dir().join("driver-tests");
    std::fs::create_dir_all(&dir).expect("create driver-tests dir");
    let file = dir.join(format!("{}.pw", user.name));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&file)
        .expect("password file");
    f.write_all(user.password.as_bytes())
        .expect("write password");
    drop(f);
    let script = lab
        .var("PGCONN_LAB_SCRIPT")
        .map_or_else(|| repo().join("lab/lab"), PathBuf::from);
    let mut cmd = Command::new("bash");
    cmd.arg(script)
        .args(["user", CLUSTER, user.name])
        .arg(&file)
        .arg("--dir")
        .arg(lab.dir());
    let r = lab::run(cmd, None, lab::COMMAND_TIMEOUT);
    let _ = std::fs::remove_file(&file);
    assert!(r.ok(), "lab/lab user {} failed: {r:#?}", user.name);
}

/// Close the user's server connections (and the statements left on them):
/// each pool run starts from a pooler that holds none for that user.
fn reset_pool(lab: &Lab, user: &TestUser) {
    let sql = format!(
        "select count(pg_terminate_backend(pid, 5000)) from pg_stat_activity where usename = '{}'",
        user.name
    );
    lab.query(CLUSTER, "admin", &sql).expect_ok();
}

// ------------------------------------------------------------------ pgconn url

/// What `pgconn url` printed.
struct Printed {
    /// stdout without its final newline: the string exactly as printed.
    text: String,
    /// stderr lines (the notes).
    notes: Vec<String>,
}

fn pgconn_url(lab: &Lab, user: &TestUser, args: &[&str]) -> Printed {
    let mut all = vec!["url", CLUSTER, "--user", user.name];
    all.extend_from_slice(args);
    let mut cmd = cli::pgconn(&all);
    let var = format!(
        "PGCONN_PASSWORD_{}_{}",
        CLUSTER.to_uppercase().replace('-', "_"),
        user.name.to_uppercase()
    );
    cmd.env("PGCONN_CATALOG", lab.catalog())
        .env("PGCONN_KEYRING", "none")
        .env(var, user.password);
    let out = cli::run(&mut cmd);
    let stdout = cli::stdout(&out);
    let stderr = cli::stderr(&out);
    assert!(
        out.status.success(),
        "pgconn url {} failed ({}): {stderr}",
        args.join(" "),
        out.status
    );
    let text = stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("pgconn url prints one line ending in a newline: {stdout:?}"))
        .to_string();
    Printed {
        text,
        notes: stderr.lines().map(str::to_string).collect(),
    }
}

/// What pgconn's notes say to set in code, in the scripts' terms.
#[derive(Default, Clone)]
struct InCode {
    /// JSON members of the connect keyword arguments / `connect_args`.
    connect_args: Vec<&'static str>,
    /// `poolclass=NullPool`.
    null_pool: bool,
    /// Environment variables (`PGSSLROOTCERT=…`).
    env: Vec<(String, String)>,
    /// pgx v4: `statement_cache_mode=describe` in place of pgx v5's
    /// `default_query_exec_mode=exec`, as the `pgx` format's note says.
    pgx_v4: bool,
}

impl InCode {
    fn from_notes(notes: &[String]) -> InCode {
        let mut c = InCode::default();
        for note in notes {
            if note.contains("prepare_threshold") {
                assert!(
                    note.contains("None"),
                    "a prepare_threshold note must say None: {note}"
                );
                c.connect_args.push("\"prepare_threshold\": null");
            }
            if note.contains("statement_cache_size") {
                c.connect_args.push("\"statement_cache_size\": 0");
            }
            if note.contains("NullPool") {
                c.null_pool = true;
            }
            if note.contains("pgx v4 put statement_cache_mode=describe in its place") {
                c.pgx_v4 = true;
            }
            if let Some(at) = note.find("PGSSLROOTCERT=") {
                let value = note[at + "PGSSLROOTCERT=".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default();
                c.env.push(("PGSSLROOTCERT".into(), value.into()));
            }
        }
        c
    }

    fn json(&self) -> String {
        format!("{{{}}}", self.connect_args.join(", "))
    }
}

// ------------------------------------------------------------------ drivers

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Driver {
    Psql,
    Psycopg,
    SqlalchemyPsycopg,
    Asyncpg,
    SqlalchemyAsyncpg,
    Node,
    Jdbc,
    /// pgx v4.
    Pgx,
}

impl Driver {
    fn script(self) -> &'static str {
        match self {
            Driver::Psql => "",
            Driver::Psycopg => "psycopg_check.py",
            Driver::SqlalchemyPsycopg | Driver::SqlalchemyAsyncpg => "sqlalchemy_check.py",
            Driver::Asyncpg => "asyncpg_check.py",
            Driver::Node => "node_check.js",
            Driver::Jdbc => "JdbcCheck.java",
            Driver::Pgx => "pgx_check.go",
        }
    }
}

const JDBC_JAR: &str = "/usr/share/java/postgresql.jar";

/// The driver's check as a command inside the lab (no inherited `PG*`).
fn driver_command(lab: &Lab, driver: Driver, mode: &str) -> Command {
    let scripts = repo().join("tests/drivers");
    let drivers = drivers_dir();
    let missing = |p: &Path| {
        assert!(
            p.exists(),
            "{} missing: run lab/lab install (it installs the drivers)",
            p.display()
        );
    };
    match driver {
        Driver::Psql => {
            assert_eq!(mode, "whoami", "psql only runs whoami");
            let mut cmd = lab.command("sh");
            // the string reaches psql as its argument, as a user types it, but
            // not through the test's own command line
            cmd.args([
                "-c",
                "exec psql -X -At -v ON_ERROR_STOP=1 \
                 -c \"select 'current_user=' || current_user\" \"$DRIVER_URL\"",
            ]);
            cmd
        }
        Driver::Psycopg
        | Driver::SqlalchemyPsycopg
        | Driver::Asyncpg
        | Driver::SqlalchemyAsyncpg => {
            let python = drivers.join("venv/bin/python");
            missing(&python);
            let mut cmd = lab.command(python.to_str().expect("utf-8 path"));
            cmd.arg(scripts.join(driver.script())).arg(mode);
            cmd
        }
        Driver::Node => {
            let modules = drivers.join("node/node_modules");
            missing(&modules.join("pg/package.json"));
            let mut cmd = lab.command("node");
            cmd.env("NODE_PATH", modules)
                .arg(scripts.join(driver.script()))
                .arg(mode);
            cmd
        }
        Driver::Jdbc => {
            missing(Path::new(JDBC_JAR));
            let mut cmd = lab.command("java");
            cmd.args(["-cp", JDBC_JAR])
                .arg(scripts.join(driver.script()))
                .arg(mode);
            cmd
        }
        Driver::Pgx => {
            let program = pgx_program(lab, &scripts.join(driver.script()));
            let mut cmd = lab.command(program.to_str().expect("utf-8 path"));
            cmd.arg(mode);
            cmd
        }
    }
}

/// Where `lab/lab install` puts Debian's Go sources (GOPATH mode).
const GOPATH: &str = "/usr/share/gocode";

/// The pgx check, built once per test process, offline (GOPATH mode,
/// `GOPROXY=off`) from Debian's pgx v4 sources.
fn pgx_program(lab: &Lab, source: &Path) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            assert!(
                Path::new(GOPATH)
                    .join("src/github.com/jackc/pgx/v4")
                    .exists(),
                "pgx v4 sources missing in {GOPATH}: run lab/lab install"
            );
            let dir = lab.dir().join("driver-tests");
            std::fs::create_dir_all(&dir).expect("create driver-tests dir");
            let out = dir.join("pgx_check");
            let mut cmd = Command::new("go");
            cmd.args(["build", "-o"])
                .arg(&out)
                .arg(source)
                .env("GO111MODULE", "off")
                .env("GOPATH", GOPATH)
                .env("GOPROXY", "off")
                .env("GOFLAGS", "")
                .env("GOCACHE", dir.join("gocache"));
            let r = lab::run(cmd, None, Duration::from_secs(300));
            assert!(r.ok(), "go build of the pgx check failed: {r:#?}");
            out
        })
        .clone()
}

/// Run the driver's check with `url` in `DRIVER_URL` and the in-code settings.
fn run_driver(
    lab: &Lab,
    driver: Driver,
    mode: &str,
    url: &str,
    code: &InCode,
    extra_env: &[(&str, &str)],
) -> Run {
    let mut cmd = driver_command(lab, driver, mode);
    let url = if code.pgx_v4 {
        url.replace(
            "default_query_exec_mode=exec",
            "statement_cache_mode=describe",
        )
    } else {
        url.to_string()
    };
    cmd.env("DRIVER_URL", url)
        .env("DRIVER_CONNECT_ARGS", code.json());
    if code.null_pool {
        cmd.env("DRIVER_NULLPOOL", "1");
    }
    for (k, v) in &code.env {
        cmd.env(k, v);
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut r = lab::run(cmd, None, DRIVER_TIMEOUT);
    // the command's Debug form holds the password (in DRIVER_URL): say what ran instead
    r.what = format!("{driver:?} {mode} (DRIVER_CONNECT_ARGS={})", code.json());
    r
}

/// The `--format` a driver's checks use.
fn format_of(driver: Driver) -> &'static str {
    match driver {
        Driver::Psql | Driver::Psycopg => "uri",
        Driver::SqlalchemyPsycopg => "sqlalchemy",
        Driver::Asyncpg => "asyncpg",
        Driver::SqlalchemyAsyncpg => "sqlalchemy-asyncpg",
        Driver::Node => "node",
        Driver::Jdbc => "jdbc",
        Driver::Pgx => "pgx",
    }
}

// ------------------------------------------------------------------ the three checks

/// (1) log in as `user` with the printed string; `select current_user`.
fn login(lab: &Lab, driver: Driver, user: &TestUser, args: &[&str]) -> Run {
    let printed = pgconn_url(lab, user, args);
    let code = InCode::from_notes(&printed.notes);
    run_driver(lab, driver, "whoami", &printed.text, &code, &[])
}

fn assert_logged_in(r: &Run, user: &TestUser) {
    assert!(
        r.ok()
            && r.stdout
                .lines()
                .any(|l| l == format!("current_user={}", user.name)),
        "{} could not log in as {}: {r:#?}",
        r.what,
        user.name
    );
}

/// Both special-character users, through the pooled write endpoint.
fn check_passwords(driver: Driver, formats: &[&[&str]]) {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    ensure_users(&lab);
    for args in formats {
        for user in [&SPECIAL, &NEWLINE] {
            let r = login(&lab, driver, user, args);
            assert_logged_in(&r, user);
        }
    }
}

/// `backend_pids_a=N` of a pool run.
fn backend_pids(r: &Run, key: &str) -> usize {
    r.stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in the output: {r:#?}"))
}

/// (2) pool safety with what pgconn printed, then the negative control:
/// `unsafe_url` / `unsafe_code` turn the pool-safe setting off.
fn check_pool(
    driver: Driver,
    unsafe_url: impl Fn(&str) -> String,
    unsafe_code: impl Fn(&InCode) -> InCode,
    unsafe_env: &[(&str, &str)],
) {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    ensure_users(&lab);
    let format = format_of(driver);

    // what pgconn prints, used as printed
    reset_pool(&lab, &SPECIAL);
    let printed = pgconn_url(&lab, &SPECIAL, &["--write", "--format", format]);
    let code = InCode::from_notes(&printed.notes);
    let r = run_driver(&lab, driver, "pool", &printed.text, &code, &[]);
    assert!(
        r.ok() && r.stdout.contains("pool ok"),
        "{driver:?} with `--format {format}` on the transaction pooler, the string as printed \
         and pgconn's notes {:?} applied, failed{}: {r:#?}",
        printed.notes,
        if r.stderr.contains("prepared statement") {
            " (the string and the notes do not make this driver safe on a transaction pooler)"
        } else {
            ""
        }
    );
    // the transactions really moved between server connections
    assert!(
        backend_pids(&r, "backend_pids_a") >= 2 && backend_pids(&r, "backend_pids_b") >= 2,
        "each connection should have used two server connections (transaction pooling): {r:#?}"
    );

    // the negative control: the same script without pgconn's pool-safe setting fails
    reset_pool(&lab, &NEGATIVE);
    let printed = pgconn_url(&lab, &NEGATIVE, &["--write", "--format", format]);
    let url = unsafe_url(&printed.text);
    let code = unsafe_code(&InCode::from_notes(&printed.notes));
    let r = run_driver(&lab, driver, "pool", &url, &code, unsafe_env);
    assert!(
        !r.ok() && r.stderr.contains("prepared statement"),
        "negative control: without the pool-safe setting {driver:?} should fail with \
         `prepared statement … does not exist / already exists`: {r:#?}"
    );
    reset_pool(&lab, &NEGATIVE);
}

/// (3) the `cert-wrong-name` fault on the write pooler: the driver refuses.
fn check_wrong_name(driver: Driver, formats: &[&[&str]], needle: &str) {
    let Some(lab) = lab() else { return };
    {
        let _lock = lab.lock();
        ensure_users(&lab);
    }
    // strings and settings first (pgconn does not connect)
    let printed: Vec<(String, InCode)> = formats
        .iter()
        .map(|args| {
            let p = pgconn_url(&lab, &SPECIAL, args);
            (p.text, InCode::from_notes(&p.notes))
        })
        .collect();
    let _fault = lab.inject("cert-wrong-name");
    for (url, code) in &printed {
        let r = run_driver(&lab, driver, "whoami", url, code, &[]);
        assert!(
            !r.ok() && r.text().contains(needle),
            "{driver:?} should refuse the wrong-name certificate of {WRITE_HOST} with {needle:?}: {r:#?}"
        );
    }
}

/// Not a pool-safety change: keep the setting as printed.
fn same(code: &InCode) -> InCode {
    code.clone()
}

/// The in-code settings without the connect arguments.
fn without_connect_args(code: &InCode) -> InCode {
    InCode {
        connect_args: Vec::new(),
        ..code.clone()
    }
}

/// Drop one `&key=value` / `?key=value` parameter from a URL.
fn without_param(url: &str, param: &str) -> String {
    let out = url
        .replace(&format!("&{param}"), "")
        .replace(&format!("?{param}&"), "?")
        .replace(&format!("?{param}"), "");
    assert_ne!(out, url, "{param} is not in the printed URL");
    out
}

// ------------------------------------------------------------------ psql / libpq

const LIBPQ_WRONG_NAME: &str = "server certificate for \"wrong-name.lab.pgconn.test\" does not match host name \"temporal-db-write.lab.pgconn.test\"";

#[test]
fn psql_passwords() {
    check_passwords(
        Driver::Psql,
        &[
            &["--write", "--format", "uri"],
            &["--write", "--format", "keyword"],
            &["--write", "--format", "uri", "--pin-ip"],
            &["--write", "--format", "keyword", "--pin-ip"],
            // straight to PostgreSQL (no pooler): the server's own SCRAM
            &["--admin", "--format", "uri"],
        ],
    );
}

#[test]
fn psql_pin_ip_connects_to_the_pinned_address() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    ensure_users(&lab);
    let printed = pgconn_url(&lab, &SPECIAL, &["--write", "--format", "uri", "--pin-ip"]);
    assert!(
        printed.text.contains("hostaddr=127.20.0.1") && printed.text.contains(WRITE_HOST),
        "--pin-ip keeps the name (for TLS) and pins the catalog's IP: {}",
        printed.text
    );
}

/// Under a wrong DNS answer (`dns-wrong-ip`: the write name resolves to an
/// address where nothing listens) the unpinned string fails and the pinned
/// one still logs in with real psql: hostaddr is the catalog's IP, and the
/// certificate is still checked against the name (a pinned string with a
/// name the certificate lacks is refused at the same address).
#[test]
fn psql_pin_ip_connects_under_a_wrong_dns_answer() {
    let Some(lab) = lab() else { return };
    {
        let _lock = lab.lock();
        ensure_users(&lab);
    }
    let formats: [&[&str]; 2] = [
        &["--write", "--format", "uri", "--pin-ip"],
        &["--write", "--format", "keyword", "--pin-ip"],
    ];
    let pinned: Vec<String> = formats
        .iter()
        .map(|args| pgconn_url(&lab, &SPECIAL, args).text)
        .collect();
    let unpinned = pgconn_url(&lab, &SPECIAL, &["--write", "--format", "uri"]).text;
    let _fault = lab.inject("dns-wrong-ip");
    let r = run_driver(
        &lab,
        Driver::Psql,
        "whoami",
        &unpinned,
        &InCode::default(),
        &[],
    );
    assert!(
        !r.ok() && r.stderr.contains("127.20.0.99"),
        "without --pin-ip psql follows the wrong answer: {r:#?}"
    );
    for url in &pinned {
        let r = run_driver(&lab, Driver::Psql, "whoami", url, &InCode::default(), &[]);
        assert_logged_in(&r, &SPECIAL);
        // the same pinned address with a name the certificate does not carry
        let other = url.replace(WRITE_HOST, "not-in-the-cert.lab.pgconn.test");
        assert_ne!(&other, url);
        let r = run_driver(
            &lab,
            Driver::Psql,
            "whoami",
            &other,
            &InCode::default(),
            &[],
        );
        assert!(
            !r.ok()
                && r.stderr
                    .contains("does not match host name \"not-in-the-cert.lab.pgconn.test\""),
            "a pinned string must still verify the name: {r:#?}"
        );
    }
}

#[test]
fn psql_refuses_wrong_name() {
    check_wrong_name(
        Driver::Psql,
        &[
            &["--write", "--format", "uri"],
            &["--write", "--format", "keyword"],
            &["--write", "--format", "uri", "--pin-ip"],
        ],
        LIBPQ_WRONG_NAME,
    );
}

// ------------------------------------------------------------------ psycopg 3

#[test]
fn psycopg_passwords() {
    check_passwords(
        Driver::Psycopg,
        &[
            &["--write", "--format", "uri"],
            &["--write", "--format", "keyword"],
            &["--write", "--format", "uri", "--pin-ip"],
        ],
    );
}

/// psycopg prepares a query after 5 runs (`prepare_threshold`); on a
/// transaction pooler that needs `prepare_threshold=None`, which a libpq
/// string cannot carry: pgconn's note must say so.
#[test]
fn psycopg_pool_safety() {
    check_pool(Driver::Psycopg, str::to_string, without_connect_args, &[]);
}

#[test]
fn psycopg_refuses_wrong_name() {
    check_wrong_name(
        Driver::Psycopg,
        &[
            &["--write", "--format", "uri"],
            &["--write", "--format", "keyword"],
        ],
        LIBPQ_WRONG_NAME,
    );
}

// ------------------------------------------------------------------ SQLAlchemy + psycopg

#[test]
fn sqlalchemy_psycopg_passwords() {
    check_passwords(
        Driver::SqlalchemyPsycopg,
        &[
            &["--write", "--format", "sqlalchemy"],
            &["--write", "--format", "sqlalchemy", "--pin-ip"],
        ],
    );
}

#[test]
fn sqlalchemy_psycopg_pool_safety() {
    check_pool(
        Driver::SqlalchemyPsycopg,
        str::to_string,
        without_connect_args,
        &[],
    );
}

#[test]
fn sqlalchemy_psycopg_refuses_wrong_name() {
    check_wrong_name(
        Driver::SqlalchemyPsycopg,
        &[&["--write", "--format", "sqlalchemy"]],
        LIBPQ_WRONG_NAME,
    );
}

// ------------------------------------------------------------------ asyncpg

const PY_SSL_WRONG_NAME: &str =
    "Hostname mismatch, certificate is not valid for 'temporal-db-write.lab.pgconn.test'";

#[test]
fn asyncpg_passwords() {
    check_passwords(Driver::Asyncpg, &[&["--write", "--format", "asyncpg"]]);
}

#[test]
fn asyncpg_pool_safety() {
    check_pool(Driver::Asyncpg, str::to_string, without_connect_args, &[]);
}

#[test]
fn asyncpg_refuses_wrong_name() {
    check_wrong_name(
        Driver::Asyncpg,
        &[&["--write", "--format", "asyncpg"]],
        PY_SSL_WRONG_NAME,
    );
}

// ------------------------------------------------------------------ SQLAlchemy + asyncpg

#[test]
fn sqlalchemy_asyncpg_passwords() {
    check_passwords(
        Driver::SqlalchemyAsyncpg,
        &[&["--write", "--format", "sqlalchemy-asyncpg"]],
    );
}

/// Both halves matter: `prepared_statement_cache_size=0` (URL) stops
/// SQLAlchemy reusing statements, `statement_cache_size=0` (code) makes
/// asyncpg's statements unnamed. The control drops both.
#[test]
fn sqlalchemy_asyncpg_pool_safety() {
    check_pool(
        Driver::SqlalchemyAsyncpg,
        |url| without_param(url, "prepared_statement_cache_size=0"),
        without_connect_args,
        &[],
    );
}

#[test]
fn sqlalchemy_asyncpg_refuses_wrong_name() {
    check_wrong_name(
        Driver::SqlalchemyAsyncpg,
        &[&["--write", "--format", "sqlalchemy-asyncpg"]],
        PY_SSL_WRONG_NAME,
    );
}

// ------------------------------------------------------------------ node-postgres

#[test]
fn node_postgres_passwords() {
    check_passwords(Driver::Node, &[&["--write", "--format", "node"]]);
}

/// node-postgres sends unnamed statements, so the `node` format needs no
/// pool-safe setting. The control gives the query a name (what an
/// application could do) to show the workload catches named statements.
#[test]
fn node_postgres_pool_safety() {
    check_pool(Driver::Node, str::to_string, same, &[("DRIVER_NAMED", "1")]);
}

#[test]
fn node_postgres_refuses_wrong_name() {
    check_wrong_name(
        Driver::Node,
        &[&["--write", "--format", "node"]],
        "Hostname/IP does not match certificate's altnames",
    );
}

// ------------------------------------------------------------------ pgjdbc

/// pgjdbc 42.5.5 (Debian 12) runs the password through `SASLprep` (ongres
/// scram-client) and throws on a prohibited character, where PostgreSQL,
/// PgBouncer and libpq fall back to the raw bytes: a password with a newline
/// (any ASCII control character) cannot log in over SCRAM with this pgjdbc,
/// whatever the URL. The newline user must fail for exactly that reason (or
/// log in, on a pgjdbc that falls back too); every other character must work.
#[test]
fn pgjdbc_passwords() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    ensure_users(&lab);
    let args: &[&str] = &["--write", "--format", "jdbc"];
    let r = login(&lab, Driver::Jdbc, &SPECIAL, args);
    assert_logged_in(&r, &SPECIAL);
    let r = login(&lab, Driver::Jdbc, &NEWLINE, args);
    if r.ok() {
        assert_logged_in(&r, &NEWLINE);
        eprintln!("note: this pgjdbc logs in with a newline in the password");
    } else {
        assert!(
            r.stderr.contains("Prohibited character"),
            "pgjdbc should log in, or fail only in SASLprep (a driver limit): {r:#?}"
        );
        eprintln!(
            "note: pgjdbc cannot use a password with a newline (SASLprep: Prohibited character)"
        );
    }
}

#[test]
fn pgjdbc_pool_safety() {
    check_pool(
        Driver::Jdbc,
        |url| without_param(url, "prepareThreshold=0"),
        same,
        &[],
    );
}

#[test]
fn pgjdbc_refuses_wrong_name() {
    check_wrong_name(
        Driver::Jdbc,
        &[&["--write", "--format", "jdbc"]],
        "could not be verified by hostnameverifier",
    );
}

// ------------------------------------------------------------------ pgx v4

#[test]
fn pgx_passwords() {
    check_passwords(
        Driver::Pgx,
        &[
            &["--write", "--format", "pgx"],
            // straight to PostgreSQL: no pool-safe key, the URL as printed
            &["--admin", "--format", "pgx"],
        ],
    );
}

/// pgx v4 with the printed URL and the note applied is safe on the
/// transaction pooler; without a pool-safe key it is not (the control). And
/// the URL alone, unchanged, is refused by PgBouncer: the reason the note
/// exists.
#[test]
fn pgx_pool_safety() {
    check_pool(
        Driver::Pgx,
        |url| without_param(url, "default_query_exec_mode=exec"),
        same,
        &[],
    );
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let printed = pgconn_url(&lab, &SPECIAL, &["--write", "--format", "pgx"]);
    let code = InCode::from_notes(&printed.notes);
    assert!(
        code.pgx_v4,
        "the pgx format should say what pgx v4 uses: {:?}",
        printed.notes
    );
    let as_printed = InCode {
        pgx_v4: false,
        ..code
    };
    let r = run_driver(&lab, Driver::Pgx, "whoami", &printed.text, &as_printed, &[]);
    assert!(
        !r.ok()
            && r.stderr
                .contains("unsupported startup parameter: default_query_exec_mode"),
        "pgx v4 sends pgx v5's key to PgBouncer as a startup parameter: {r:#?}"
    );
}

#[test]
fn pgx_refuses_wrong_name() {
    check_wrong_name(
        Driver::Pgx,
        &[&["--write", "--format", "pgx"]],
        "x509: certificate is valid for wrong-name.lab.pgconn.test",
    );
}

// ------------------------------------------------------------------ Npgsql (parser only)

/// The Npgsql check, compiled once per test process with Mono's `mcs`.
fn npgsql_program(lab: &Lab) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = lab.dir().join("driver-tests");
            std::fs::create_dir_all(&dir).expect("create driver-tests dir");
            let out = dir.join("NpgsqlConnStr.exe");
            let mut cmd = Command::new("mcs");
            cmd.arg("-r:System.Data.dll")
                .arg(format!("-out:{}", out.display()))
                .arg(repo().join("tests/drivers/NpgsqlConnStr.cs"));
            let r = lab::run(cmd, None, Duration::from_secs(120));
            assert!(
                r.ok(),
                "mcs failed (lab/lab install brings mono-mcs): {r:#?}"
            );
            out
        })
        .clone()
}

/// Npgsql itself cannot be installed here (`NuGet` only). What can: `.NET`'s
/// own connection-string parser (Mono's System.Data), which Npgsql's
/// builder derives from. The `npgsql` string of each special-character
/// user reads back to exactly that password, with verify-full, the lab CA
/// and the pool-safe keys as separate keys (no value ran into the next).
#[test]
fn npgsql_string_reads_back_in_dotnets_parser() {
    let Some(lab) = lab() else { return };
    if !cli::tool_available("mcs") {
        return;
    }
    let _lock = lab.lock();
    ensure_users(&lab);
    let program = npgsql_program(&lab);
    for user in [&SPECIAL, &NEWLINE] {
        let printed = pgconn_url(&lab, user, &["--write", "--format", "npgsql"]);
        let mut cmd = lab.command("mono");
        cmd.arg(&program)
            .env("DRIVER_URL", &printed.text)
            .env("DRIVER_PASSWORD", user.password);
        let mut r = lab::run(cmd, None, DRIVER_TIMEOUT);
        r.what = format!("NpgsqlConnStr for {}", user.name);
        assert!(
            r.ok() && r.stdout.lines().any(|l| l == "password_ok"),
            "the password of {} does not read back: {r:#?}",
            user.name
        );
        let lines: Vec<&str> = r.stdout.lines().collect();
        for want in [
            format!("host={WRITE_HOST}"),
            "port=5432".to_string(),
            format!("username={}", user.name),
            "ssl mode=VerifyFull".to_string(),
            format!("root certificate={}", lab.ca_cert().display()),
            "max auto prepare=0".to_string(),
            "no reset on close=true".to_string(),
        ] {
            assert!(
                lines.contains(&want.as_str()),
                "{want:?} not read back: {r:#?}"
            );
        }
    }
}
