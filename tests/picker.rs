//! The picker, through a real pseudo-terminal (tmux): with no cluster named
//! on a terminal, typing part of a name and Enter picks the endpoint; Ctrl-C
//! exits 130.

use std::path::PathBuf;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::support::cli::{bin, repo, tool_available};

/// Polls `check` every 100 ms for at most `limit`.
fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        sleep(Duration::from_millis(100));
    }
    false
}

/// A private tmux server running one pgconn command whose stdout and exit
/// status land in files (stderr stays on the terminal: the picker draws there).
struct Session {
    dir: tempfile::TempDir,
    socket: String,
}

impl Session {
    fn start(pgconn_args: &str, env: &str) -> Session {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock").display().to_string();
        let session = Session { dir, socket };
        // `trap : INT`: the shell outlives a Ctrl-C that lands before the picker
        // put the terminal in raw mode (pgconn then dies of SIGINT: still 130),
        // so the status is always written; children get SIGINT's default back
        let command = format!(
            "trap : INT; PGCONN_CATALOG={catalog} {env} {bin} {pgconn_args} > {out}; echo \"rc=$?\" > {rc}",
            catalog = repo().join("examples/pgconn.yaml").display(),
            bin = bin(),
            out = session.path("stdout").display(),
            rc = session.path("rc").display(),
        );
        session.tmux(&["new-session", "-d", "-x", "160", "-y", "30", &command]);
        session
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-S", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    /// Waits for pgconn to exit and returns (stdout, "rc=N").
    fn finish(&self) -> (String, String) {
        let done = wait_for(Duration::from_secs(10), || {
            std::fs::read_to_string(self.path("rc")).is_ok_and(|s| s.contains("rc="))
        });
        assert!(done, "pgconn did not exit:\n{}", self.screen());
        let read = |name| std::fs::read_to_string(self.path(name)).unwrap_or_default();
        (read("stdout"), read("rc").trim().to_string())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

fn picker_session(env: &str) -> Option<Session> {
    if !tool_available("tmux") {
        return None;
    }
    let session = Session::start("url", env);
    let shown = wait_for(Duration::from_secs(10), || {
        session.screen().contains("Endpoint")
    });
    assert!(shown, "the picker did not appear:\n{}", session.screen());
    Some(session)
}

#[test]
fn typing_part_of_a_name_and_enter_picks_the_endpoint() {
    let Some(session) = picker_session("PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL=pw") else {
        return;
    };
    assert!(
        session.screen().contains("platform-db"),
        "{}",
        session.screen()
    );
    session.tmux(&["send-keys", "-l", "temporal-db read"]);
    sleep(Duration::from_millis(300));
    session.tmux(&["send-keys", "Enter"]);
    let (stdout, rc) = session.finish();
    assert!(
        stdout.starts_with("postgresql://temporal:pw@temporal-db-read.pnats.cloud:5432/temporal?"),
        "{stdout}"
    );
    assert_eq!(rc, "rc=0");
}

#[test]
fn ctrl_c_at_the_picker_exits_130() {
    let Some(session) = picker_session("") else {
        return;
    };
    session.tmux(&["send-keys", "C-c"]);
    let (stdout, rc) = session.finish();
    assert!(stdout.is_empty());
    assert_eq!(rc, "rc=130");
}
