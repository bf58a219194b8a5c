//! The `command` source: the stdout of a command (a cloud secrets manager
//! CLI, `pass`, `op read`), run from its argv (never through a shell), with
//! a timeout; one trailing newline is stripped; on failure its stderr,
//! shortened and with the output redacted, is the reason.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Found, Outcome, Secret, Source};
use crate::knowledge::sanitize_redacted;

/// How long a command may run, unless `PGCONN_COMMAND_TIMEOUT` (seconds) says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long answers are kept in the cache.
const CACHE_TTL: Duration = Duration::from_secs(8 * 3600);

/// Runs a command and reads its stdout.
#[derive(Debug)]
pub struct CommandSource {
    argv: Vec<String>,
}

impl CommandSource {
    /// A source running `argv` (non-empty: the catalog checks it).
    pub fn new(argv: Vec<String>) -> Self {
        CommandSource { argv }
    }
}

fn timeout() -> Duration {
    std::env::var("PGCONN_COMMAND_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64)
}

fn reader(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

impl Source for CommandSource {
    fn label(&self) -> String {
        format!("command {}", self.argv.join(" "))
    }

    fn cached(&self) -> bool {
        true
    }

    fn fetch(&self) -> Outcome {
        let Some((program, args)) = self.argv.split_first() else {
            return Outcome::Failed("empty argv".into());
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // its own process group, so a timeout ends its children too
            cmd.process_group(0);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Outcome::Skipped(format!("`{program}` is not installed (not on PATH)"));
            }
            Err(e) => return Outcome::Failed(format!("cannot run `{program}`: {e}")),
        };
        let out = child.stdout.take().map(reader);
        let err = child.stderr.take().map(reader);
        let limit = timeout();
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if start.elapsed() >= limit => {
                    #[cfg(unix)]
                    if let Ok(pid) = i32::try_from(child.id()) {
                        let _ = nix::sys::signal::killpg(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Outcome::Failed(format!("waiting for `{program}`: {e}")),
            }
        };
        let stdout = out.and_then(|h| h.join().ok()).unwrap_or_default();
        let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
        let stdout = String::from_utf8(stdout);
        let stderr = String::from_utf8_lossy(&stderr);
        let secret = stdout.as_deref().unwrap_or("").trim();
        let stderr = sanitize_redacted(&stderr, &[secret]);
        let Some(status) = status else {
            return Outcome::Failed(format!(
                "`{program}` did not finish within {} s (PGCONN_COMMAND_TIMEOUT)",
                limit.as_secs_f32()
            ));
        };
        if !status.success() {
            let how = status.code().map_or_else(
                || "was killed by a signal".into(),
                |c| format!("exited with status {c}"),
            );
            return Outcome::Failed(if stderr.is_empty() {
                format!("`{program}` {how}")
            } else {
                format!("`{program}` {how}: {stderr}")
            });
        }
        let Ok(text) = stdout else {
            return Outcome::Failed(format!("`{program}` printed something that is not UTF-8"));
        };
        let value = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        if value.is_empty() {
            return Outcome::Failed(format!("`{program}` printed nothing"));
        }
        let mut found = Found::password(Secret::new(value));
        found.ttl = Some(CACHE_TTL);
        Outcome::Found(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(argv: &[&str]) -> Outcome {
        CommandSource::new(argv.iter().map(ToString::to_string).collect()).fetch()
    }

    #[test]
    fn stdout_minus_one_newline() {
        let Outcome::Found(f) = run(&["printf", "a b\n\n"]) else {
            panic!()
        };
        assert_eq!(f.password.expose(), "a b\n");
        // argv, not a shell: `$HOME` stays literal
        let Outcome::Found(f) = run(&["printf", "%s", "$HOME;x"]) else {
            panic!()
        };
        assert_eq!(f.password.expose(), "$HOME;x");
    }

    #[test]
    fn failures_carry_stderr_without_the_secret() {
        let Outcome::Failed(why) =
            run(&["sh", "-c", "echo sekrit; echo 'denied: sekrit' >&2; exit 3"])
        else {
            panic!()
        };
        assert!(why.contains("exited with status 3"), "{why}");
        assert!(why.contains("denied"), "{why}");
        assert!(!why.contains("sekrit"), "{why}");
        assert!(matches!(run(&["true"]), Outcome::Failed(_)));
        assert!(matches!(
            run(&["/nonexistent/pgconn-helper"]),
            Outcome::Skipped(_)
        ));
    }
}
