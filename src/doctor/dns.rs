//! Check `dns`: resolve the host as libpq will (getaddrinfo) and compare
//! with the catalog's expected IP. When something is off, ask the system's
//! nameserver (and `--nameserver`) directly, to say which resolver answered
//! what: split-horizon DNS, stale caches and hosts-file entries all look
//! alike from getaddrinfo alone.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::endpoint::Findings;
use super::sheet::CheckId;
use super::{Check, Ctx};
use crate::catalog::Endpoint;
use crate::net::dns::{self, Answer, ResolveFailure};

/// Runs the check; the addresses to connect to when it did not fail.
pub async fn run(ctx: &Ctx<'_>, ep: &Endpoint, f: &mut Findings) -> (Check, Option<Vec<IpAddr>>) {
    if let Ok(ip) = ep.host.parse::<IpAddr>() {
        let check = Check::ok(
            CheckId::Dns,
            format!("{ip} is an IP address: nothing to resolve"),
        );
        return (check, Some(vec![ip]));
    }
    let timeout = ctx.layer_timeout();
    let (system, chosen) = futures_util::join!(
        dns::resolve(&ep.host, timeout),
        ask(ctx.opts.nameserver, &ep.host, timeout)
    );
    match system {
        Err(failure) => (failed(ctx, ep, &failure, chosen.as_ref()).await, None),
        Ok(addrs) => (
            resolved(ctx, ep, &addrs, chosen.as_ref(), f).await,
            Some(addrs),
        ),
    }
}

/// What `--nameserver` says: its line for the detail, and its addresses
/// when it answered with some (NXDOMAIN counts as an empty answer).
struct Chosen {
    line: String,
    ips: Option<Vec<IpAddr>>,
}

async fn ask(server: Option<SocketAddr>, host: &str, timeout: Duration) -> Option<Chosen> {
    let server = server?;
    let answer = dns::query_a(server, host, timeout).await;
    let said = answer
        .as_ref()
        .map_or_else(Clone::clone, ToString::to_string);
    let ips = match answer {
        Ok(Answer::Addresses { ips, .. }) => Some(ips.into_iter().map(IpAddr::V4).collect()),
        Ok(Answer::NxDomain | Answer::NoData) => Some(Vec::new()),
        _ => None,
    };
    Some(Chosen {
        line: format!("nameserver {server} says: {said}"),
        ips,
    })
}

/// What the system's nameserver (first of /etc/resolv.conf) says.
async fn ask_system(ctx: &Ctx<'_>, host: &str) -> Option<(SocketAddr, Result<Answer, String>)> {
    let server = dns::system_nameserver()?;
    if ctx.opts.nameserver == Some(server) {
        return None;
    }
    let timeout = ctx.layer_timeout().min(Duration::from_secs(2));
    Some((server, dns::query_a(server, host, timeout).await))
}

fn list(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

async fn failed(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    failure: &ResolveFailure,
    chosen: Option<&Chosen>,
) -> Check {
    let mut detail = format!("getaddrinfo (what libpq uses): {failure}");
    if let Some((server, answer)) = ask_system(ctx, &ep.host).await {
        let said = answer.map_or_else(|e| e, |a| a.to_string());
        let _ = write!(detail, "; nameserver {server} (resolv.conf) says: {said}");
    }
    if let Some(chosen) = chosen {
        let _ = write!(detail, "; {}", chosen.line);
    }
    let expected = ep
        .ip
        .map(|ip| format!(" The catalog expects {ip}: `--pin-ip` on url/env/psql connects to it and still verifies the name."))
        .unwrap_or_default();
    let (summary, hint) = match failure {
        ResolveFailure::NotFound(_) => (
            format!(
                "{} does not resolve (no such name for this machine's resolver)",
                ep.host
            ),
            format!(
                "check the name (the catalog's domain and hostname_template), and whether it needs a VPN or an internal DNS (split horizon); compare with --nameserver IP.{expected}"
            ),
        ),
        ResolveFailure::Temporary(_) | ResolveFailure::TimedOut => (
            format!(
                "{} could not be resolved: the resolver did not answer",
                ep.host
            ),
            format!("check the network, VPN and /etc/resolv.conf.{expected}"),
        ),
        ResolveFailure::Other(_) => (
            format!("{} could not be resolved", ep.host),
            format!("see the detail for the resolver's words.{expected}"),
        ),
    };
    Check::fail(CheckId::Dns, summary).detail(detail).hint(hint)
}

async fn resolved(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    addrs: &[IpAddr],
    chosen: Option<&Chosen>,
    f: &mut Findings,
) -> Check {
    let got = list(addrs);
    let mut detail = format!("getaddrinfo (what libpq uses): {got}");
    if let Some(chosen) = chosen {
        let _ = write!(detail, "; {}", chosen.line);
    }
    // only IPv4 is asked directly: compare the IPv4 answers
    let v4: Vec<IpAddr> = addrs.iter().copied().filter(IpAddr::is_ipv4).collect();
    let chosen_differs = chosen
        .and_then(|c| c.ips.as_ref())
        .is_some_and(|ips| ips.len() != v4.len() || v4.iter().any(|a| !ips.contains(a)));
    match ep.ip {
        Some(expected) if !addrs.contains(&expected) => {
            f.dns_mismatch = Some((addrs.to_vec(), expected));
            mismatch(ctx, ep, &got, expected, detail, &f.label).await
        }
        Some(expected) if chosen_differs => Check::warn(
            CheckId::Dns,
            format!("resolves to {got} as the catalog expects, but the chosen nameserver answers differently"),
        )
        .detail(detail)
        .hint(format!("split-horizon DNS or a stale record: clients using that resolver do not reach {expected}")),
        Some(_) => Check::ok(CheckId::Dns, format!("resolves to {got}, as the catalog expects")).detail(detail),
        None => Check::ok(CheckId::Dns, format!("resolves to {got} (the catalog names no IP to compare)")).detail(detail),
    }
}

async fn mismatch(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    got: &str,
    expected: IpAddr,
    mut detail: String,
    label: &str,
) -> Check {
    let mut cause = "a stale or wrong DNS record, a split-horizon resolver, or a hosts-file entry";
    if let Some((server, answer)) = ask_system(ctx, &ep.host).await {
        let said = answer
            .as_ref()
            .map_or_else(Clone::clone, ToString::to_string);
        let _ = write!(detail, "; nameserver {server} (resolv.conf) says: {said}");
        if let Ok(Answer::Addresses { ips, .. }) = &answer
            && ips.iter().any(|ip| IpAddr::V4(*ip) == expected)
        {
            cause = "the DNS server has the expected address, so something local answers first (/etc/hosts, nscd or a systemd-resolved cache)";
        } else {
            cause = "the DNS record itself differs from the catalog (stale record, wrong record, or split-horizon DNS)";
        }
    }
    Check::warn(
        CheckId::Dns,
        format!("resolves to {got}, but the catalog expects {expected}"),
    )
    .detail(detail)
    .hint(format!(
        "{cause}; if the catalog is right, `pgconn url {} --pin-ip` connects to {expected} and still verifies the name",
        url_args(label)
    ))
}

/// `cluster role` → `cluster --role`, for commands in hints.
pub fn url_args(label: &str) -> String {
    match label.split_once(' ') {
        Some((cluster, role)) => format!("{cluster} --{role}"),
        None => label.to_string(),
    }
}
