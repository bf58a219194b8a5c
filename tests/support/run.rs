//! Running a child process with a hard timeout and capturing what it did;
//! the assertions every test makes about a finished command.
// the same module serves every test area; each uses a different subset
#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What a command did.
#[derive(Debug)]
pub struct Run {
    /// What was run (for messages).
    pub what: String,
    /// Exit code; `None` when killed by a signal or by the timeout.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    pub elapsed: Duration,
}

impl Run {
    /// Exited with status 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    /// stdout and stderr together.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Panic unless it succeeded; returns trimmed stdout.
    pub fn expect_ok(&self) -> String {
        assert!(self.ok(), "command failed: {self:#?}");
        self.stdout.trim().to_string()
    }

    /// Panic unless it failed with `needle` somewhere in its output.
    pub fn expect_failure_with(&self, needle: &str) {
        assert!(
            !self.ok(),
            "expected a failure containing {needle:?}, but it succeeded: {self:#?}"
        );
        assert!(
            self.text().contains(needle),
            "expected {needle:?} in the output: {self:#?}"
        );
    }
}

impl Run {
    /// Panic unless it exited 0; returns stdout as it is.
    pub fn success(&self) -> String {
        assert!(self.ok(), "expected success: {self:#?}");
        self.stdout.clone()
    }

    /// Panic unless it exited with `code` and stderr names every needle;
    /// never a panic of pgconn's own. Returns stderr.
    pub fn fails_with(&self, code: i32, needles: &[&str]) -> String {
        assert_eq!(self.code, Some(code), "exit status: {self:#?}");
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "expected {n:?} in stderr: {self:#?}"
            );
        }
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
        self.stderr.clone()
    }
}

/// Run a command with a hard timeout, capturing its output.
pub fn run(mut cmd: Command, stdin: Option<&[u8]>, timeout: Duration) -> Run {
    let what = format!("{cmd:?}");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    if let Some(input) = stdin {
        let mut w = child.stdin.take().expect("stdin");
        // a short input; ignore EPIPE from a command that does not read it
        let _ = w.write_all(input);
    }
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_t = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out_pipe.read_to_end(&mut s);
        s
    });
    let err_t = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        s
    });
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if start.elapsed() >= timeout => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    };
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    Run {
        what,
        code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        stdout,
        stderr,
        timed_out,
        elapsed,
    }
}
