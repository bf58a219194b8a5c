//! Running a child to completion with signals forwarded.
//!
//! While the child runs, pgconn catches SIGINT, SIGQUIT, SIGTERM and SIGHUP
//! so it outlives the child and can clean up. A SIGINT or SIGQUIT typed at
//! the terminal already reaches the child (same process group), so only
//! those *sent by a process* are forwarded; SIGTERM and SIGHUP always are.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;

/// The child could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    /// Spawning failed (not found, not executable).
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// What was run.
        program: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Signal handling could not be set up.
    #[error("cannot watch signals: {0}")]
    Signals(std::io::Error),
}

impl ChildError {
    /// What to do.
    pub fn hint(&self) -> Option<String> {
        match self {
            ChildError::Spawn { .. } => Some("check the command name and PATH".into()),
            ChildError::Signals(_) => None,
        }
    }
}

/// How much of a child's stderr [`run_child_teeing_stderr`] keeps.
const STDERR_TAIL: usize = 8 * 1024;

/// Runs `cmd` and returns its exit status the way a shell reports it
/// (128 + N when killed by signal N).
pub fn run_child(cmd: &mut Command) -> Result<i32, ChildError> {
    run(cmd, |_| {})
}

/// Like [`run_child`], but the child's stderr passes through pgconn (as it
/// arrives) and its last few KiB are returned, for diagnosing a failure.
pub fn run_child_teeing_stderr(cmd: &mut Command) -> Result<(i32, String), ChildError> {
    cmd.stderr(Stdio::piped());
    let mut tail = String::new();
    let status = run(cmd, |child| {
        if let Some(mut pipe) = child.stderr.take() {
            tail = tee(&mut pipe);
        }
    })?;
    Ok((status, tail))
}

/// Copies `pipe` to our stderr until EOF, keeping the end of it.
fn tee(pipe: &mut impl Read) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    let mut err = std::io::stderr();
    loop {
        match pipe.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let _ = err.write_all(&buf[..n]);
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > STDERR_TAIL {
                    kept.drain(..kept.len() - STDERR_TAIL);
                }
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Spawns `cmd`, forwards signals, lets `during` work with the running
/// child (on this thread), then waits for it.
fn run(cmd: &mut Command, during: impl FnOnce(&mut Child)) -> Result<i32, ChildError> {
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGINT, SIGQUIT, SIGTERM, SIGHUP])
        .map_err(ChildError::Signals)?;
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .spawn()
        .map_err(|source| ChildError::Spawn { program, source })?;
    let handle = signals.handle();
    let pid = child_pid(&child);
    let forwarder = std::thread::spawn(move || {
        for info in &mut signals {
            let from_process = info.process.is_some();
            let forward = matches!(info.signal, SIGTERM | SIGHUP) || from_process;
            if let (true, Some(pid), Ok(sig)) = (forward, pid, Signal::try_from(info.signal)) {
                let _ = kill(pid, sig);
            }
        }
    });
    during(&mut child);
    let status = wait(&mut child);
    handle.close();
    let _ = forwarder.join();
    Ok(status)
}

fn child_pid(child: &Child) -> Option<Pid> {
    i32::try_from(child.id()).ok().map(Pid::from_raw)
}

fn wait(child: &mut Child) -> i32 {
    match child.wait() {
        Ok(status) => status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(1),
        Err(_) => 1,
    }
}
