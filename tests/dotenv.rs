//! `env --format dotenv` is read back exactly by python-dotenv, the
//! `dotenv` npm package (both installed by `lab/lab install`) and Docker
//! Compose's rules (`support::compose_dotenv`: Compose is not installable
//! here), or refused with the character named, never silently misread.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::cli::{drivers_dir, pgconn, run, stderr, stdout};
use crate::support::compose_dotenv;

const CATALOG: &str = "version: 1\ndomain: example.test\nsslmode: verify-full\n\
    clusters:\n  c1:\n    port: 5432\n    database: app\n    endpoints: { write: {} }\n    \
    users:\n      app: { roles: [write] }\n";

/// (password, `None` when it must read back, else what the refusal names).
const CASES: &[(&str, Option<&str>)] = &[
    ("trailing\\", None),
    ("two \\\\ backslashes", None),
    ("line one\nline two", None),
    ("hash # inside#", None),
    ("$HOME `id` \"quoted\"", None),
    ("it's #1", None),
    ("carriage\rreturn", None),
    ("x${HOME}y", Some("`${`")),
    ("it's $5", Some("`'`")),
    ("a #b\\", Some("trailing `\\`")),
    ("both ' and \\", Some("`\\`")),
];

type Vars = BTreeMap<String, String>;

fn env(dir: &Path, password: &str, format: &str) -> Output {
    let catalog = dir.join("pgconn.yaml");
    std::fs::write(&catalog, CATALOG).unwrap();
    let mut cmd = pgconn(&["env", "c1", "--format", format]);
    cmd.env("PGCONN_CATALOG", &catalog)
        .env("HOME", dir)
        .env("PGCONN_KEYRING", "none")
        .env("PGCONN_PASSWORD_C1_APP", password);
    run(&mut cmd)
}

fn json_vars(text: &[u8]) -> Result<Vars, String> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(text)
        .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(text)))?;
    Ok(map
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or("<not a string>").to_string()))
        .collect())
}

fn read_with(program: &Path, args: &[&str]) -> Result<Vars, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    json_vars(&out.stdout)
}

fn python_dotenv(file: &Path) -> Result<Vars, String> {
    let script = "import dotenv, json, sys; print(json.dumps(dotenv.dotenv_values(sys.argv[1])))";
    read_with(
        &drivers_dir().join("venv/bin/python"),
        &["-c", script, file.to_str().unwrap()],
    )
}

fn npm_dotenv(file: &Path) -> Result<Vars, String> {
    let script = "const d = require(process.argv[1]); \
        console.log(JSON.stringify(d.parse(require('fs').readFileSync(process.argv[2]))))";
    let module = drivers_dir().join("node/node_modules/dotenv");
    read_with(
        Path::new("node"),
        &[
            "-e",
            script,
            module.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    )
}

fn compose(text: &str) -> Result<Vars, String> {
    compose_dotenv::parse(text).map(|v| v.into_iter().collect())
}

fn readers_installed() -> bool {
    let found = drivers_dir()
        .join("node/node_modules/dotenv/package.json")
        .exists()
        && drivers_dir().join("venv/bin/python").exists();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "python-dotenv and the dotenv npm package are required in CI (lab/lab install)"
        );
        eprintln!("skipped: dotenv readers not installed (lab/lab install)");
    }
    found
}

#[test]
fn every_reader_reads_dotenv_output_back_exactly_or_pgconn_refuses() {
    if !readers_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (password, refusal) in CASES {
        let truth = env(dir.path(), password, "json");
        let truth = json_vars(&truth.stdout).unwrap();
        assert_eq!(truth["PGPASSWORD"], *password);
        let out = env(dir.path(), password, "dotenv");
        if let Some(named) = refusal {
            let err = stderr(&out);
            if out.status.code() != Some(2) || !out.stdout.is_empty() || !err.contains(named) {
                failures.push(format!(
                    "{password:?}: expected a refusal naming {named}: {err}"
                ));
            }
            assert!(
                !err.contains(password),
                "the refusal never shows the password"
            );
            continue;
        }
        if !out.status.success() {
            failures.push(format!("{password:?}: refused: {}", stderr(&out)));
            continue;
        }
        let text = stdout(&out);
        let file = dir.path().join(".env");
        std::fs::write(&file, &text).unwrap();
        for (reader, got) in [
            ("python-dotenv", python_dotenv(&file)),
            ("dotenv (npm)", npm_dotenv(&file)),
            ("Compose rules", compose(&text)),
        ] {
            if got.as_ref() != Ok(&truth) {
                failures.push(format!("{password:?}: {reader} read {got:?} from {text:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_compose_rules_reader_follows_composes_documented_examples() {
    // https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/#env-file-syntax
    let vars = compose(
        "# comment\nA=VAL # comment\nC='$OTHER'\n\
         E='some\\tvalue'\nF=some\\tvalue\nG=\"{\\\"hello\\\": \\\"json\\\"}\"\n",
    )
    .unwrap();
    assert_eq!(vars["A"], "VAL");
    assert_eq!(vars["C"], "$OTHER");
    assert_eq!(vars["E"], "some\\tvalue");
    assert_eq!(vars["F"], "some\\tvalue");
    assert_eq!(vars["G"], "{\"hello\": \"json\"}");
    assert!(
        compose("P='trailing\\'\n").is_err(),
        "a trailing \\ escapes the quote"
    );
}
