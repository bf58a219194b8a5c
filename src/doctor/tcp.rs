//! Check `tcp`: connect to the resolved addresses in order, as libpq does.
//! A refusal means nothing listens; a timeout means packets are dropped. When
//! the same IP answers on another port of the catalog, the drop is
//! selective: that points at a source-IP allowlist.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::future::join_all;
use tokio::net::TcpStream;

use super::dns::url_args;
use super::endpoint::Findings;
use super::sheet::CheckId;
use super::{Check, Ctx};
use crate::catalog::Endpoint;
use crate::net::tcp::{self, TcpFailure};

/// How long a sibling port may take to answer.
const SIBLING_TIMEOUT: Duration = Duration::from_secs(1);

/// Runs the check; the open stream when it succeeded.
pub async fn run(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    addrs: &[IpAddr],
    f: &mut Findings,
) -> (Check, Option<(TcpStream, SocketAddr)>) {
    let mut failures: Vec<(SocketAddr, TcpFailure)> = Vec::new();
    for ip in addrs {
        let addr = SocketAddr::new(*ip, ep.port);
        match tcp::connect(addr, ctx.layer_timeout()).await {
            Ok(stream) => {
                let summary = format!("{addr} accepts connections");
                let check = Check::ok(CheckId::Tcp, summary).detail(tried(&failures));
                return (check, Some((stream, addr)));
            }
            Err(e) => failures.push((addr, e)),
        }
    }
    (failed(ctx, ep, &failures, f).await, None)
}

fn tried(failures: &[(SocketAddr, TcpFailure)]) -> String {
    failures
        .iter()
        .map(|(a, e)| format!("{a}: {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn failed(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    failures: &[(SocketAddr, TcpFailure)],
    f: &mut Findings,
) -> Check {
    let Some((addr, failure)) = failures
        .iter()
        .find(|(_, e)| *e == TcpFailure::TimedOut)
        .or_else(|| failures.first())
    else {
        return Check::fail(CheckId::Tcp, "no address to connect to");
    };
    let detail = tried(failures);
    match failure {
        TcpFailure::Refused => refused(*addr, f).detail(detail),
        TcpFailure::TimedOut => {
            f.dropped = true;
            timed_out(ctx, ep, *addr, f).await.detail(detail)
        }
        TcpFailure::Unreachable(m) => Check::fail(CheckId::Tcp, format!("{addr} is unreachable: {m}"))
            .detail(detail)
            .hint("there is no network path: connect the VPN or fix routing; check the address against the catalog"),
        TcpFailure::Other(m) => Check::fail(CheckId::Tcp, format!("cannot connect to {addr}: {m}")).detail(detail),
    }
}

fn refused(addr: SocketAddr, f: &Findings) -> Check {
    let hint = match &f.dns_mismatch {
        Some((_, expected)) => format!(
            "the name points at {}, not at the catalog's {expected} (see dns): fix the record, or `pgconn url {} --pin-ip` to connect to {expected}",
            addr.ip(),
            url_args(&f.label)
        ),
        None => "the server or pooler is not running there, or listens on another port: check the service behind this address".to_string(),
    };
    Check::fail(
        CheckId::Tcp,
        format!("connection refused by {addr}: nothing listens on that port"),
    )
    .hint(hint)
}

async fn timed_out(ctx: &Ctx<'_>, ep: &Endpoint, addr: SocketAddr, f: &Findings) -> Check {
    let secs = ctx.opts.timeout.as_secs_f64();
    let summary = format!("no answer from {addr} within {secs:.1} s: packets are dropped");
    let answering = siblings_answering(ctx, ep, addr).await;
    let hint = if let Some(first) = answering.first() {
        format!(
            "the same address answers on {first}, so packets to this port are dropped on purpose, as a source-IP allowlist (loadBalancerSourceRanges) or a firewall does: have your egress IP admitted (see the allowlist check){}",
            ranges_note(f)
        )
    } else {
        "packets are dropped: a source-IP allowlist or firewall, a VPN that is not up, or the host is down".to_string()
    };
    Check::fail(CheckId::Tcp, summary).hint(hint)
}

fn ranges_note(f: &Findings) -> String {
    match &f.ranges {
        Some(r) => format!(
            "; the catalog lists {}",
            r.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    }
}

/// Other catalog ports on the same IP that answer (refusing counts).
async fn siblings_answering(ctx: &Ctx<'_>, ep: &Endpoint, addr: SocketAddr) -> Vec<String> {
    let mut siblings: Vec<(u16, String)> = Vec::new();
    for cluster in &ctx.catalog.clusters {
        for other in &cluster.endpoints {
            let same_ip =
                other.ip == Some(addr.ip()) || (other.host == ep.host && other.port != ep.port);
            if same_ip
                && other.port != addr.port()
                && !siblings.iter().any(|(p, _)| *p == other.port)
            {
                siblings.push((
                    other.port,
                    format!("port {} ({} {})", other.port, cluster.name, other.role),
                ));
            }
        }
    }
    let timeout = SIBLING_TIMEOUT.min(ctx.opts.timeout);
    let probes = siblings
        .iter()
        .map(|(port, _)| tcp::answers(SocketAddr::new(addr.ip(), *port), timeout));
    let results = join_all(probes).await;
    siblings
        .into_iter()
        .zip(results)
        .filter(|(_, ok)| *ok)
        .map(|((_, label), _)| label)
        .collect()
}
