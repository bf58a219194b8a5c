//! Credential sources that need no lab: `.pgpass` (libpq's rules), `command`
//! (argv, timeout), the keyring (kernel keyutils in a session keyring of
//! its own, a real Secret Service: gnome-keyring under `dbus-run-session`,
//! and a headless box without one), `login`/`logout`, and the cache (a
//! command runs once, `url` from the cache is as fast as from a variable).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::cli::{self, Pgconn, RUN_LIMIT, Scratch};
use crate::support::run::{Run, run};

/// One cluster `c1` (write endpoint on db.example.test:5432, database
/// app), with `users` (YAML, indented 6).
fn catalog(s: &Scratch, users: &str) -> PathBuf {
    s.write(
        "pgconn.yaml",
        &format!(
            "version: 1\ndomain: example.test\nsslmode: verify-full\nconnect_timeout: 2\n\
             clusters:\n  c1:\n    port: 5432\n    database: app\n    endpoints: {{ write: {{}} }}\n    users:\n{users}"
        ),
    )
}

/// `pgconn ARGS` with HOME in the scratch dir and none of the machine's
/// keyring, kubeconfig or Vault settings.
fn pgconn(s: &Scratch, catalog: &Path, args: &[&str]) -> Pgconn {
    Pgconn::new(args)
        .env_remove(&[
            "DBUS_SESSION_BUS_ADDRESS",
            "KUBECONFIG",
            "VAULT_ADDR",
            "VAULT_TOKEN",
            "CI",
        ])
        .home(s.path())
        .catalog(catalog)
}

#[test]
fn pgpass_in_the_default_chain_with_libpq_rules() {
    let s = Scratch::new();
    let catalog = catalog(&s, "      app:\n        roles: [write]\n");
    let pgpass = s.path().join("pgpass");
    std::fs::write(
        &pgpass,
        "# lab\nother.example.test:5432:*:app:no\nc1-write.example.test:5432:app:app:p\\:w1\n*:*:*:*:fallback\n",
    )
    .unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = pgconn(&s, &catalog, &["url", "c1"])
        .env("PGPASSFILE", &pgpass)
        .env("PGCONN_KEYRING", "none")
        .run()
        .success();
    assert!(out.contains(":p%3Aw1@"), "{out}");
    // group-readable: ignored, with libpq's warning
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = pgconn(&s, &catalog, &["url", "c1"])
        .env("PGPASSFILE", &pgpass)
        .env("PGCONN_KEYRING", "none")
        .run()
        .fails_with(1, &["has group or world access", "keyring", "prompt"]);
    assert!(err.contains("PGCONN_KEYRING=none"), "{err}");
}

#[test]
fn creds_json_never_carries_the_password() {
    let s = Scratch::new();
    let catalog = catalog(&s, "      app: { roles: [write] }\n");
    let secret = "Json-Canary-5d1e";
    let creds = |args: &[&str]| {
        pgconn(&s, &catalog, args)
            .env("PGCONN_KEYRING", "none")
            .env("PGCONN_PASSWORD_C1_APP", secret)
            .run()
    };
    let text = creds(&["creds", "c1", "--json"]).success();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        v.get("password").is_none() && !text.contains(secret),
        "{text}"
    );
    assert_eq!(v["user"], "app");

    let out = creds(&["creds", "c1", "--reveal", "--json"]);
    let err = out.fails_with(2, &["--json never carries the password", "hint:"]);
    assert!(out.stdout.is_empty() && !err.contains(secret), "{err}");

    let out = creds(&["creds", "c1", "--reveal"]).success();
    assert!(out.contains(&format!("password  {secret}")), "{out}");
}

#[test]
fn command_source_argv_timeout_and_stderr() {
    let s = Scratch::new();
    let catalog = catalog(
        &s,
        "      app:\n        roles: [write]\n        credentials:\n          - command: { argv: [printf, \"%s\\n\", \"pw $x\"] }\n      \
         slow:\n        credentials:\n          - command: { argv: [sleep, \"10\"] }\n      \
         bad:\n        credentials:\n          - command: { argv: [sh, -c, \"echo denied by policy >&2; exit 4\"] }\n",
    );
    assert!(
        pgconn(&s, &catalog, &["creds", "c1", "--reveal"])
            .env("PGCONN_KEYRING", "none")
            .run()
            .success()
            .contains("password  pw $x\n")
    );
    let start = Instant::now();
    pgconn(&s, &catalog, &["url", "c1", "--user", "slow"])
        .env("PGCONN_KEYRING", "none")
        .env("PGCONN_COMMAND_TIMEOUT", "0.5")
        .run()
        .fails_with(1, &["did not finish within 0.5 s"]);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    pgconn(&s, &catalog, &["url", "c1", "--user", "bad"])
        .env("PGCONN_KEYRING", "none")
        .run()
        .fails_with(1, &["exited with status 4", "denied by policy"]);
}

#[test]
fn headless_box_without_a_secret_service() {
    let s = Scratch::new();
    let catalog = catalog(&s, "      app:\n        roles: [write]\n");
    let start = Instant::now();
    pgconn(&s, &catalog, &["login", "c1", "--password-stdin"])
        .env("PGCONN_KEYRING", "secret-service")
        .run()
        .fails_with(1, &["no D-Bus session bus", "hint:"]);
    pgconn(&s, &catalog, &["url", "c1"])
        .env("PGCONN_KEYRING", "secret-service")
        .run()
        .fails_with(1, &["keyring pgconn c1/app", "no D-Bus session bus"]);
    // a bus address where nothing listens: bounded, not a hang
    pgconn(&s, &catalog, &["url", "c1"])
        .env("PGCONN_KEYRING", "secret-service")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/nobus", s.path().display()),
        )
        .run()
        .fails_with(1, &["Secret Service"]);
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    pgconn(&s, &catalog, &["url", "c1"])
        .env("PGCONN_KEYRING", "bogus")
        .run()
        .fails_with(1, &["PGCONN_KEYRING=bogus is not one of"]);
}

fn have(tool: &str) -> bool {
    cli::tool_available(tool)
}

/// Runs a bash script in a named session keyring of its own.
fn keyring_session(name: &str, script: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new("keyctl");
    cmd.args(["session", name, "bash", "-ec", script]);
    for k in ["DBUS_SESSION_BUS_ADDRESS", "CI"] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(cmd, None, RUN_LIMIT)
}

#[test]
fn keyutils_login_url_logout() {
    if !have("keyctl") {
        return;
    }
    let s = Scratch::new();
    let user = format!("ku{}", std::process::id());
    let catalog = catalog(&s, &format!("      {user}:\n        roles: [write]\n"));
    let env = [
        ("P", cli::bin()),
        ("PGCONN_CATALOG", catalog.to_str().unwrap()),
        ("PGCONN_KEYRING", "keyutils"),
        ("HOME", s.path().to_str().unwrap()),
    ];
    let out = keyring_session(
        &format!("pgconn-test-{user}"),
        r#"printf 'k$y pw\n' | $P login c1 --password-stdin
$P url c1
$P creds c1
$P logout c1
$P url c1 || echo "after logout: $?""#,
        &env,
    );
    let text = out.success();
    let err = &out.stderr;
    assert!(text.contains(":k%24y%20pw@"), "{text}\n{err}");
    assert!(text.contains("source    keyring pgconn c1/"), "{text}");
    assert!(
        err.contains("stored the password") && err.contains("keyutils"),
        "{err}"
    );
    assert!(err.contains("removed"), "{err}");
    assert!(text.contains("after logout: 1"), "{text}");
}

#[test]
fn a_stored_password_never_follows_a_moved_endpoint() {
    if !have("keyctl") {
        return;
    }
    let s = Scratch::new();
    let user = format!("mv{}", std::process::id());
    let users = format!("      {user}:\n        roles: [write]\n");
    let catalog = catalog(&s, &users);
    let moved = s.write(
        "moved.yaml",
        &std::fs::read_to_string(&catalog).unwrap().replace(
            "endpoints: { write: {} }",
            "endpoints: { write: { host: evil.example.test } }",
        ),
    );
    let env = [
        ("P", cli::bin()),
        ("C", catalog.to_str().unwrap()),
        ("M", moved.to_str().unwrap()),
        ("PGCONN_KEYRING", "keyutils"),
        ("HOME", s.path().to_str().unwrap()),
    ];
    let out = keyring_session(
        &format!("pgconn-test-{user}"),
        r#"printf 'bound pw\n' | $P --catalog "$C" login c1 --password-stdin
$P --catalog "$C" url c1
$P --catalog "$M" url c1 || echo "moved: $?"
$P --catalog "$C" logout c1"#,
        &env,
    );
    let text = out.success();
    assert!(text.contains(":bound%20pw@c1-write.example.test"), "{text}");
    assert!(text.contains("moved: 1"), "{text}\n{}", out.stderr);
    assert!(
        out.stderr
            .contains("stored for c1-write.example.test:5432, not for evil.example.test:5432"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("bound pw") && !text.contains("bound%20pw@evil"));
}

#[test]
fn secret_service_login_url_logout_with_gnome_keyring() {
    if !have("dbus-run-session") || !have("gnome-keyring-daemon") || !have("keyctl") {
        return;
    }
    let s = Scratch::new();
    let user = format!("ss{}", std::process::id());
    let catalog = catalog(&s, &format!("      {user}:\n        roles: [write]\n"));
    let script = r#"eval "$(printf lab | gnome-keyring-daemon --components=secrets --daemonize --unlock)"
export GNOME_KEYRING_CONTROL
printf 'from-secret-service\n' | $P login c1 --password-stdin
$P creds c1 --reveal
PGCONN_KEYRING=secret-service $P creds c1
$P logout c1
PGCONN_KEYRING=secret-service $P url c1 || echo "after logout: $?""#;
    let mut cmd = Command::new("keyctl");
    cmd.args([
        "session",
        &format!("pgconn-test-{user}"),
        "dbus-run-session",
        "--",
        "bash",
        "-ec",
        script,
    ]);
    cmd.env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("P", cli::bin())
        .env("PGCONN_CATALOG", &catalog)
        .env("HOME", s.path())
        .env("XDG_RUNTIME_DIR", s.path())
        .env("XDG_DATA_HOME", s.path().join("data"));
    let out = run(cmd, None, RUN_LIMIT);
    let (text, err) = (out.success(), &out.stderr);
    assert!(
        err.contains("in secret-service"),
        "auto stores in the Secret Service: {err}"
    );
    assert!(text.contains("password  from-secret-service"), "{text}");
    assert!(text.contains("(secret-service)"), "{text}");
    assert!(text.contains("after logout: 1"), "{text}\n{err}");
}

#[test]
fn cache_answers_without_the_source_and_as_fast_as_a_variable() {
    if !have("keyctl") {
        return;
    }
    let s = Scratch::new();
    let user = format!("ca{}", std::process::id());
    let count = s.path().join("count");
    let catalog = catalog(
        &s,
        &format!(
            "      {user}:\n        roles: [write]\n        credentials:\n          - command: {{ argv: [sh, -c, \"echo x >> {}; printf cachedpw\"] }}\n",
            count.display()
        ),
    );
    let env = [
        ("P", cli::bin()),
        ("PGCONN_CATALOG", catalog.to_str().unwrap()),
        ("PGCONN_KEYRING", "keyutils"),
        ("HOME", s.path().to_str().unwrap()),
        (
            "VAR",
            &format!("PGCONN_PASSWORD_C1_{}", user.to_uppercase()),
        ),
    ];
    let out = keyring_session(
        &format!("pgconn-test-{user}"),
        r#"$P url c1 >/dev/null
$P creds c1
n=40
t0=$(date +%s%N); for i in $(seq $n); do $P url c1 >/dev/null; done; t1=$(date +%s%N)
for i in $(seq $n); do env "$VAR=pw" $P url c1 >/dev/null; done; t2=$(date +%s%N)
echo "cache_us=$(( (t1 - t0) / n / 1000 )) env_us=$(( (t2 - t1) / n / 1000 ))"
$P creds c1 --refresh
$P logout c1"#,
        &env,
    );
    let text = out.success();
    let runs = std::fs::read_to_string(&count).unwrap().lines().count();
    assert_eq!(
        runs, 2,
        "the command ran once, then once more for --refresh: {text}"
    );
    assert!(text.contains("cached    yes"), "{text}");
    let num = |key: &str| -> u64 {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{key} in {text}"))
    };
    let (cache_us, env_us) = (num("cache_us="), num("env_us="));
    eprintln!("url from the cache: {cache_us} µs per run; from PGCONN_PASSWORD_*: {env_us} µs");
    assert!(
        cache_us <= env_us * 2 + 5_000,
        "url from the cache ({cache_us} µs) is not as fast as from a variable ({env_us} µs)"
    );
}

#[test]
fn show_lists_sources_never_values() {
    let s = Scratch::new();
    let catalog = catalog(
        &s,
        "      app:\n        roles: [write]\n        credentials:\n          - env: { var: MY_PW }\n          - kubernetes: { secret: s1, context: prod }\n          - vault: { path: kv/app, field: pw }\n          - vault_database: { role: app }\n          - keyring: {}\n          - pgpass: {}\n          - command: { argv: [op, read, x] }\n          - prompt\n      \
         other:\n",
    );
    let out = pgconn(&s, &catalog, &["show", "c1"])
        .env("MY_PW", "do-not-show-me")
        .run()
        .success();
    for label in [
        "env MY_PW",
        "kubernetes secret <context namespace>/s1 key password (context prod)",
        "vault kv/app#pw",
        "vault_database database/creds/app",
        "keyring pgconn c1/app",
        "pgpass",
        "command op read x",
        "prompt",
    ] {
        assert!(out.contains(label), "{label} in\n{out}");
    }
    assert!(!out.contains("do-not-show-me"));
    // the default chain of a user without `credentials`
    let i = out.find("  other").unwrap();
    let tail = &out[i..];
    assert!(
        tail.contains("PGCONN_PASSWORD_C1_OTHER")
            && tail.contains("keyring")
            && tail.contains("pgpass")
            && tail.contains("prompt"),
        "{tail}"
    );
}
