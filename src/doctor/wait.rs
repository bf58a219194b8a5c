//! `pgconn wait`: doctor's layers (dns, tcp, tls.*, auth, routing) on one
//! endpoint, again and again, until a verified login lands where the role
//! says and `pg_is_in_recovery()` answers, or the deadline passes.
//!
//! The credential is fetched once, by the caller, and every attempt uses
//! it. Each layer is bounded by the connect timeout *and* by the time left,
//! so the whole wait ends at its deadline (plus at most a sibling-port probe
//! after a TCP timeout, shorter than one connect timeout). A failure is
//! explained as doctor explains it: the check id, its summary and its hint.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::FutureExt;
use tokio::sync::oneshot;

use super::backoff::Backoff;
use super::{Check, CheckId, CredResult, Ctx, EndpointReport, Options, Status, endpoint};
use crate::catalog::Catalog;
use crate::credentials::Credential;
use crate::knowledge::sanitize;
use crate::target::Target;

/// How `wait` runs.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// When to give up.
    pub deadline: Instant,
    /// The first pause between attempts (`--interval`).
    pub interval: Duration,
    /// What one layer may take (the catalog's `connect_timeout`).
    pub connect_timeout: Duration,
    /// Show a progress line on stderr (only when it is a terminal).
    pub progress: bool,
}

/// The endpoint is ready.
#[derive(Debug, Clone)]
pub struct Ready {
    /// `cluster role`.
    pub label: String,
    /// How many attempts it took.
    pub attempts: u32,
    /// What the routing check said (e.g. `write lands on a primary`).
    pub routing: String,
}

/// Why `wait` gave up.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The async runtime could not start.
    #[error("cannot start the network runtime: {0}")]
    Runtime(#[source] io::Error),
    /// The deadline passed: the last failure, as doctor explains it.
    #[error(
        "{label} is not ready after {:.1} s ({attempts} attempt(s)): {}: {}{}",
        waited.as_secs_f64(), last.id, last.summary, detail_line(&last.detail)
    )]
    NotReady {
        /// `cluster role`.
        label: String,
        /// How long it waited.
        waited: Duration,
        /// How many attempts were made.
        attempts: u32,
        /// The check that explains the last failure.
        last: Box<Check>,
    },
}

fn detail_line(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!("\n  detail: {detail}")
    }
}

impl WaitError {
    /// What the user can do next: the failing check's hint.
    pub fn hint(&self) -> Option<String> {
        match self {
            WaitError::Runtime(_) => None,
            WaitError::NotReady { last, .. } => Some(last.hint.clone()).filter(|h| !h.is_empty()),
        }
    }
}

/// Waits until `target` is ready, with `credential` for every attempt.
pub fn wait(
    catalog: &Catalog,
    target: &Target<'_>,
    credential: Credential,
    opts: &WaitOptions,
) -> Result<Ready, WaitError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(WaitError::Runtime)?;
    let doctor = Options {
        timeout: opts.connect_timeout,
        egress_ip: None,
        nameserver: None,
        echo_url: None,
        max_lag: Duration::MAX,
        progress: false,
        // the credential was fetched once, before the first attempt
        credentials: crate::credentials::Settings::default(),
        last_layer: Some(CheckId::Routing),
        tunnels: Vec::new(),
    };
    let credential: CredResult = Arc::new(Ok(credential));
    let retry = Retry {
        catalog,
        target,
        credential,
        doctor: &doctor,
        deadline: tokio::time::Instant::from_std(opts.deadline),
    };
    runtime.block_on(retry.run(opts))
}

struct Retry<'a, 'c> {
    catalog: &'a Catalog,
    target: &'a Target<'c>,
    credential: CredResult,
    doctor: &'a Options,
    deadline: tokio::time::Instant,
}

impl Retry<'_, '_> {
    async fn run(&self, opts: &WaitOptions) -> Result<Ready, WaitError> {
        let started = Instant::now();
        let label = sanitize(&format!(
            "{} {}",
            self.target.cluster.name, self.target.endpoint.role
        ));
        let progress = Progress::new(opts.progress, &label);
        let mut backoff = Backoff::new(opts.interval);
        let mut last: Option<Check> = None;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let report = self.attempt().await;
            match verdict(&report) {
                Ok(routing) => {
                    progress.clear();
                    let routing = routing.summary.clone();
                    return Ok(Ready {
                        label,
                        attempts,
                        routing,
                    });
                }
                // an attempt the deadline cut short explains less than the one before it
                Err(_) if self.time_left().is_zero() && last.is_some() => {}
                Err(failed) => last = Some(failed),
            }
            let pause = backoff.pause().min(self.time_left());
            if pause.is_zero() {
                break;
            }
            progress.show(attempts, last.as_ref(), pause, self.time_left());
            tokio::time::sleep(pause).await;
            if self.time_left().is_zero() {
                break;
            }
        }
        progress.clear();
        Err(WaitError::NotReady {
            label,
            waited: started.elapsed(),
            attempts,
            last: Box::new(last.unwrap_or_else(no_attempt)),
        })
    }

    fn time_left(&self) -> Duration {
        self.deadline
            .saturating_duration_since(tokio::time::Instant::now())
    }

    /// One pass through the layers, up to routing.
    async fn attempt(&self) -> EndpointReport {
        let ctx = Ctx {
            catalog: self.catalog,
            opts: self.doctor,
            deadline: self.deadline,
        };
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(Arc::clone(&self.credential));
        endpoint::check(&ctx, self.target, rx.shared()).await.report
    }
}

fn no_attempt() -> Check {
    Check::skip(CheckId::Dns, "no attempt completed before the timeout")
}

/// `Ok(routing)` when the endpoint is ready: no layer failed and the login
/// landed where the role says (a read endpoint on the primary is not
/// ready); else the check that explains why not.
pub fn verdict(report: &EndpointReport) -> Result<&Check, Check> {
    if let Some(failed) = report.checks.iter().find(|c| c.status == Status::Fail) {
        return Err(failed.clone());
    }
    let routing = report.checks.iter().find(|c| c.id == CheckId::Routing);
    match routing {
        Some(c) if c.status == Status::Ok => Ok(c),
        Some(c) => Err(c.clone()),
        None => Err(Check::skip(CheckId::Routing, "routing was not reached")),
    }
}

/// One line on stderr, rewritten after each attempt (terminals only).
struct Progress {
    enabled: bool,
    label: String,
}

/// Progress lines longer than this are cut (a wrapped line cannot be rewritten).
const PROGRESS_WIDTH: usize = 100;

impl Progress {
    fn new(wanted: bool, label: &str) -> Progress {
        Progress {
            enabled: wanted && io::stderr().is_terminal(),
            label: label.to_string(),
        }
    }

    fn show(&self, attempts: u32, last: Option<&Check>, pause: Duration, left: Duration) {
        if !self.enabled {
            return;
        }
        let why = last.map_or_else(String::new, |c| format!(": {}: {}", c.id, c.summary));
        let line = format!(
            "wait: {}: attempt {attempts}, again in {:.1} s ({:.0} s left){why}",
            self.label,
            pause.as_secs_f64(),
            left.as_secs_f64()
        );
        let line: String = line.chars().take(PROGRESS_WIDTH).collect();
        let _ = write!(io::stderr(), "\r\x1b[2K{line}");
    }

    fn clear(&self) {
        if self.enabled {
            let _ = write!(io::stderr(), "\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Check, CheckId, EndpointReport, verdict};
    use crate::catalog::Role;

    fn report(checks: Vec<Check>) -> EndpointReport {
        EndpointReport {
            cluster: "c".into(),
            role: Role::Read,
            host: "h".into(),
            port: 5432,
            checks,
        }
    }

    #[test]
    fn ready_only_when_routing_is_ok() {
        let ok = report(vec![
            Check::warn(CheckId::TlsExpiry, "expires in 7 days"),
            Check::ok(CheckId::Routing, "read lands on a replica"),
        ]);
        assert_eq!(verdict(&ok).unwrap().summary, "read lands on a replica");
        let on_primary = report(vec![Check::warn(
            CheckId::Routing,
            "read lands on the primary",
        )]);
        assert_eq!(verdict(&on_primary).unwrap_err().id, CheckId::Routing);
    }

    #[test]
    fn the_first_failure_explains() {
        let r = report(vec![
            Check::ok(CheckId::Dns, "resolves"),
            Check::fail(CheckId::Tcp, "connection refused").hint("start it"),
            Check::skip(CheckId::Routing, "not checked: tcp failed"),
        ]);
        let why = verdict(&r).unwrap_err();
        assert_eq!((why.id, why.hint.as_str()), (CheckId::Tcp, "start it"));
    }

    #[test]
    fn a_skipped_routing_explains_itself() {
        let r = report(vec![Check::skip(
            CheckId::Routing,
            "not checked: time ran out",
        )]);
        assert_eq!(
            verdict(&r).unwrap_err().summary,
            "not checked: time ran out"
        );
    }
}
