//! Broken catalogs: each gives exit 2 and a message naming the right
//! `file:line`, never a panic; `validate` reports every problem at once; the
//! contract's example reads the same in YAML, TOML and JSON; the JSON Schema
//! accepts the good catalogs and rejects typos the walker rejects.

use crate::support::cli::{pgconn, repo, run, stderr, stdout};

/// (file under tests/catalogs/bad, line, what the message must say).
const BROKEN: &[(&str, usize, &str)] = &[
    ("unknown_top_key.yaml", 2, "unknown key `domian`"),
    (
        "unknown_endpoint_key.yaml",
        8,
        "did you mean `allowed_source_ranges`?",
    ),
    ("unknown_role.yaml", 7, "did you mean `read`?"),
    ("bad_port.yaml", 5, "70000 is out of range"),
    ("quoted_port.yaml", 5, "write it without quotes"),
    ("bad_ip.yaml", 4, "`103.110.174.300` is not an IP address"),
    ("bad_cidr.yaml", 9, "write `103.110.174.7/32`"),
    (
        "bad_service.yaml",
        7,
        "`temporal-db-rw` is not NAMESPACE/NAME",
    ),
    ("unknown_placeholder.yaml", 3, "unknown placeholder `{rol}`"),
    ("missing_domain.yaml", 5, "needs `domain`"),
    ("bad_sslmode.yaml", 3, "did you mean `verify-full`?"),
    ("missing_rootcert.yaml", 7, "no-such-ca.pem does not exist"),
    ("role_without_user.yaml", 9, "no user has role `admin`"),
    (
        "duplicate_cluster.yaml",
        6,
        "duplicate key `a` (first at line 4)",
    ),
    ("two_sources_in_one_item.yaml", 10, "exactly one key"),
    ("unknown_source.yaml", 10, "did you mean `kubernetes`?"),
    ("yaml_syntax.yaml", 6, "syntax error"),
    ("port_collision.yaml", 8, "is also cluster `a`'s"),
    (
        "wrong_version.yaml",
        1,
        "catalog version 2 is not supported",
    ),
    ("unknown_key.toml", 6, "did you mean `database`?"),
    ("toml_syntax.toml", 3, "expected a right bracket"),
    ("unknown_key.json", 6, "did you mean `port`?"),
    ("json_syntax.json", 5, "trailing comma"),
];

fn bad(name: &str) -> String {
    repo()
        .join("tests/catalogs/bad")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn every_broken_catalog_exits_2_with_file_line_and_cause() {
    assert!(BROKEN.len() >= 15);
    for (name, line, needle) in BROKEN {
        let path = bad(name);
        for args in [
            vec!["catalog", "validate", "--catalog", &path],
            vec!["ls", "--catalog", &path],
            vec!["url", "a", "--catalog", &path],
        ] {
            let out = run(&mut pgconn(&args));
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
            assert!(stdout(&out).is_empty(), "{name}: nothing on stdout");
            assert!(!err.contains("panicked"), "{name}: {err}");
            let at = format!("{path}:{line}:");
            let hit = err.lines().any(|l| l.starts_with(&at));
            assert!(hit, "{name}: expected a line starting {at}\n{err}");
            assert!(err.contains(needle), "{name}: expected {needle:?}\n{err}");
        }
    }
}

#[test]
fn validate_reports_all_problems_at_once() {
    let path = bad("many_problems.yaml");
    let out = run(&mut pgconn(&["catalog", "validate", "--catalog", &path]));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("has 4 errors"), "{err}");
    for line in [3, 6, 8, 10] {
        assert!(
            err.contains(&format!("{path}:{line}:")),
            "line {line} missing:\n{err}"
        );
    }
}

#[test]
fn a_missing_catalog_names_every_place_looked_at() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(pgconn(&["ls"])
        .current_dir(dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("HOME", dir.path()));
    let err = stderr(&out);
    if std::path::Path::new("/etc/pgconn/catalog.yaml").exists() {
        return; // a machine-wide catalog would be found
    }
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no catalog found"), "{err}");
    assert!(
        err.contains(&dir.path().join("pgconn.yaml").display().to_string()),
        "{err}"
    );
    assert!(err.contains("config/pgconn/catalog.yaml"), "{err}");
    assert!(err.contains("hint: pass --catalog PATH"), "{err}");
}

#[test]
fn an_explicit_catalog_that_does_not_exist_is_named() {
    let out = run(&mut pgconn(&[
        "ls",
        "--catalog",
        "/nonexistent/pgconn.yaml",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read catalog /nonexistent/pgconn.yaml"));
}

#[test]
fn the_contract_example_reads_the_same_in_yaml_toml_and_json() {
    let listing = |ext: &str| {
        let path = repo().join(format!("tests/catalogs/good/contract.{ext}"));
        let out = run(&mut pgconn(&[
            "ls",
            "--json",
            "--catalog",
            &path.display().to_string(),
        ]));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    let yaml = listing("yaml");
    assert!(
        yaml.contains("\"host\": \"temporal-db-admin.pnats.cloud\""),
        "{yaml}"
    );
    assert_eq!(yaml, listing("toml"));
    assert_eq!(yaml, listing("json"));
}

#[test]
fn x_keys_are_ignored_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pgconn.yaml");
    std::fs::write(
        &path,
        "version: 1\nx-owner: dba team\ndomain: d.example\nclusters:\n  x-template: {}\n  a:\n    x-note: hi\n    endpoints:\n      write: { x-why: test }\n",
    )
    .unwrap();
    let out = run(&mut pgconn(&[
        "ls",
        "--json",
        "--catalog",
        &path.display().to_string(),
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("a-write.d.example"));
    assert!(!stdout(&out).contains("x-template"));
}

fn schema() -> jsonschema::Validator {
    let out = run(&mut pgconn(&["catalog", "schema"]));
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn as_json(path: &std::path::Path) -> serde_json::Value {
    pgconn::catalog::document_as_json(path).expect("readable")
}

#[test]
fn the_json_schema_accepts_the_readme_example_and_the_contract_example() {
    let validator = schema();
    for path in [
        repo().join("examples/pgconn.yaml"),
        repo().join("tests/catalogs/good/contract.yaml"),
        repo().join("tests/catalogs/good/contract.toml"),
        repo().join("tests/catalogs/good/contract.json"),
    ] {
        let doc = as_json(&path);
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
}

#[test]
fn the_json_schema_rejects_what_the_walker_rejects_for_shape() {
    let validator = schema();
    for name in [
        "unknown_top_key.yaml",
        "unknown_endpoint_key.yaml",
        "unknown_role.yaml",
        "bad_port.yaml",
        "quoted_port.yaml",
        "bad_ip.yaml",
        "bad_cidr.yaml",
        "unknown_placeholder.yaml",
        "bad_sslmode.yaml",
        "two_sources_in_one_item.yaml",
        "unknown_source.yaml",
        "wrong_version.yaml",
        "unknown_key.toml",
        "unknown_key.json",
    ] {
        let doc = as_json(&repo().join("tests/catalogs/bad").join(name));
        assert!(
            !validator.is_valid(&doc),
            "{name} passes the schema but not the walker"
        );
    }
}

#[test]
fn a_database_name_with_a_newline_is_rejected_before_it_reaches_pg_service_conf() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("pgconn.yaml");
    std::fs::write(
        &catalog,
        "version: 1\ndomain: example.test\nsslmode: verify-full\nclusters:\n  c1:\n    \
         port: 5432\n    database: \"app\\nsslmode=disable\"\n    endpoints: { write: {} }\n    \
         users:\n      \"app\\e]0;x\\a\": { roles: [write] }\n",
    )
    .unwrap();
    let service = dir.path().join("pg_service.conf");
    let out = run(pgconn(&["service", "sync"])
        .env("PGCONN_CATALOG", &catalog)
        .env("PGSERVICEFILE", &service)
        .env("PGPASSFILE", dir.path().join("pgpass")));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{}:7:", catalog.display()))
            && err.contains("database")
            && err.contains("control character U+000A"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}:10:", catalog.display())) && err.contains("U+001B"),
        "a user name with an escape is rejected too: {err}"
    );
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(!service.exists(), "nothing written");
}
