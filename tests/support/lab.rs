//! Test support for the local lab (`lab/lab`): find the running lab, run
//! `psql` (and other commands) inside its network namespace, inject and heal
//! faults. Only `std`.
//!
//! The intended flow runs the test binary inside the lab namespace:
//! `lab/lab up && lab/lab exec -- cargo test --offline --test integration lab_faults::`
//! (or `lab/test`, which does all of it). When the test binary runs outside
//! the namespace but `PGCONN_LAB_DIR` is set, commands are wrapped in
//! `ip netns exec` (needs root).
//!
//! Without a lab (`PGCONN_LAB_DIR` unset) [`Lab::get`] returns `None` and
//! the test should print `skipped: lab not running` and return; with
//! `PGCONN_REQUIRE_LAB=1` it panics instead, so CI cannot silently skip.
#![allow(dead_code)]
// methods take `&self` so tests read as lab.x(), even where the lab is not consulted
#![allow(clippy::unused_self)]

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::thread;

pub use super::run::{Run, run};
use std::time::{Duration, Instant};

/// Serialises every test that touches the lab: faults change shared state,
/// and cargo runs the tests of one binary in parallel threads.
static LAB_LOCK: Mutex<()> = Mutex::new(());

/// Hard limit for any single command a test runs through this helper.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The clusters of the lab: (name, port, database, app user, roles).
pub const CLUSTERS: &[(&str, u16, &str, &str, &[&str])] = &[
    (
        "temporal-db",
        5432,
        "temporal",
        "temporal",
        &["write", "read", "admin"],
    ),
    (
        "platform-db",
        5433,
        "platform",
        "platform",
        &["write", "admin"],
    ),
];

/// The admin superuser of every cluster.
pub const ADMIN_USER: &str = "platform_admin";

/// A running lab, as described by `DIR/lab.env`.
pub struct Lab {
    dir: PathBuf,
    env: HashMap<String, String>,
    netns: String,
    script: PathBuf,
    in_netns: bool,
}

/// Holds the lab lock; tests that only read the lab take it so that no
/// fault of another test is active meanwhile.
pub struct LabLock {
    dir_lock: PathBuf,
    _guard: MutexGuard<'static, ()>,
}

impl Drop for LabLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.dir_lock.join("owner"));
        let _ = std::fs::remove_dir(&self.dir_lock);
    }
}

/// An injected fault: healed (`fault NAME off`) when dropped, also when the
/// test panics. Holds the lab lock until then.
pub struct FaultGuard<'a> {
    lab: &'a Lab,
    name: String,
    healed: bool,
    _lock: LabLock,
}

impl FaultGuard<'_> {
    /// Heal now (and check it worked); the lock stays held until the guard
    /// is dropped, so the test can check the healed lab undisturbed.
    pub fn heal(&mut self) {
        if !self.healed {
            self.healed = true;
            self.lab.fault(&self.name, false);
        }
    }
}

impl Drop for FaultGuard<'_> {
    fn drop(&mut self) {
        if self.healed {
            return;
        }
        let r = self.lab.fault_run(&self.name, false);
        if !r.ok() {
            if thread::panicking() {
                eprintln!("could not heal fault {}: {r:#?}", self.name);
            } else {
                panic!("could not heal fault {}: {r:#?}", self.name);
            }
        }
    }
}

/// The lab lock: a mutex for the threads of this test binary, and a lock
/// directory `DIR/lock` for other processes (other test binaries, nextest's
/// process per test). A lock whose owner process is gone is taken over.
fn lock(dir: &Path) -> LabLock {
    let guard = LAB_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let lock_dir = dir.join("lock");
    let me = std::process::id().to_string();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        match std::fs::create_dir(&lock_dir) {
            Ok(()) => {
                std::fs::write(lock_dir.join("owner"), &me)
                    .unwrap_or_else(|e| panic!("cannot write {}: {e}", lock_dir.display()));
                return LabLock {
                    dir_lock: lock_dir,
                    _guard: guard,
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let owner = std::fs::read_to_string(lock_dir.join("owner")).unwrap_or_default();
                let age = std::fs::metadata(&lock_dir)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .unwrap_or_default();
                let stale = if owner.trim().is_empty() {
                    age > Duration::from_secs(10)
                } else {
                    !Path::new("/proc").join(owner.trim()).exists()
                };
                if stale {
                    let _ = std::fs::remove_file(lock_dir.join("owner"));
                    let _ = std::fs::remove_dir(&lock_dir);
                    continue;
                }
            }
            Err(e) => panic!("cannot create {}: {e}", lock_dir.display()),
        }
        assert!(
            Instant::now() < deadline,
            "lab lock {} still held by process {} after 300 s",
            lock_dir.display(),
            std::fs::read_to_string(lock_dir.join("owner")).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// Parse `export K='V'` lines (the format `lab/lab up` writes).
fn parse_env(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("export ") else {
            continue;
        };
        let Some((k, v)) = rest.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .or_else(|| v.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
            .unwrap_or(v);
        out.insert(k.trim().to_string(), v.to_string());
    }
    out
}

fn same_netns(netns: &str) -> bool {
    let mine = std::fs::metadata("/proc/self/ns/net");
    let theirs = std::fs::metadata(format!("/run/netns/{netns}"));
    match (mine, theirs) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

impl Lab {
    /// The running lab, or `None` when `PGCONN_LAB_DIR` is unset (panics
    /// then if `PGCONN_REQUIRE_LAB=1`).
    pub fn get() -> Option<Lab> {
        let require = std::env::var("PGCONN_REQUIRE_LAB").is_ok_and(|v| v == "1");
        let Some(dir) = std::env::var_os("PGCONN_LAB_DIR").filter(|d| !d.is_empty()) else {
            assert!(
                !require,
                "lab not up: run ./lab/test (PGCONN_REQUIRE_LAB=1 but PGCONN_LAB_DIR is unset)"
            );
            return None;
        };
        let dir = PathBuf::from(dir);
        let env_file = dir.join("lab.env");
        let text = match std::fs::read_to_string(&env_file) {
            Ok(t) => t,
            Err(e) => {
                assert!(
                    !require,
                    "lab not up: run ./lab/test ({}: {e})",
                    env_file.display()
                );
                eprintln!(
                    "PGCONN_LAB_DIR is set but {} is unreadable: {e}",
                    env_file.display()
                );
                return None;
            }
        };
        let env = parse_env(&text);
        let netns = env.get("PGCONN_LAB_NETNS").cloned().unwrap_or_default();
        assert!(
            !netns.is_empty(),
            "{} has no PGCONN_LAB_NETNS",
            env_file.display()
        );
        let script = env.get("PGCONN_LAB_SCRIPT").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/lab"),
            PathBuf::from,
        );
        if !Path::new("/run/netns").join(&netns).exists() {
            assert!(
                !require,
                "lab not up: run ./lab/test (namespace {netns} of {} is gone)",
                dir.display()
            );
            eprintln!("PGCONN_LAB_DIR is set but namespace {netns} is gone (lab/lab down?)");
            return None;
        }
        let in_netns = same_netns(&netns);
        Some(Lab {
            dir,
            env,
            netns,
            script,
            in_netns,
        })
    }

    /// Take the lab lock without injecting anything.
    pub fn lock(&self) -> LabLock {
        lock(&self.dir)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// A variable of lab.env.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.env.get(key).map(String::as_str)
    }

    /// The catalog the lab wrote (`DIR/pgconn.yaml`).
    pub fn catalog(&self) -> PathBuf {
        self.var("PGCONN_CATALOG")
            .map_or_else(|| self.dir.join("pgconn.yaml"), PathBuf::from)
    }

    /// The lab root CA clients trust (`DIR/ca.crt`).
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// Generated TLS material (leaves, keys, the untrusted CA).
    pub fn tls_dir(&self) -> PathBuf {
        self.dir.join("tls")
    }

    pub fn domain(&self) -> &str {
        self.var("PGCONN_LAB_DOMAIN").unwrap_or("lab.pgconn.test")
    }

    /// File holding the password of `user` on `cluster`.
    pub fn secret_path(&self, cluster: &str, user: &str) -> PathBuf {
        self.dir.join("secrets").join(cluster).join(user)
    }

    /// Password of `user` on `cluster`.
    pub fn password(&self, cluster: &str, user: &str) -> String {
        let p = self.secret_path(cluster, user);
        std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
            .trim_end_matches('\n')
            .to_string()
    }

    fn cluster(
        cluster: &str,
    ) -> (
        &'static str,
        u16,
        &'static str,
        &'static str,
        &'static [&'static str],
    ) {
        *CLUSTERS
            .iter()
            .find(|c| c.0 == cluster)
            .unwrap_or_else(|| panic!("unknown lab cluster {cluster}"))
    }

    /// Port of `cluster` on every shared IP.
    pub fn port(&self, cluster: &str) -> u16 {
        Self::cluster(cluster).1
    }

    /// Default database of `cluster`.
    pub fn database(&self, cluster: &str) -> &'static str {
        Self::cluster(cluster).2
    }

    /// Default user of `role` on `cluster` (app user for write/read, admin for admin).
    pub fn default_user(&self, cluster: &str, role: &str) -> &'static str {
        if role == "admin" {
            ADMIN_USER
        } else {
            Self::cluster(cluster).3
        }
    }

    /// DNS name of an endpoint.
    pub fn host(&self, cluster: &str, role: &str) -> String {
        format!("{cluster}-{role}.{}", self.domain())
    }

    /// libpq keyword/value connection string with `sslmode=verify-full`
    /// and the lab CA; `extra` is appended (later keys win in libpq).
    pub fn conninfo(&self, cluster: &str, role: &str, user: &str, extra: &str) -> String {
        format!(
            "host={} port={} dbname={} user={} sslmode=verify-full sslrootcert={} {}",
            self.host(cluster, role),
            self.port(cluster),
            self.database(cluster),
            user,
            self.ca_cert().display(),
            extra
        )
        .trim_end()
        .to_string()
    }

    /// A command that runs inside the lab namespace, with a clean `PG*`
    /// environment (nothing from the caller leaks into libpq).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = if self.in_netns {
            Command::new(program)
        } else {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &self.netns, program]);
            c
        };
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("PG") {
                cmd.env_remove(k);
            }
        }
        cmd
    }

    /// Run `psql -X` with `args` and extra environment, inside the lab.
    pub fn psql(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command("psql");
        cmd.arg("-X").args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(cmd, None, COMMAND_TIMEOUT)
    }

    /// Connect to an endpoint with verify-full and run one query (`-At`).
    /// `extra` is appended to the conninfo (e.g. `connect_timeout=3`).
    pub fn query_as(&self, cluster: &str, role: &str, user: &str, sql: &str, extra: &str) -> Run {
        let conninfo = self.conninfo(cluster, role, user, extra);
        let pw = self.password(cluster, user);
        self.psql(&["-At", "-c", sql, &conninfo], &[("PGPASSWORD", &pw)])
    }

    /// [`Lab::query_as`] with the endpoint's default user and `connect_timeout=5`.
    pub fn query(&self, cluster: &str, role: &str, sql: &str) -> Run {
        self.query_as(
            cluster,
            role,
            self.default_user(cluster, role),
            sql,
            "connect_timeout=5",
        )
    }

    /// Connect and return `pg_is_in_recovery()` (`"t"`/`"f"`); panics on failure.
    pub fn in_recovery(&self, cluster: &str, role: &str) -> String {
        self.query(cluster, role, "select pg_is_in_recovery()")
            .expect_ok()
    }

    /// The healthy topology answers: write/admin on primaries, read on the replica.
    pub fn assert_healthy(&self, cluster: &str, role: &str) {
        let want = if role == "read" { "t" } else { "f" };
        assert_eq!(
            self.in_recovery(cluster, role),
            want,
            "{cluster} {role}: pg_is_in_recovery() (t = replica)"
        );
    }

    /// The certificate chain an endpoint presents (`PostgreSQL` STARTTLS via
    /// `openssl s_client`), verified against the lab CA (`-verify_return_error`).
    pub fn s_client(&self, cluster: &str, role: &str) -> Run {
        let host = self.host(cluster, role);
        let mut cmd = self.command("openssl");
        cmd.args(["s_client", "-starttls", "postgres", "-connect"])
            .arg(format!("{host}:{}", self.port(cluster)))
            .args(["-servername", &host, "-verify_return_error", "-CAfile"])
            .arg(self.ca_cert());
        run(cmd, Some(b""), Duration::from_secs(20))
    }

    /// The PEM leaf an endpoint presents (no verification).
    pub fn server_cert_pem(&self, cluster: &str, role: &str) -> String {
        let host = self.host(cluster, role);
        let mut cmd = self.command("openssl");
        cmd.args(["s_client", "-starttls", "postgres", "-connect"])
            .arg(format!("{host}:{}", self.port(cluster)))
            .args(["-servername", &host]);
        let r = run(cmd, Some(b""), Duration::from_secs(20));
        let out = r.stdout;
        let begin = out.find("-----BEGIN CERTIFICATE-----");
        let end = out.find("-----END CERTIFICATE-----");
        match (begin, end) {
            (Some(b), Some(e)) => format!("{}-----END CERTIFICATE-----\n", &out[b..e]),
            _ => panic!("no certificate from {host}: {}", r.stderr),
        }
    }

    /// `openssl x509 -noout -checkend SECONDS` on a PEM: true when the
    /// certificate is still valid `seconds` from now.
    pub fn cert_valid_for(&self, pem: &str, seconds: u64) -> bool {
        let mut cmd = Command::new("openssl");
        cmd.args(["x509", "-noout", "-checkend", &seconds.to_string()]);
        let r = run(cmd, Some(pem.as_bytes()), Duration::from_secs(10));
        assert!(
            r.code == Some(0) || r.code == Some(1),
            "openssl x509 failed: {r:#?}"
        );
        r.code == Some(0)
    }

    /// `lab/lab fault NAME on|off` without checking the result.
    pub fn fault_run(&self, name: &str, on: bool) -> Run {
        let mut cmd = Command::new("bash");
        cmd.arg(&self.script)
            .args(["fault", name, if on { "on" } else { "off" }, "--dir"])
            .arg(&self.dir);
        run(cmd, None, COMMAND_TIMEOUT)
    }

    /// Turn a fault on or off; panics if the lab script fails. Prefer
    /// [`Lab::inject`], which heals on drop and serialises tests.
    pub fn fault(&self, name: &str, on: bool) {
        let r = self.fault_run(name, on);
        assert!(
            r.ok(),
            "lab fault {name} {}: {r:#?}",
            if on { "on" } else { "off" }
        );
    }

    /// Take the lab lock, inject `name`; the returned guard heals it.
    pub fn inject(&self, name: &str) -> FaultGuard<'_> {
        let lock = lock(&self.dir);
        self.fault(name, true);
        FaultGuard {
            lab: self,
            name: name.to_string(),
            healed: false,
            _lock: lock,
        }
    }
}
