//! One endpoint, layer by layer, near the cost of one connection: DNS, TCP,
//! TLS (negotiate, then chain, host name and expiry on the certificate
//! seen), the login on that same connection, then one probe query for
//! routing, pooler and lag. On an endpoint the catalog says is pooled, the
//! pool-mode probe's session logs in alongside. The allowlist is judged
//! later, once the egress IP is known.

use std::net::{IpAddr, SocketAddr};
use std::time::{Instant, SystemTime};

use ipnet::IpNet;
use tokio::net::TcpStream;

use super::session::{Checked, Login, Session, SessionError, Tls};
use super::sheet::{CheckId, Sheet};
use super::{
    Check, CredFuture, Ctx, EndpointReport, Outcome, auth, dns, lag, pooler, probe, routing, tcp,
    tls_chain, tls_expiry, tls_hostname, tls_negotiate, via_kube,
};
use crate::catalog::{Endpoint, PoolerKind, SslMode};
use crate::target::Target;
use crate::tls::{self, Roots, TlsError};

/// What one endpoint's checks learnt that others need.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// `cluster role`, for messages.
    pub label: String,
    /// The catalog's allowlist.
    pub ranges: Option<Vec<IpNet>>,
    /// Whether the endpoint is direct (its server sees the client's address).
    pub direct: bool,
    /// The client address the server reported.
    pub egress: Option<IpAddr>,
    /// How the server reported it (`inet_client_addr()`, a `pg_hba` message).
    pub egress_via: &'static str,
    /// TCP timed out (packets dropped).
    pub dropped: bool,
    /// DNS answered, but not with the catalog's IP: (answer, expected).
    pub dns_mismatch: Option<(Vec<IpAddr>, IpAddr)>,
    /// The endpoint's in-cluster Service, when the catalog names it.
    pub service: Option<String>,
    /// `--via kube`: checked through a tunnel to this Service.
    pub via: Option<String>,
}

/// Checks one endpoint.
pub async fn check(ctx: &Ctx<'_>, target: &Target<'_>, cred: CredFuture) -> Outcome {
    let ep = target.endpoint;
    let mut findings = Findings {
        label: format!("{} {}", target.cluster.name, ep.role),
        ranges: ep.allowed_source_ranges.clone(),
        direct: !ep.pooled,
        service: ep.service.as_ref().map(ToString::to_string),
        ..Findings::default()
    };
    if let Some(tunnel) = ctx.opts.tunnel_for(target) {
        // the server sees the cluster's inside: not this client's egress
        findings.direct = false;
        findings.via = Some(tunnel.service.clone().unwrap_or_else(|_| "none".into()));
    }
    let mut sheet = Sheet::default();
    layers(ctx, target, cred, &mut sheet, &mut findings).await;
    sheet.fill_missing();
    Outcome {
        report: EndpointReport {
            cluster: target.cluster.name.clone(),
            role: ep.role,
            host: ep.host.clone(),
            port: ep.port,
            checks: sheet.into_checks(),
        },
        findings,
    }
}

/// Whether layer `id` may run: no earlier failure and time left.
fn ready(ctx: &Ctx<'_>, sheet: &mut Sheet, id: CheckId) -> bool {
    if tokio::time::Instant::now() >= ctx.deadline {
        sheet.block(format!(
            "the run's time budget ({} s) ran out",
            ctx.opts.run_budget().as_secs()
        ));
    }
    let layer = |id: CheckId| CheckId::ALL.iter().position(|other| *other == id);
    if let Some(last) = ctx.opts.last_layer.filter(|last| layer(id) > layer(*last)) {
        sheet.block(format!(
            "only the layers up to {} were asked for",
            last.as_str()
        ));
    }
    sheet.gate(id)
}

async fn layers(
    ctx: &Ctx<'_>,
    target: &Target<'_>,
    cred: CredFuture,
    sheet: &mut Sheet,
    f: &mut Findings,
) {
    let ep = target.endpoint;
    let Some((stream, addr)) = (match ctx.opts.tunnel_for(target) {
        Some(tunnel) => via_kube::dial(ctx, tunnel, sheet).await,
        None => direct(ctx, ep, sheet, f).await,
    }) else {
        return;
    };
    let roots = tls::load_roots(&ep.sslrootcert);
    let mut spare = spare_session(ctx, target, addr, roots.as_ref().ok(), cred.clone());
    let checked = spare
        .alongside(tls_layers(ctx, ep, stream, roots.as_ref(), sheet))
        .await;
    let Some(checked) = checked else { return };
    let Some(session) = spare
        .alongside(login(
            ctx,
            target,
            (addr, checked),
            roots.as_ref().ok(),
            cred,
            sheet,
            f,
        ))
        .await
    else {
        return;
    };
    after_login(ctx, target, &session, &mut spare, sheet, f).await;
}

/// On an endpoint the catalog says is pooled, a second session for the
/// pool-mode probe logs in alongside the first (its own TLS verified by
/// rustls as the sslmode says), so the probe costs no login round trips.
fn spare_session<'a>(
    ctx: &'a Ctx<'_>,
    target: &'a Target<'_>,
    addr: SocketAddr,
    roots: Option<&'a Roots>,
    cred: CredFuture,
) -> pooler::Spare<'a> {
    let ep = target.endpoint;
    // `wait` stops before `pooler`: no pool-mode probe to open a session for
    let pooler_runs = ctx
        .opts
        .last_layer
        .is_none_or(|last| last == CheckId::Pooler || last == CheckId::Lag);
    if !pooler_runs || !ep.pooled || target.cluster.pooler.kind == PoolerKind::None {
        return pooler::Spare::Idle;
    }
    pooler::Spare::opening(async move {
        let timeout = ctx.layer_timeout();
        let tls = Tls::for_mode(ep.sslmode, roots).map_err(|_| SessionError::Timeout(timeout))?;
        let cred = cred.await.map_err(|_| SessionError::Timeout(timeout))?;
        let cred = cred
            .as_ref()
            .as_ref()
            .map_err(|_| SessionError::Timeout(timeout))?;
        let database = target.database.clone().unwrap_or_else(|| cred.user.clone());
        let login = Login {
            host: &ep.host,
            addr,
            user: &cred.user,
            password: cred.password.expose(),
            database: &database,
        };
        Session::open(&login, tls, timeout).await
    })
}

/// `dns` then `tcp` on the endpoint itself; the stream when both passed.
async fn direct(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    sheet: &mut Sheet,
    f: &mut Findings,
) -> Option<(TcpStream, SocketAddr)> {
    if !ready(ctx, sheet, CheckId::Dns) {
        return None;
    }
    let started = Instant::now();
    let (check, addrs) = dns::run(ctx, ep, f).await;
    sheet.push(check.took(started));
    let addrs = addrs?;
    if !ready(ctx, sheet, CheckId::Tcp) {
        return None;
    }
    let started = Instant::now();
    let (check, connected) = tcp::run(ctx, ep, &addrs, f).await;
    sheet.push(check.took(started));
    connected
}

/// tls.negotiate, then the three facets of the certificate; the connection
/// when login may follow on it.
async fn tls_layers(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    stream: TcpStream,
    roots: Result<&Roots, &TlsError>,
    sheet: &mut Sheet,
) -> Option<Checked> {
    if ep.sslmode == SslMode::Disable {
        for id in [
            CheckId::TlsNegotiate,
            CheckId::TlsChain,
            CheckId::TlsHostname,
            CheckId::TlsExpiry,
        ] {
            sheet.push_unblocking(Check::skip(
                id,
                "sslmode=disable: this endpoint does not use TLS",
            ));
        }
        return Some(Checked::Plain(stream));
    }
    if !ready(ctx, sheet, CheckId::TlsNegotiate) {
        return None;
    }
    let started = Instant::now();
    let (check, established) = tls_negotiate::run(ctx, ep, stream).await;
    sheet.push(check.took(started));
    let (handshake, tls_stream) = established?;
    let started = Instant::now();
    let facts = handshake
        .chain
        .first()
        .ok_or_else(|| "the server sent no certificate".to_string())
        .and_then(tls::cert::facts);
    let now = SystemTime::now();
    let group = vec![
        tls_chain::run(ep, &handshake, roots, facts.as_ref(), now).took(started),
        tls_hostname::run(ep, &handshake, facts.as_ref()).took(started),
        tls_expiry::run(facts.as_ref(), now).took(started),
    ];
    sheet.push_group(group);
    // the certificate passed as far as this sslmode asks: the login may use
    // this very connection (a failure above blocks it)
    (!sheet.is_blocked()).then(|| Checked::Tls(Box::new(tls_stream)))
}

async fn login(
    ctx: &Ctx<'_>,
    target: &Target<'_>,
    (addr, checked): (SocketAddr, Checked),
    roots: Option<&Roots>,
    cred: CredFuture,
    sheet: &mut Sheet,
    f: &mut Findings,
) -> Option<Session> {
    if !ready(ctx, sheet, CheckId::Auth) {
        return None;
    }
    let started = Instant::now();
    let tls = match Tls::for_mode(target.endpoint.sslmode, roots) {
        Ok(tls) => tls,
        Err(e) => {
            let check = Check::fail(
                CheckId::Auth,
                format!("cannot set up TLS for the login: {e}"),
            );
            sheet.push(check.hint(e.hint().unwrap_or_default()).took(started));
            return None;
        }
    };
    let (check, session) = auth::run(ctx, target, addr, (checked, tls), cred, f).await;
    sheet.push(check.took(started));
    session
}

/// One probe query answers routing, pooler and lag (and the egress IP on a
/// direct server); only the pool-mode probe may add round trips.
async fn after_login(
    ctx: &Ctx<'_>,
    target: &Target<'_>,
    session: &Session,
    spare: &mut pooler::Spare<'_>,
    sheet: &mut Sheet,
    f: &mut Findings,
) {
    if !ready(ctx, sheet, CheckId::Routing) {
        return;
    }
    let started = Instant::now();
    let facts = spare.alongside(probe::ask(ctx, session)).await;
    sheet.push(routing::judge(target, &facts).took(started));
    if !ready(ctx, sheet, CheckId::Pooler) {
        return;
    }
    let pooler_started = Instant::now();
    let (check, found) = pooler::run(ctx, target, session, &facts, spare).await;
    sheet.push(check.took(started.min(pooler_started)));
    if found == pooler::Found::Direct
        && let Ok(facts) = &facts
        && facts.client_addr.is_some()
    {
        f.egress = facts.client_addr;
        f.egress_via = "inet_client_addr()";
    }
    if !ready(ctx, sheet, CheckId::Lag) {
        return;
    }
    sheet.push(lag::run(ctx, target, &facts).took(started));
}
