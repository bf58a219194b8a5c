//! Running the real `pgconn` binary in a controlled environment.
#![allow(dead_code)] // each test module uses a different subset

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The path of the pgconn binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pgconn")
}

/// A `pgconn` command with no inherited pgconn/libpq/CI settings and no
/// terminal on stdin, so tests see what a script would.
pub fn pgconn(args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("PGCONN_") || key.starts_with("PG") || key == "NO_COLOR" {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd
}

/// Runs it and returns the output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("pgconn runs")
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where `lab/lab install` put the drivers and readers (a Python venv, an
/// npm prefix): `$PGCONN_LAB_DRIVERS`, else `lab/.drivers`.
pub fn drivers_dir() -> std::path::PathBuf {
    std::env::var_os("PGCONN_LAB_DRIVERS")
        .map_or_else(|| repo().join("lab/.drivers"), std::path::PathBuf::from)
}

/// A test-only tool may be absent on a developer machine (the test then
/// says so and passes); in CI (`CI` set) it must be there.
pub fn tool_available(name: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is required in CI: .ci/run installs it"
        );
        eprintln!("skipped: {name} is not installed");
    }
    found
}
