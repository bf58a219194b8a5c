//! `pgconn wait` against the real lab: ready at once when healthy; at a
//! stopped pooler it gives up at its timeout naming the refused port; when
//! the pooler comes back while it waits it returns within seconds; a write
//! endpoint routed to a replica and a read pooler without its replica are
//! never "ready"; the credential is fetched once however many attempts.
//! Usage errors exit 2 (no lab needed for those).
//!
//! Runs inside the lab namespace: `lab/test wait_lab::`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::cli::{pgconn, repo, run as run_cli, stderr};
use crate::support::lab::{COMMAND_TIMEOUT, Lab, Run, run};

fn lab() -> Option<Lab> {
    let lab = Lab::get();
    if lab.is_none() {
        eprintln!("skipped: lab not running");
    }
    lab
}

/// `pgconn --catalog CATALOG wait ARGS` inside the lab.
fn wait_with(lab: &Lab, catalog: &Path, args: &[&str]) -> Run {
    let mut cmd = lab.command(env!("CARGO_BIN_EXE_pgconn"));
    cmd.arg("--catalog")
        .arg(catalog)
        .arg("wait")
        .args(args)
        .env("PGCONN_KEYRING", "none")
        .env("NO_COLOR", "1");
    run(cmd, None, COMMAND_TIMEOUT)
}

fn wait(lab: &Lab, args: &[&str]) -> Run {
    wait_with(lab, &lab.catalog(), args)
}

/// The attempt count `wait` reports, ready (`attempt N`) or not (`N attempt(s)`).
fn attempts(r: &Run) -> u32 {
    let text = r.text();
    let number = |s: &str| {
        s.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
    };
    let found = text
        .split("(attempt ")
        .nth(1)
        .map(number)
        .or_else(|| {
            text.split(" attempt(s))")
                .next()
                .and_then(|s| s.rsplit('(').next())
                .map(number)
        })
        .unwrap_or_default();
    found
        .parse()
        .unwrap_or_else(|_| panic!("no attempt count in {r:#?}"))
}

/// A failure at the timeout: exit 1, the check id, summary and hint on stderr, nothing on stdout.
fn expect_not_ready(r: &Run, check: &str, summary: &str, hint: &str) {
    assert_eq!(r.code, Some(1), "{r:#?}");
    assert!(r.stdout.is_empty(), "{r:#?}");
    assert!(
        r.stderr.contains(&format!("{check}: {summary}")),
        "stderr lacks `{check}: {summary}`: {r:#?}"
    );
    let hint_line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("hint: "))
        .unwrap_or_else(|| panic!("no hint: {r:#?}"));
    assert!(hint_line.contains(hint), "hint lacks {hint:?}: {hint_line}");
}

#[test]
fn returns_at_once_on_a_healthy_endpoint() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    for (role, lands) in [
        ("write", "write lands on a primary"),
        ("read", "read lands on a replica"),
        ("admin", "admin lands on a primary"),
    ] {
        let r = wait(&lab, &["temporal-db", role, "--timeout", "30"]);
        assert_eq!(r.code, Some(0), "{r:#?}");
        assert!(
            r.stdout
                .starts_with(&format!("temporal-db {role} is ready: {lands} (attempt 1,")),
            "{r:#?}"
        );
        assert!(r.stderr.is_empty(), "no progress off a terminal: {r:#?}");
    }
    // wait stops at routing: doctor's pooler check (a login to PgBouncer's console) is not run
    let log = lab.dir().join("srv/log/pgbouncer-tw.log");
    let console_logins = || {
        std::fs::read_to_string(&log)
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()))
            .matches(" pgbouncer/")
            .count()
    };
    let before = console_logins();
    assert_eq!(wait(&lab, &["temporal-db", "write"]).code, Some(0));
    assert_eq!(console_logins(), before, "wait ran the pooler check");
}

#[test]
fn a_stopped_pooler_fails_at_the_timeout_naming_the_refused_port() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("pooler-stopped");
    let timeout = 3;
    let r = wait(
        &lab,
        &["temporal-db", "write", "--timeout", &timeout.to_string()],
    );
    expect_not_ready(
        &r,
        "tcp",
        "connection refused by 127.20.0.1:5432",
        "not running",
    );
    assert!(attempts(&r) > 1, "it retried: {r:#?}");
    // it waited for the whole timeout, and not more than one connect timeout (5 s) beyond it
    assert!(
        r.elapsed >= Duration::from_secs(timeout),
        "gave up early: {r:#?}"
    );
    assert!(
        r.elapsed < Duration::from_secs(timeout + 5),
        "overran its timeout: {r:#?}"
    );
    // off a terminal stderr is the error, its detail and the hint: no progress lines
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{r:#?}");
    assert!(lines[0].starts_with("pgconn: error: temporal-db write is not ready after "));
    assert!(lines[1].starts_with("  detail: "));
    assert!(lines[2].starts_with("hint: "));
    // on a terminal (script(1) gives it one) a progress line is rewritten after each attempt
    let mut cmd = lab.command("script");
    cmd.args(["-qec"])
        .arg(format!(
            "{} --catalog {} wait temporal-db --timeout 1",
            env!("CARGO_BIN_EXE_pgconn"),
            lab.catalog().display()
        ))
        .arg("/dev/null")
        .env("PGCONN_KEYRING", "none");
    let tty = run(cmd, None, COMMAND_TIMEOUT);
    let progress = "\r\x1b[2Kwait: temporal-db write: attempt 1, again in 0.";
    assert!(tty.stdout.contains(progress), "{tty:#?}");
    assert!(
        tty.stdout.contains("s left): tcp: connection refused"),
        "{tty:#?}"
    );
}

/// The lab catalog's temporal-db write endpoint with a `command` source that
/// counts its runs in `counter`.
fn counting_catalog(lab: &Lab, dir: &Path, counter: &Path) -> PathBuf {
    let catalog = dir.join("counting.yaml");
    let secret = lab.secret_path("temporal-db", "temporal");
    let text = format!(
        "version: 1\ndomain: {}\nsslmode: verify-full\nsslrootcert: \"{}\"\nconnect_timeout: 5\n\
         pooler: {{ kind: pgbouncer, mode: transaction }}\nclusters:\n  temporal-db:\n    port: 5432\n    \
         database: temporal\n    endpoints:\n      write: {{ host: temporal-db-write.{}, ip: 127.20.0.1 }}\n    users:\n      temporal:\n        \
         roles: [write]\n        credentials:\n          - command: {{ argv: [sh, -c, \"echo run >> '{}'; cat '{}'\"] }}\n",
        lab.domain(),
        lab.ca_cert().display(),
        lab.domain(),
        counter.display(),
        secret.display()
    );
    std::fs::write(&catalog, text).expect("write catalog");
    catalog
}

#[test]
fn started_while_the_pooler_is_down_it_returns_within_seconds_of_the_heal_with_one_credential_fetch()
 {
    let Some(lab) = lab() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let counter = dir.path().join("runs");
    let catalog = counting_catalog(&lab, dir.path(), &counter);
    let mut fault = lab.inject("pooler-stopped");
    let (r, healed, finished) = std::thread::scope(|s| {
        let waiting = s.spawn(|| {
            let r = wait_with(&lab, &catalog, &["temporal-db", "write", "--timeout", "60"]);
            (r, Instant::now())
        });
        std::thread::sleep(Duration::from_secs(3));
        fault.heal();
        let healed = Instant::now();
        let (r, finished) = waiting.join().expect("wait thread");
        (r, healed, finished)
    });
    assert_eq!(r.code, Some(0), "{r:#?}");
    assert!(
        r.stdout
            .starts_with("temporal-db write is ready: write lands on a primary"),
        "{r:#?}"
    );
    assert!(
        attempts(&r) > 1,
        "it was started while the pooler was down: {r:#?}"
    );
    let after_heal = finished.saturating_duration_since(healed);
    assert!(
        after_heal < Duration::from_secs(8),
        "ready {after_heal:?} after the heal: the pauses are capped at 2 s"
    );
    let runs = std::fs::read_to_string(&counter).expect("the command ran");
    assert_eq!(
        runs.lines().count(),
        1,
        "{} attempts, but the credential command ran {} times",
        attempts(&r),
        runs.lines().count()
    );
}

#[test]
fn the_credential_is_fetched_once_when_every_attempt_fails() {
    let Some(lab) = lab() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let counter = dir.path().join("runs");
    let catalog = counting_catalog(&lab, dir.path(), &counter);
    let _fault = lab.inject("pooler-stopped");
    let r = wait_with(
        &lab,
        &catalog,
        &["temporal-db", "--timeout", "2", "--interval", "50"],
    );
    expect_not_ready(&r, "tcp", "connection refused", "not running");
    assert!(attempts(&r) >= 3, "{r:#?}");
    let runs = std::fs::read_to_string(&counter).expect("the command ran");
    assert_eq!(runs.lines().count(), 1, "{r:#?}");
    assert!(
        !r.text().contains(&lab.password("temporal-db", "temporal")),
        "the password leaked"
    );
}

#[test]
fn a_write_endpoint_routed_to_a_replica_never_gets_ready() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("write-to-replica");
    let r = wait(&lab, &["temporal-db", "write", "--timeout", "2"]);
    expect_not_ready(
        &r,
        "routing",
        "write lands on a replica",
        "read-only transaction",
    );
    // the layers below routing worked: TLS was verified and the login went through
    assert!(attempts(&r) > 1, "{r:#?}");
}

#[test]
fn a_read_pooler_without_its_replica_never_gets_ready() {
    let Some(lab) = lab() else { return };
    let _fault = lab.inject("replica-stopped");
    let r = wait(&lab, &["temporal-db", "read", "--timeout", "3"]);
    expect_not_ready(
        &r,
        "auth",
        "the login did not complete",
        "the server behind it is down",
    );
    // the pooler itself answers: not a TCP failure
    assert!(!r.stderr.contains("tcp:"), "{r:#?}");
}

#[test]
fn usage_errors_exit_2() {
    let catalog = repo().join("examples/pgconn.yaml");
    for (args, needle) in [
        (&["wait", "nosuch"][..], "nosuch"),
        (&["wait", "temporal-db", "--timeout", "0"][..], "--timeout"),
        (
            &["wait", "temporal-db", "--timeout", "soon"][..],
            "--timeout",
        ),
        (
            &["wait", "temporal-db", "--interval", "0"][..],
            "--interval",
        ),
        (&["wait", "temporal-db", "--read", "--write"][..], "--write"),
        (&["wait"][..], "no cluster named"),
    ] {
        let out = run_cli(pgconn(args).env("PGCONN_CATALOG", &catalog));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn without_a_credential_it_fails_at_once_listing_the_sources_tried() {
    // retrying cannot make a credential appear: wait says so instead of waiting
    let catalog = repo().join("examples/pgconn.yaml");
    let out = run_cli(
        pgconn(&["wait", "temporal-db", "--admin", "--timeout", "600"])
            .env("PGCONN_CATALOG", &catalog)
            .env("PGCONN_KEYRING", "none"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("no password for user `platform_admin` on `temporal-db`"),
        "{err}"
    );
    assert!(
        err.contains("env PGCONN_PASSWORD_TEMPORAL_DB_PLATFORM_ADMIN: not set"),
        "{err}"
    );
    assert!(!err.contains("not ready"), "{err}");
}
