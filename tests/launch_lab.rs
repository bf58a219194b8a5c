//! `psql`, `run`, `env` and `service` against the lab with the real psql and
//! the real shells: every role connects, exit statuses pass through, the
//! password never shows in any process's argv, the private passfile is gone
//! on every exit path, every env format survives every special password.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::support::cli::{bin, tool_available};
use crate::support::lab::{Lab, Run, run};

/// Passwords with every character that breaks naive quoting.
const PASSWORDS: &[&str] = &[
    "p@ss:w/rd?#%&+",
    "it's \"quoted\" $HOME `id` \\n \\",
    "new\nline and ü non-ascii",
    "$(touch /tmp/pgconn-pwned) ;|<>*",
];

fn lab() -> Option<Lab> {
    let lab = Lab::get();
    if lab.is_none() {
        eprintln!("skipped: lab not running");
    }
    lab
}

/// `pgconn ARGS` inside the lab with the lab catalog and extra env.
fn pgconn(lab: &Lab, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = lab.command(bin());
    cmd.args(args)
        .env("PGCONN_CATALOG", lab.catalog())
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn go(cmd: Command) -> Run {
    run(cmd, None, Duration::from_secs(60))
}

/// Creates (or resets) a login role with `password` on temporal-db's primary,
/// reachable through the direct admin endpoint (the lab's `pg_hba` admits the
/// members of `pgconn_test_users`).
fn make_user(lab: &Lab, name: &str, password: &str) {
    let sql = format!(
        "DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN IN ROLE pgconn_test_users PASSWORD '{}';",
        password.replace('\'', "''")
    );
    lab.query_as("temporal-db", "admin", "platform_admin", &sql, "")
        .expect_ok();
}

fn password_var(user: &str) -> String {
    format!("PGCONN_PASSWORD_TEMPORAL_DB_{}", user.to_uppercase())
}

#[test]
fn psql_connects_on_every_role_and_lands_where_it_should() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    for (cluster, role, recovery) in [
        ("temporal-db", "write", "f"),
        ("temporal-db", "read", "t"),
        ("temporal-db", "admin", "f"),
        ("platform-db", "write", "f"),
        ("platform-db", "admin", "f"),
    ] {
        let flag = format!("--{role}");
        let out = go(pgconn(
            &lab,
            &[
                "psql",
                cluster,
                &flag,
                "--",
                "-XtAc",
                "select pg_is_in_recovery()",
            ],
            &[],
        ));
        assert_eq!(out.expect_ok().trim(), recovery, "{cluster} {role}");
    }
}

#[test]
fn psql_and_run_pass_the_child_exit_status_through() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let out = go(pgconn(
        &lab,
        &["psql", "temporal-db", "--", "-XtAc", "select 1/0"],
        &[],
    ));
    assert_eq!(out.code, Some(1), "{}", out.text());
    assert!(out.stderr.contains("division by zero"));
    let out = go(pgconn(
        &lab,
        &[
            "psql",
            "temporal-db",
            "--admin",
            "--db",
            "no_such_db",
            "--",
            "-Xc",
            "select 1",
        ],
        &[],
    ));
    assert_eq!(
        out.code,
        Some(2),
        "psql's connection failure status: {}",
        out.text()
    );
    assert!(out.stderr.contains("no_such_db"), "{}", out.text());
    let out = go(pgconn(
        &lab,
        &[
            "run",
            "temporal-db",
            "--",
            "sh",
            "-c",
            "psql -XtAc 'select current_user' && exit 7",
        ],
        &[],
    ));
    assert_eq!(out.code, Some(7), "{}", out.text());
    assert_eq!(out.stdout.trim(), "temporal");
    let out = go(pgconn(
        &lab,
        &["run", "temporal-db", "--", "/nonexistent/tool"],
        &[],
    ));
    assert_eq!(
        out.code,
        Some(1),
        "a child that cannot start is exit 1: {}",
        out.text()
    );
    assert!(
        out.stderr.contains("cannot start /nonexistent/tool"),
        "{}",
        out.text()
    );
}

#[test]
fn a_failed_psql_connection_gets_one_line_of_diagnosis() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let wrong = [("PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL", "not-the-password")];
    let out = go(pgconn(
        &lab,
        &["psql", "temporal-db", "--", "-Xc", "select 1"],
        &wrong,
    ));
    assert_eq!(out.code, Some(2), "{}", out.text());
    assert!(
        out.stderr.contains("SASL authentication failed"),
        "psql's own error stays: {}",
        out.text()
    );
    let notes: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("note: "))
        .collect();
    assert_eq!(notes.len(), 1, "{}", out.text());
    assert!(
        notes[0].contains("refused the password login"),
        "{}",
        notes[0]
    );
    let out = go(pgconn(
        &lab,
        &[
            "psql",
            "temporal-db",
            "--admin",
            "--db",
            "nope",
            "--",
            "-Xc",
            "select 1",
        ],
        &[],
    ));
    assert!(
        out.stderr
            .contains("note: database \"nope\" does not exist"),
        "{}",
        out.text()
    );
}

/// Every process's argv, joined.
fn all_cmdlines() -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(bytes) = std::fs::read(entry.path().join("cmdline")) {
            all.push_str(&String::from_utf8_lossy(&bytes).replace('\0', " "));
            all.push('\n');
        }
    }
    all
}

fn children_of(pid: u32) -> Vec<u32> {
    let path = format!("/proc/{pid}/task/{pid}/children");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Starts `pgconn psql` running a slow query and waits until psql is up;
/// returns the pgconn child and psql's PGPASSFILE.
fn slow_psql(lab: &Lab, user: &str, password: &str, runtime_dir: &Path) -> (Child, PathBuf) {
    let var = password_var(user);
    let child = pgconn(
        lab,
        &[
            "psql",
            "temporal-db",
            "--admin",
            "--user",
            user,
            "--",
            "-XtAc",
            "select pg_sleep(20)",
        ],
        &[
            (&var, password),
            ("XDG_RUNTIME_DIR", runtime_dir.to_str().unwrap()),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let start = Instant::now();
    let passfile = loop {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "psql did not start"
        );
        let found = children_of(child.id()).into_iter().find_map(|pid| {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            String::from_utf8_lossy(&environ)
                .split('\0')
                .find_map(|kv| kv.strip_prefix("PGPASSFILE=").map(PathBuf::from))
        });
        if let Some(p) = found {
            break p;
        }
        sleep(Duration::from_millis(50));
    };
    // Wait until the query runs on the server, so the connection is real.
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let sql = format!(
            "select count(*) from pg_stat_activity where usename = '{user}' and query like '%pg_sleep%'"
        );
        if lab
            .query_as("temporal-db", "admin", "platform_admin", &sql, "")
            .stdout
            .trim()
            == "1"
        {
            break;
        }
        sleep(Duration::from_millis(100));
    }
    (child, passfile)
}

#[test]
fn the_password_is_in_no_argv_and_the_passfile_goes_on_every_exit_path() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let user = "pgconn_leak";
    let password = "Leak-Canary-7f3a:x\\y";
    make_user(&lab, user, password);
    let runtime = tempfile::tempdir().unwrap();
    for signal in [None, Some("INT"), Some("TERM"), Some("HUP"), Some("QUIT")] {
        let (child, passfile) = slow_psql(&lab, user, password, runtime.path());
        assert!(passfile.is_file(), "passfile exists while psql runs");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&passfile).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        assert!(
            !all_cmdlines().contains("Leak-Canary"),
            "password in some argv"
        );
        if let Some(sig) = signal {
            let status = Command::new("kill")
                .args(["-s", sig, &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        } else {
            let sql = format!(
                "select pg_cancel_backend(pid) from pg_stat_activity where usename = '{user}'"
            );
            lab.query_as("temporal-db", "admin", "platform_admin", &sql, "")
                .expect_ok();
        }
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains("Leak-Canary"),
            "password in pgconn output: {text}"
        );
        assert!(!passfile.exists(), "passfile left after {signal:?}");
        assert!(
            !passfile.parent().unwrap().exists(),
            "passfile dir left after {signal:?}"
        );
        assert!(
            out.status.code().is_some(),
            "pgconn exited by itself after {signal:?}: {:?}",
            out.status
        );
        // like a shell: the child died of the forwarded signal N, pgconn exits 128 + N
        let expected = match signal {
            Some("TERM") => Some(128 + 15),
            Some("HUP") => Some(128 + 1),
            Some("QUIT") => Some(128 + 3),
            _ => None,
        };
        if expected.is_some() {
            assert_eq!(out.status.code(), expected, "after {signal:?}: {text}");
        }
    }
}

/// `pgconn-<pid>-<16 hex digits>`: the pid, and a part nobody can guess.
fn passfile_dir_owner(dir: &Path) -> Option<u32> {
    let name = dir.file_name()?.to_str()?;
    let (pid, token) = name.strip_prefix("pgconn-")?.split_once('-')?;
    (token.len() == 16 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| pid.parse().ok())
        .flatten()
}

#[test]
fn a_passfile_dir_left_by_a_killed_run_is_removed_by_the_next_run() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let user = "pgconn_stale";
    let password = "Stale-Canary-91c2";
    make_user(&lab, user, password);
    let runtime = tempfile::tempdir().unwrap();
    // another user's leftover (pgconn cannot know it is dead) stays
    let foreign = runtime.path().join("pgconn-2147483646-0123456789abcdef");
    std::fs::create_dir(&foreign).unwrap();
    std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();

    let (mut child, passfile) = slow_psql(&lab, user, password, runtime.path());
    let dir = passfile.parent().unwrap().to_path_buf();
    assert_eq!(
        passfile_dir_owner(&dir),
        Some(child.id()),
        "{}",
        dir.display()
    );
    let psqls = children_of(child.id());
    child.kill().unwrap(); // SIGKILL: no cleanup possible
    child.wait().unwrap();
    for pid in psqls {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    assert!(passfile.exists(), "a SIGKILLed run leaves its passfile");

    let var = password_var(user);
    let runtime_dir = runtime.path().to_str().unwrap();
    let next = go(pgconn(
        &lab,
        &[
            "psql",
            "temporal-db",
            "--admin",
            "--user",
            user,
            "--",
            "-XtAc",
            "select 1",
        ],
        &[(&var, password), ("XDG_RUNTIME_DIR", runtime_dir)],
    ));
    assert_eq!(next.expect_ok().trim(), "1");
    assert!(!dir.exists(), "the next run removed the stale passfile dir");
    assert!(foreign.exists(), "another user's dir is left alone");
    let left: Vec<_> = std::fs::read_dir(runtime.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, [foreign.file_name().unwrap()], "{left:?}");
}

fn check_current_user(out: &Run, user: &str, what: &str) {
    assert!(out.ok(), "{what}: {}", out.text());
    assert_eq!(out.stdout.trim(), user, "{what}");
}

#[test]
fn env_output_survives_every_password_in_every_installed_shell() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let dir = Path::new(bin()).parent().unwrap().display().to_string();
    let path = format!("{dir}:/usr/local/bin:/usr/bin:/bin");
    for (i, password) in PASSWORDS.iter().enumerate() {
        let user = format!("pgconn_env_{i}");
        make_user(&lab, &user, password);
        let var = password_var(&user);
        let env_args = format!("pgconn env temporal-db --admin --user {user}");
        for shell in ["bash", "dash", "zsh"] {
            if !tool_available(shell) {
                continue;
            }
            let script = format!("eval \"$({env_args})\" && psql -XtAc 'select current_user'");
            let mut cmd = lab.command(shell);
            cmd.args(["-c", &script])
                .env("PATH", &path)
                .env("PGCONN_CATALOG", lab.catalog())
                .env(&var, password);
            check_current_user(&go(cmd), &user, &format!("{shell} password {i}"));
        }
        if tool_available("fish") {
            let script =
                format!("{env_args} --format fish | source; and psql -XtAc 'select current_user'");
            let mut cmd = lab.command("fish");
            cmd.args(["-c", &script])
                .env("PATH", &path)
                .env("PGCONN_CATALOG", lab.catalog())
                .env(&var, password);
            check_current_user(&go(cmd), &user, &format!("fish password {i}"));
        }
        assert!(
            !Path::new("/tmp/pgconn-pwned").exists(),
            "a password was executed"
        );
        env_via_json(&lab, &user, &var, password, i);
        env_via_github(&lab, &user, &var, password, i);
        env_via_dotenv(&lab, &user, &var, password, i);
    }
}

/// `pgconn env temporal-db --admin --user USER --format FORMAT` with the password.
fn env_output(lab: &Lab, user: &str, format: &str, env: &[(&str, &str)]) -> Run {
    let args = [
        "env",
        "temporal-db",
        "--admin",
        "--user",
        user,
        "--format",
        format,
    ];
    go(pgconn(lab, &args, env))
}

fn psql_with(lab: &Lab, vars: &[(String, String)]) -> Run {
    let mut cmd = lab.command("psql");
    cmd.args(["-XtAc", "select current_user"]);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    go(cmd)
}

fn env_via_json(lab: &Lab, user: &str, var: &str, password: &str, i: usize) {
    let out = env_output(lab, user, "json", &[(var, password)]);
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&out.expect_ok()).unwrap();
    assert_eq!(map["PGPASSWORD"], *password);
    let vars: Vec<(String, String)> = map
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
        .collect();
    check_current_user(&psql_with(lab, &vars), user, &format!("json password {i}"));
}

/// Reads `$GITHUB_ENV` the way the Actions runner does: `NAME=value` lines
/// and `NAME<<DELIM` … `DELIM` blocks.
fn parse_github_env(text: &str) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            vars.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            vars.push((name.to_string(), value.to_string()));
        }
    }
    vars
}

fn env_via_github(lab: &Lab, user: &str, var: &str, password: &str, i: usize) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("github_env");
    std::fs::write(&file, "EXISTING=kept\n").unwrap();
    let out = env_output(
        lab,
        user,
        "github",
        &[(var, password), ("GITHUB_ENV", file.to_str().unwrap())],
    );
    let masks = out.expect_ok();
    for line in password.lines().filter(|l| !l.trim().is_empty()) {
        let escaped = line.replace('%', "%25");
        assert!(
            masks.contains(&format!("::add-mask::{escaped}")),
            "mask for {line:?} in {masks}"
        );
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("EXISTING=kept\n"),
        "appends, never truncates"
    );
    let vars = parse_github_env(&text);
    assert!(
        vars.iter().any(|(k, v)| k == "PGPASSWORD" && v == password),
        "{vars:?}"
    );
    check_current_user(
        &psql_with(lab, &vars),
        user,
        &format!("github password {i}"),
    );
}

fn env_via_dotenv(lab: &Lab, user: &str, var: &str, password: &str, i: usize) {
    // python-dotenv lives in the lab's driver venv (lab/lab install).
    let venv = crate::support::cli::drivers_dir().join("venv/bin/python3");
    let python = if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    };
    let has_dotenv = Command::new(&python)
        .args(["-c", "import dotenv"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_dotenv {
        assert!(
            std::env::var_os("CI").is_none(),
            "python-dotenv is required in CI"
        );
        eprintln!("skipped: python-dotenv not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".env");
    let out = env_output(lab, user, "dotenv", &[(var, password)]);
    if password.contains('\'') && password.contains(['$', '\\']) {
        // no quoting reads back the same everywhere: refused (tests/dotenv.rs)
        assert!(!out.ok() && out.stdout.is_empty(), "{}", out.text());
        return;
    }
    std::fs::write(&file, out.expect_ok()).unwrap();
    let script = "import dotenv, json, sys; print(json.dumps(dotenv.dotenv_values(sys.argv[1])))";
    let parsed = Command::new(&python)
        .args(["-c", script, file.to_str().unwrap()])
        .output()
        .unwrap();
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(
        map["PGPASSWORD"], *password,
        "python-dotenv reads the password back"
    );
    let vars: Vec<(String, String)> = map
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
        .collect();
    check_current_user(
        &psql_with(lab, &vars),
        user,
        &format!("dotenv password {i}"),
    );
}

#[test]
fn service_sync_is_used_by_psql_idempotent_and_rm_restores_the_files() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("pg_service.conf");
    let passfile = dir.path().join("pgpass");
    let original_service = "# my own\n[legacy]\nhost=legacy.example\nport=5432";
    std::fs::write(&service, original_service).unwrap();
    let files = [
        ("PGSERVICEFILE", service.to_str().unwrap()),
        ("PGPASSFILE", passfile.to_str().unwrap()),
    ];
    go(pgconn(&lab, &["service", "sync", "--pgpass"], &files)).expect_ok();
    let after_first = std::fs::read(&service).unwrap();
    assert!(String::from_utf8_lossy(&after_first).starts_with(original_service));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&passfile).unwrap().permissions(),
    );
    assert_eq!(mode & 0o077, 0, "the passfile pgconn creates is private");
    for (svc, recovery) in [
        ("temporal-db-admin", "f"),
        ("temporal-db-read", "t"),
        ("platform-db-write", "f"),
    ] {
        let mut cmd = lab.command("psql");
        cmd.args([
            "-XtAc",
            "select pg_is_in_recovery()",
            &format!("service={svc}"),
        ]);
        for (k, v) in files {
            cmd.env(k, v);
        }
        assert_eq!(go(cmd).expect_ok().trim(), recovery, "psql service={svc}");
    }
    go(pgconn(&lab, &["service", "sync", "--pgpass"], &files)).expect_ok();
    assert_eq!(
        std::fs::read(&service).unwrap(),
        after_first,
        "a second sync changes nothing"
    );
    go(pgconn(&lab, &["service", "rm"], &files)).expect_ok();
    assert_eq!(
        std::fs::read_to_string(&service).unwrap(),
        original_service,
        "byte for byte"
    );
    assert!(!passfile.exists(), "the passfile pgconn created is removed");
}

#[test]
fn run_warns_when_a_session_tool_targets_a_pooled_endpoint() {
    let Some(lab) = lab() else { return };
    let _lock = lab.lock();
    let dump = [
        "run",
        "temporal-db",
        "--",
        "pg_dump",
        "--schema-only",
        "--table=lab_marker",
    ];
    let out = go(pgconn(&lab, &dump, &[]));
    assert!(
        out.stderr
            .contains("warning: pg_dump needs a whole session"),
        "{}",
        out.text()
    );
    let mut quiet: Vec<&str> = dump.to_vec();
    quiet.insert(2, "--no-guard");
    assert!(!go(pgconn(&lab, &quiet, &[])).stderr.contains("warning:"));
    let mut admin: Vec<&str> = dump.to_vec();
    admin.insert(2, "--admin");
    let out = go(pgconn(&lab, &admin, &[]));
    assert!(!out.stderr.contains("warning:"), "{}", out.text());
    assert!(
        out.ok(),
        "pg_dump works on the admin endpoint: {}",
        out.text()
    );
}

#[test]
fn run_forwards_hup_quit_and_term_and_exits_128_plus_n() {
    // no lab needed: `run` only starts the child
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("pgconn.yaml");
    std::fs::write(
        &catalog,
        "version: 1\ndomain: example.test\nsslmode: verify-full\nclusters:\n  c1:\n    \
         port: 5432\n    endpoints: { write: {} }\n    users:\n      app: { roles: [write] }\n",
    )
    .unwrap();
    for (signal, number) in [("HUP", 1), ("QUIT", 3), ("TERM", 15)] {
        let mut child =
            crate::support::cli::pgconn(&["run", "c1", "--", "sh", "-c", "exec sleep 30"])
                .env("PGCONN_CATALOG", &catalog)
                .env("PGCONN_KEYRING", "none")
                .env("PGCONN_PASSWORD_C1_APP", "pw")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
        let start = Instant::now();
        let sleeper = loop {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "the child did not start"
            );
            let found = children_of(child.id()).into_iter().find(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            });
            if let Some(pid) = found {
                break pid;
            }
            sleep(Duration::from_millis(20));
        };
        Command::new("kill")
            .args(["-s", signal, &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + number), "after SIG{signal}");
        assert!(
            !Path::new(&format!("/proc/{sleeper}")).exists(),
            "SIG{signal} reached the child"
        );
    }
}
