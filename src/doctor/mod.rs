//! `pgconn doctor`: a layered diagnosis of endpoints. Each layer is a
//! check in a file of its own, run in the contract's order; a failed
//! layer makes the later ones `skip` (except `allowlist`, judged whenever
//! the catalog knows the ranges). All endpoints are checked concurrently
//! on one current-thread runtime, each layer bounded by `--timeout`, the
//! whole run by a deadline.

mod allowlist;
mod auth;
mod backoff;
mod dns;
mod endpoint;
pub mod github;
pub mod junit;
mod lag;
mod password_probe;
mod pooler;
mod probe;
pub mod render;
mod routing;
mod session;
mod sheet;
mod tcp;
mod tls_chain;
mod tls_expiry;
mod tls_hostname;
mod tls_negotiate;
mod via_kube;
pub mod wait;

use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::{FutureExt, Shared};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::catalog::{Catalog, Role};
use crate::credentials::{self, Credential};
use crate::knowledge::sanitize;
use crate::target::Target;

pub use sheet::CheckId;
pub use via_kube::Tunneled;

/// How many endpoints are checked at once.
pub const CONCURRENCY: usize = 16;

crate::vocabulary! {
    /// The outcome of one check.
    #[derive(PartialOrd, Ord)]
    pub enum Status {
        /// Failed: this layer is broken.
        Fail => "fail",
        /// Works, but something deserves attention.
        Warn => "warn",
        /// Works.
        Ok => "ok",
        /// Not checked (a lower layer failed, or it does not apply).
        Skip => "skip",
    }
}

/// One check of one endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The check id of the contract.
    pub id: CheckId,
    /// The verdict.
    pub status: Status,
    /// One line: what was found.
    pub summary: String,
    /// More facts (may be empty).
    pub detail: String,
    /// What to do (may be empty).
    pub hint: String,
    /// Milliseconds spent.
    pub ms: u64,
}

impl Check {
    /// A check with a status and summary (remote text sanitised).
    pub fn new(id: CheckId, status: Status, summary: impl AsRef<str>) -> Check {
        Check {
            id,
            status,
            summary: sanitize(summary.as_ref()),
            detail: String::new(),
            hint: String::new(),
            ms: 0,
        }
    }

    /// `ok`.
    pub fn ok(id: CheckId, summary: impl AsRef<str>) -> Check {
        Check::new(id, Status::Ok, summary)
    }

    /// `warn`.
    pub fn warn(id: CheckId, summary: impl AsRef<str>) -> Check {
        Check::new(id, Status::Warn, summary)
    }

    /// `fail`.
    pub fn fail(id: CheckId, summary: impl AsRef<str>) -> Check {
        Check::new(id, Status::Fail, summary)
    }

    /// `skip`.
    pub fn skip(id: CheckId, summary: impl AsRef<str>) -> Check {
        Check::new(id, Status::Skip, summary)
    }

    /// With a detail line (sanitised).
    #[must_use]
    pub fn detail(mut self, detail: impl AsRef<str>) -> Check {
        self.detail = sanitize(detail.as_ref());
        self
    }

    /// With a hint (sanitised).
    #[must_use]
    pub fn hint(mut self, hint: impl AsRef<str>) -> Check {
        self.hint = sanitize(hint.as_ref());
        self
    }

    /// With the time spent.
    #[must_use]
    pub fn took(mut self, since: Instant) -> Check {
        self.ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self
    }
}

/// Every check of one endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    /// The cluster.
    pub cluster: String,
    /// The role.
    pub role: Role,
    /// The host name.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The checks in layer order.
    pub checks: Vec<Check>,
}

impl EndpointReport {
    /// The worst status among the checks (skip counts as ok).
    pub fn worst(&self) -> Status {
        self.checks
            .iter()
            .map(|c| c.status)
            .filter(|s| *s != Status::Skip)
            .min()
            .unwrap_or(Status::Ok)
    }
}

/// What doctor learnt about this machine.
#[derive(Debug, Clone, Serialize)]
pub struct Client {
    /// The egress IP, when known.
    pub egress_ip: Option<String>,
    /// How it was learnt (`--egress-ip`, `inet_client_addr() on …`, or `unknown`).
    pub egress_source: String,
    /// The installed libpq's version, when found.
    pub libpq_version: Option<String>,
}

/// The whole diagnosis (the `--json` document).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always 1.
    pub schema_version: u32,
    /// No check failed.
    pub ok: bool,
    /// This machine.
    pub client: Client,
    /// One entry per endpoint, in catalog order.
    pub endpoints: Vec<EndpointReport>,
}

/// How doctor runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Per-layer timeout.
    pub timeout: Duration,
    /// `--egress-ip`.
    pub egress_ip: Option<IpAddr>,
    /// `--nameserver`.
    pub nameserver: Option<SocketAddr>,
    /// `--echo-url` / `$PGCONN_ECHO_URL`: asked for the egress IP when no
    /// direct server reports it.
    pub echo_url: Option<String>,
    /// `--max-lag`.
    pub max_lag: Duration,
    /// Show a progress line on stderr.
    pub progress: bool,
    /// The settings of the credential sources.
    pub credentials: credentials::Settings,
    /// The last layer to run (`wait` stops after `routing`); `None`: all.
    pub last_layer: Option<CheckId>,
    /// `--via kube`: the tunnel of each endpoint (dialled instead of it).
    pub tunnels: Vec<Tunneled>,
}

impl Options {
    /// The tunnel of `target`, under `--via kube`.
    pub fn tunnel_for(&self, target: &Target<'_>) -> Option<&Tunneled> {
        self.tunnels
            .iter()
            .find(|t| t.cluster == target.cluster.name && t.role == target.endpoint.role)
    }
}

impl Options {
    /// The bound of a whole run: a few layers' worth of timeouts.
    pub fn run_budget(&self) -> Duration {
        self.timeout * 4 + Duration::from_secs(1)
    }
}

/// Why doctor could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    /// The async runtime could not start.
    #[error("cannot start the network runtime: {0}")]
    Runtime(#[source] io::Error),
    /// Nothing selected.
    #[error("no endpoint to check")]
    NothingSelected,
}

impl DoctorError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            DoctorError::Runtime(_) => None,
            DoctorError::NothingSelected => {
                Some("`pgconn ls` lists the clusters and endpoints of the catalog".into())
            }
        }
    }
}

/// A credential, or why there is none (reason, hint); shared by endpoints
/// with the same cluster and user.
pub type CredResult = Arc<Result<Credential, (String, Option<String>)>>;

type CredFuture = Shared<oneshot::Receiver<CredResult>>;

/// What all endpoint checks share.
pub struct Ctx<'a> {
    /// The catalog (for sibling ports and advice).
    pub catalog: &'a Catalog,
    /// The options.
    pub opts: &'a Options,
    /// When the whole run must end.
    pub deadline: tokio::time::Instant,
}

impl Ctx<'_> {
    /// The time a layer may take: `--timeout`, cut at the run's deadline.
    pub fn layer_timeout(&self) -> Duration {
        self.opts.timeout.min(
            self.deadline
                .saturating_duration_since(tokio::time::Instant::now()),
        )
    }
}

/// Runs doctor over `targets` and returns the report.
pub fn run(
    catalog: &Catalog,
    targets: &[Target<'_>],
    opts: &Options,
) -> Result<Report, DoctorError> {
    if targets.is_empty() {
        return Err(DoctorError::NothingSelected);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DoctorError::Runtime)?;
    let (senders, creds) = credential_channels(targets);
    let (results, echoed) = std::thread::scope(|scope| {
        scope.spawn(move || fetch_credentials(senders, &opts.credentials));
        runtime.block_on(async {
            futures_util::join!(check_all(catalog, targets, &creds, opts), ask_echo(opts))
        })
    });
    Ok(assemble(results, echoed, opts))
}

type Senders<'t, 'c> = Vec<(&'t Target<'c>, oneshot::Sender<CredResult>)>;

/// One channel per distinct (cluster, user); every target gets its future.
fn credential_channels<'t, 'c>(targets: &'t [Target<'c>]) -> (Senders<'t, 'c>, Vec<CredFuture>) {
    let mut senders = Vec::new();
    let mut seen: Vec<((&str, &str), CredFuture)> = Vec::new();
    let mut futures = Vec::new();
    for t in targets {
        let key = (t.cluster.name.as_str(), t.user.as_str());
        if let Some((_, f)) = seen.iter().find(|(k, _)| *k == key) {
            futures.push(f.clone());
            continue;
        }
        let (tx, rx) = oneshot::channel();
        let shared = rx.shared();
        senders.push((t, tx));
        seen.push((key, shared.clone()));
        futures.push(shared);
    }
    (senders, futures)
}

/// Fetches credentials one after the other (a prompt must never interleave
/// with another), while the network checks run.
fn fetch_credentials(senders: Senders<'_, '_>, settings: &credentials::Settings) {
    for (target, tx) in senders {
        let result = credentials::fetch(target, settings).map_err(|e| (e.to_string(), e.hint()));
        let _ = tx.send(Arc::new(result));
    }
}

/// The result of one endpoint: its report and what it learnt.
pub struct Outcome {
    /// The report (allowlist still to be judged).
    pub report: EndpointReport,
    /// What the allowlist judgement needs.
    pub findings: endpoint::Findings,
}

async fn check_all(
    catalog: &Catalog,
    targets: &[Target<'_>],
    creds: &[CredFuture],
    opts: &Options,
) -> Vec<Outcome> {
    let ctx = Ctx {
        catalog,
        opts,
        deadline: tokio::time::Instant::now() + opts.run_budget(),
    };
    let total = targets.len();
    let progress = Progress::new(opts.progress, total);
    let mut done: Vec<(usize, Outcome)> = stream::iter(targets.iter().zip(creds).enumerate())
        .map(|(i, (t, c))| {
            let ctx = &ctx;
            async move { (i, endpoint::check(ctx, t, c.clone()).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .inspect(|_| progress.tick())
        .collect()
        .await;
    progress.clear();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, o)| o).collect()
}

/// The configured echo service's answer, asked alongside the checks.
async fn ask_echo(opts: &Options) -> Option<allowlist::Egress> {
    let url = opts.echo_url.as_deref()?;
    let answer = match crate::net::echo::parse(url) {
        Ok(parsed) => crate::net::echo::egress_ip(&parsed, opts.timeout).await,
        Err(e) => Err(e),
    };
    Some(match answer {
        Ok(ip) => allowlist::Egress {
            ip: Some(ip),
            source: format!("the echo service {url}"),
        },
        Err(why) => allowlist::Egress {
            ip: None,
            source: format!("unknown (echo service {url}: {why})"),
        },
    })
}

/// Judges the allowlists once the egress IP is known, and builds the report.
fn assemble(outcomes: Vec<Outcome>, echoed: Option<allowlist::Egress>, opts: &Options) -> Report {
    let egress = allowlist::egress(&outcomes, opts.egress_ip, echoed);
    let endpoints: Vec<EndpointReport> = outcomes
        .into_iter()
        .map(|mut o| {
            allowlist::judge(&mut o, &egress);
            via_kube::hint_tunnel(&mut o);
            o.report
        })
        .collect();
    let ok = endpoints
        .iter()
        .all(|e| e.checks.iter().all(|c| c.status != Status::Fail));
    Report {
        schema_version: 1,
        ok,
        client: Client {
            egress_ip: egress.ip.map(|ip| ip.to_string()),
            egress_source: egress.source.clone(),
            libpq_version: crate::platform::libpq_major().map(|v| v.to_string()),
        },
        endpoints,
    }
}

/// A progress line on stderr (terminals only).
struct Progress {
    enabled: bool,
    total: usize,
    done: std::cell::Cell<usize>,
    started: Instant,
}

impl Progress {
    fn new(enabled: bool, total: usize) -> Progress {
        let p = Progress {
            enabled: enabled && io::stderr().is_terminal(),
            total,
            done: std::cell::Cell::new(0),
            started: Instant::now(),
        };
        p.show();
        p
    }

    fn show(&self) {
        if self.enabled {
            let _ = write!(
                io::stderr(),
                "\r\x1b[2Kdoctor: {}/{} endpoints checked ({:.1} s)",
                self.done.get(),
                self.total,
                self.started.elapsed().as_secs_f64()
            );
        }
    }

    fn tick(&self) {
        self.done.set(self.done.get() + 1);
        self.show();
    }

    fn clear(&self) {
        if self.enabled {
            let _ = write!(io::stderr(), "\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Check, CheckId, Status};

    #[test]
    fn checks_sanitise_remote_text() {
        let c = Check::fail(CheckId::Auth, "FATAL: \x1b[31mred\x1b[0m\nline")
            .detail("cert CN=\x1b]0;title\x07x")
            .hint("\u{202e}ok");
        assert_eq!(c.status, Status::Fail);
        assert_eq!(c.summary, "FATAL: red line");
        assert_eq!(c.detail, "cert CN=x");
        assert_eq!(c.hint, "ok");
    }
}
