//! The command-line contract, through the real binary: what goes to stdout
//! and stderr, and every exit status `url`, `ls`, `show` and `catalog` use.

use crate::support::cli::{pgconn, repo, run, stderr, stdout};

const PASSWORD: &str = "s3cr+t @:/?#%&'\"$\\ ü";

fn example() -> String {
    repo().join("examples/pgconn.yaml").display().to_string()
}

fn with_catalog(args: &[&str]) -> std::process::Command {
    let mut cmd = pgconn(args);
    cmd.env("PGCONN_CATALOG", example());
    cmd
}

#[test]
fn url_prints_one_verify_full_uri_on_stdout_and_nothing_else() {
    let out = run(with_catalog(&["url", "temporal-db", "--write"])
        .env("PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL", PASSWORD));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("postgresql://temporal:s3cr%2Bt%20%40%3A%2F%3F%23%25%26%27%22%24%5C%20%C3%BC@temporal-db-write.pnats.cloud:5432/temporal?sslmode=verify-full&sslrootcert="), "{text}");
    // stderr carries only one-line notes (psycopg's pool setting), never the password.
    let err = stderr(&out);
    assert!(
        err.lines().all(|l| l.starts_with("note: ")),
        "stderr: {err}"
    );
    assert!(!err.contains("s3cr"), "stderr: {err}");
    // The direct admin endpoint needs no note at all.
    let out = run(with_catalog(&["url", "temporal-db", "--admin"])
        .env("PGCONN_PASSWORD_TEMPORAL_DB_PLATFORM_ADMIN", PASSWORD));
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).is_empty(), "stderr: {}", stderr(&out));
}

#[test]
fn a_unique_prefix_and_positional_role_resolve() {
    let out = run(&mut with_catalog(&["url", "temp", "read", "--no-password"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .starts_with("postgresql://temporal@temporal-db-read.pnats.cloud:5432/temporal?")
    );
}

#[test]
fn user_and_db_overrides_apply() {
    let out = run(&mut with_catalog(&[
        "url",
        "platform-db",
        "--admin",
        "--user",
        "dba",
        "--db",
        "postgres",
        "--no-password",
        "-f",
        "keyword",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("host=platform-db-admin.pnats.cloud port=5433 dbname=postgres user=dba sslmode=verify-full"), "{text}");
}

#[test]
fn exit_1_when_no_source_answers_lists_every_source_tried() {
    let out = run(&mut with_catalog(&["url", "temporal-db", "--admin"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no password for user `platform_admin` on `temporal-db`"),
        "{err}"
    );
    assert!(
        err.contains("env PGCONN_PASSWORD_TEMPORAL_DB_PLATFORM_ADMIN: not set"),
        "{err}"
    );
    assert!(
        err.contains("vault database/temporal-db/platform_admin"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    assert!(stdout(&out).is_empty());
}

fn assert_usage_error(args: &[&str], needles: &[&str]) {
    let out = run(&mut with_catalog(args));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(stdout(&out).is_empty(), "{args:?}");
    for needle in needles {
        assert!(
            err.contains(needle),
            "{args:?}: expected {needle:?} in\n{err}"
        );
    }
}

#[test]
fn exit_2_for_an_unknown_cluster_with_did_you_mean() {
    assert_usage_error(
        &["url", "tempral-db"],
        &[
            "no cluster named `tempral-db`",
            "did you mean `temporal-db`?",
        ],
    );
}

#[test]
fn exit_2_for_an_ambiguous_prefix_and_0_for_a_unique_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pgconn.toml");
    std::fs::write(
        &path,
        "version = 1\ndomain = \"d.example\"\n[clusters.app-a.endpoints]\nwrite = {}\n[clusters.app-b]\nport = 5433\nendpoints = { write = {} }\n",
    )
    .unwrap();
    let catalog = path.display().to_string();
    let out = run(&mut pgconn(&[
        "url",
        "app",
        "--user",
        "u",
        "--no-password",
        "--catalog",
        &catalog,
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`app` matches several clusters: app-a, app-b"),
        "{}",
        stderr(&out)
    );
    let out = run(&mut pgconn(&[
        "url",
        "app-b",
        "--user",
        "u",
        "--no-password",
        "--catalog",
        &catalog,
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("@app-b-write.d.example:5433"));
}

#[test]
fn exit_2_for_a_role_the_cluster_lacks_naming_the_roles_it_has() {
    assert_usage_error(
        &["url", "platform-db", "--read"],
        &["has no read endpoint", "it has: --write, --admin"],
    );
}

#[test]
fn exit_2_for_bad_flags_and_conflicting_roles() {
    assert_usage_error(&["url", "temporal-db", "--bogus"], &["--bogus"]);
    assert_usage_error(
        &["url", "temporal-db", "--read", "--admin"],
        &["cannot be used with"],
    );
    assert_usage_error(
        &["url", "temporal-db", "read", "--admin"],
        &["two roles asked for"],
    );
    assert_usage_error(
        &["url", "temporal-db", "-f", "odbc"],
        &["invalid value 'odbc'"],
    );
}

#[test]
fn exit_2_without_a_cluster_and_without_a_terminal_never_hangs() {
    assert_usage_error(&["url"], &["no cluster named, and no terminal"]);
    assert_usage_error(&["show"], &["no terminal"]);
}

#[test]
fn exit_2_when_pin_ip_cannot_be_expressed() {
    assert_usage_error(
        &[
            "url",
            "temporal-db",
            "--pin-ip",
            "-f",
            "jdbc",
            "--no-password",
        ],
        &["jdbc format cannot pin"],
    );
    let out = run(&mut with_catalog(&[
        "url",
        "temporal-db",
        "--admin",
        "--pin-ip",
        "--no-password",
    ]));
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("hostaddr=103.110.174.21"));
}

#[test]
fn exit_0_for_help_and_version() {
    for args in [["--help"], ["--version"]] {
        let out = run(&mut pgconn(&args));
        assert_eq!(out.status.code(), Some(0));
        assert!(!stdout(&out).is_empty());
    }
}

#[test]
fn ls_lists_every_endpoint_for_people_and_scripts() {
    let out = run(&mut with_catalog(&["ls"]));
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1 + 8, "{text}");
    assert!(text.lines().any(|l| l.contains("temporal-db")
        && l.contains("admin")
        && l.contains("103.110.174.0/24")
        && l.contains("103.110.174.21")));
    let out = run(&mut with_catalog(&["ls", "--json"]));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 8);
    let write = &rows[0];
    assert_eq!(write["cluster"], "temporal-db");
    assert_eq!(write["role"], "write");
    assert_eq!(write["port"], 5432);
    assert_eq!(write["pooled"], true);
    assert_eq!(write["pool_mode"], "transaction");
    assert_eq!(rows[2]["pooled"], false);
}

#[test]
fn show_names_sources_but_never_values() {
    for json in [false, true] {
        let mut args = vec!["show", "temporal-db"];
        if json {
            args.push("--json");
        }
        let out = run(with_catalog(&args)
            .env("PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL", PASSWORD)
            .arg("-vv"));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains("s3cr"), "password leaked: {all}");
        assert!(
            all.contains("temporal.temporal-db.credentials.postgresql.acid.zalan.do"),
            "{all}"
        );
        assert!(
            all.contains("PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL"),
            "{all}"
        );
        assert!(
            all.contains("temporal/temporal-db"),
            "the admin Service: {all}"
        );
    }
}

#[test]
fn verbose_url_names_the_source_on_stderr_without_the_value() {
    let out = run(with_catalog(&["url", "temporal-db", "-v"])
        .env("PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL", PASSWORD));
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("from env PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL"),
        "{err}"
    );
    assert!(!err.contains("s3cr"), "{err}");
}

#[test]
fn pooled_notes_go_to_stderr_and_the_url_stays_alone_on_stdout() {
    let out = run(with_catalog(&["url", "temporal-db", "-f", "asyncpg"])
        .env("PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL", "x"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).lines().count(), 1);
    assert!(
        stderr(&out)
            .contains("note: transaction pooler: asyncpg.connect(dsn, statement_cache_size=0)")
    );
}

#[test]
fn catalog_path_and_schema() {
    let out = run(&mut with_catalog(&["catalog", "path"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).trim(), example());
    let out = run(&mut with_catalog(&["catalog", "validate"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("ok, 3 clusters, 8 endpoints"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    use std::process::Stdio;
    let mut child = with_catalog(&["catalog", "schema"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

/// A catalog of `n` clusters (large enough to be snapshotted), with cluster
/// 0's port given.
fn big_catalog(n: usize, first_port: u16) -> String {
    use std::fmt::Write as _;
    let mut text = String::from("version: 1\ndomain: d.example\nclusters:\n");
    for i in 0..n {
        let port = if i == 0 {
            first_port
        } else {
            20000 + u16::try_from(i).unwrap()
        };
        let _ = write!(
            text,
            "  db-{i:04}:\n    port: {port}\n    database: app\n    endpoints: {{ write: {{}}, admin: {{}} }}\n    users:\n      app: {{ roles: [write, admin] }}\n"
        );
    }
    text
}

#[test]
fn large_catalogs_are_snapshotted_and_a_change_is_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("pgconn.yaml");
    let cache = dir.path().join("cache");
    let url = |expect: &str| {
        let out = run(pgconn(&["url", "db-0000", "--no-password"])
            .env("PGCONN_CATALOG", &catalog)
            .env("XDG_CACHE_HOME", &cache));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stdout(&out).contains(expect), "{}", stdout(&out));
    };
    std::fs::write(&catalog, big_catalog(1000, 6001)).unwrap();
    url("db-0000-write.d.example:6001/");
    let snapshots: Vec<_> = std::fs::read_dir(cache.join("pgconn")).unwrap().collect();
    assert_eq!(snapshots.len(), 1, "a large catalog leaves one snapshot");
    url("db-0000-write.d.example:6001/");
    // A change to the file (size and mtime) is read at once.
    std::fs::write(&catalog, big_catalog(1000, 16002)).unwrap();
    url("db-0000-write.d.example:16002/");
    // A corrupt snapshot costs only speed.
    let snapshot = std::fs::read_dir(cache.join("pgconn"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&snapshot, "{not json").unwrap();
    url("db-0000-write.d.example:16002/");
    // validate never trusts a snapshot: a broken file is reported even if a snapshot exists.
    std::fs::write(
        &catalog,
        big_catalog(1000, 16002).replace("port: 16002", "prot: 16002"),
    )
    .unwrap();
    let out = run(pgconn(&["catalog", "validate"])
        .env("PGCONN_CATALOG", &catalog)
        .env("XDG_CACHE_HOME", &cache));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_readme_states_cargo_tomls_rust_version() {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("(Rust {version}+)")),
        "README vs rust-version {version}"
    );
}
