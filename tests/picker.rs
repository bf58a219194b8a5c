//! The picker, through a real pseudo-terminal (tmux): with no cluster named
//! on a terminal, typing part of a name and Enter picks the endpoint.

mod support;

use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use support::cli::{bin, repo, tool_available};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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

#[test]
fn typing_part_of_a_name_and_enter_picks_the_endpoint() {
    if !tool_available("tmux") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("result");
    let socket = dir.path().join("tmux.sock").display().to_string();
    let command = format!(
        "PGCONN_CATALOG={catalog} PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL=pw {bin} url > {out}; echo \"rc=$?\" >> {out}",
        catalog = repo().join("examples/pgconn.yaml").display(),
        bin = bin(),
        out = result.display()
    );
    let session = ["-S", &socket];
    tmux(&[
        session[0],
        session[1],
        "new-session",
        "-d",
        "-x",
        "160",
        "-y",
        "30",
        &command,
    ]);
    let shown = wait_for(Duration::from_secs(10), || {
        tmux(&[session[0], session[1], "capture-pane", "-p"]).contains("Endpoint")
    });
    let screen = tmux(&[session[0], session[1], "capture-pane", "-p"]);
    assert!(shown, "the picker did not appear:\n{screen}");
    assert!(screen.contains("platform-db"), "{screen}");
    tmux(&[
        session[0],
        session[1],
        "send-keys",
        "-l",
        "temporal-db read",
    ]);
    sleep(Duration::from_millis(300));
    tmux(&[session[0], session[1], "send-keys", "Enter"]);
    let done = wait_for(Duration::from_secs(10), || {
        std::fs::read_to_string(&result).is_ok_and(|s| s.contains("rc="))
    });
    tmux(&[session[0], session[1], "kill-server"]);
    assert!(done, "pgconn did not finish after Enter");
    let text = std::fs::read_to_string(&result).unwrap();
    assert!(
        text.starts_with("postgresql://temporal:pw@temporal-db-read.pnats.cloud:5432/temporal?"),
        "{text}"
    );
    assert!(text.contains("rc=0"), "{text}");
}
