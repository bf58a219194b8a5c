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

/// How long any one pgconn run in a test may take before it is killed and
/// the test fails (a hang is a bug, never a slow pass).
pub const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A pgconn run being put together: arguments, environment and stdin, then
/// [`Pgconn::run`] with a hard timeout. Starts from [`pgconn`]'s clean
/// environment.
pub struct Pgconn {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    timeout: std::time::Duration,
}

impl Pgconn {
    /// `pgconn ARGS`.
    pub fn new(args: &[&str]) -> Self {
        Pgconn {
            cmd: pgconn(args),
            stdin: None,
            timeout: RUN_LIMIT,
        }
    }

    /// More arguments.
    pub fn args<S: AsRef<std::ffi::OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.cmd.args(args);
        self
    }

    /// One environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Several environment variables.
    pub fn envs<'a>(mut self, vars: impl IntoIterator<Item = &'a (&'a str, &'a str)>) -> Self {
        for (k, v) in vars {
            self.cmd.env(k, v);
        }
        self
    }

    /// Removes inherited variables.
    pub fn env_remove(mut self, keys: &[&str]) -> Self {
        for k in keys {
            self.cmd.env_remove(k);
        }
        self
    }

    /// HOME (and the XDG runtime dir) in `dir`, so nothing of the machine's
    /// `~/.kube`, `~/.vault-token` or keyring session leaks in.
    pub fn home(self, dir: &Path) -> Self {
        self.env("HOME", dir).env("XDG_RUNTIME_DIR", dir)
    }

    /// HOME in `dir` and every XDG base dir below it (config, data with the
    /// trust store, cache): a user of their own.
    pub fn user_in(self, dir: &Path) -> Self {
        self.home(dir)
            .env("XDG_CONFIG_HOME", dir.join(".config"))
            .env("XDG_DATA_HOME", dir.join(".local/share"))
            .env("XDG_CACHE_HOME", dir.join(".cache"))
    }

    /// The working directory.
    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    /// The catalog, through `$PGCONN_CATALOG`.
    pub fn catalog(self, path: &Path) -> Self {
        self.env("PGCONN_CATALOG", path)
    }

    /// Bytes on stdin (otherwise stdin is empty).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// A different hard limit than [`RUN_LIMIT`].
    pub fn timeout(mut self, limit: std::time::Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// Runs it, killing it at the limit.
    pub fn run(self) -> super::run::Run {
        super::run::run(self.cmd, self.stdin.as_deref(), self.timeout)
    }
}

/// A temporary directory for one test: HOME of its pgconn runs, its catalog
/// and whatever files it writes. Removed when dropped.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A fresh, empty directory.
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` (relative to it) with `text`; its path.
    pub fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write a scratch file");
        path
    }
}
