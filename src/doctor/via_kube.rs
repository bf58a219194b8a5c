//! `doctor --via kube`, and the hint towards it. Through a tunnel, `dns`
//! and `tcp` concern the tunnel's local end (the name is not resolved; TLS
//! still verifies it) and `allowlist` does not apply (the server sees the
//! cluster's inside); TLS, login, routing, pooler and lag are the server's
//! own. When `tcp` or `allowlist` fails on an endpoint whose Service is
//! known, the hint names `--via kube`.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::net::TcpStream;

use super::sheet::{CheckId, Sheet};
use super::{Check, Ctx, Outcome, Status};
use crate::catalog::Role;
use crate::net::tcp;

/// An endpoint's tunnel, opened by the caller before the checks run.
#[derive(Debug, Clone)]
pub struct Tunneled {
    /// The cluster.
    pub cluster: String,
    /// The role.
    pub role: Role,
    /// `NAMESPACE/NAME`, or why there is no tunnel.
    pub service: Result<String, String>,
    /// The tunnel's local address, or why it could not be opened (and what to do).
    pub local: Result<SocketAddr, (String, Option<String>)>,
    /// The port in the pod the tunnel reaches (what the server sees dialled).
    pub pod_port: Option<u16>,
}

/// The `dns` and `tcp` checks of a tunneled endpoint; the stream when the
/// tunnel answers.
pub async fn dial(
    ctx: &Ctx<'_>,
    tunnel: &Tunneled,
    sheet: &mut Sheet,
) -> Option<(TcpStream, SocketAddr)> {
    let started = Instant::now();
    let local = match &tunnel.local {
        Ok(local) => *local,
        Err((why, hint)) => {
            sheet.push_unblocking(Check::skip(
                CheckId::Dns,
                "via kube: the name is not resolved",
            ));
            let check = Check::fail(CheckId::Tcp, format!("via kube: no tunnel: {why}"));
            sheet.push(
                check
                    .hint(hint.as_deref().unwrap_or_default())
                    .took(started),
            );
            return None;
        }
    };
    let service = tunnel.service.as_deref().unwrap_or_default();
    sheet.push_unblocking(
        Check::skip(
            CheckId::Dns,
            format!("via kube: the tunnel to service {service} is dialled at {local}; the name is not resolved (TLS still verifies it)"),
        )
        .took(started),
    );
    match tcp::connect(local, ctx.layer_timeout()).await {
        Ok(stream) => {
            sheet.push(
                Check::ok(
                    CheckId::Tcp,
                    format!("via kube: the tunnel at {local} accepts connections (a port-forward stream to a ready pod of {service})"),
                )
                .took(started),
            );
            Some((stream, local))
        }
        Err(e) => {
            sheet.push(
                Check::fail(
                    CheckId::Tcp,
                    format!("via kube: the tunnel at {local}: {e}"),
                )
                .took(started),
            );
            None
        }
    }
}

/// The `allowlist` verdict through a tunnel: it does not apply.
pub fn allowlist(service: &str) -> Check {
    Check::skip(
        CheckId::Allowlist,
        format!(
            "via kube: the server sees the cluster's inside (service {service}), not your address; the allowlist does not apply to the tunnel"
        ),
    )
}

/// Names `--via kube` in the hint of a failed `tcp` or `allowlist` when the
/// endpoint's Service is known.
pub fn hint_tunnel(outcome: &mut Outcome) {
    let Some(service) = outcome.findings.service.clone() else {
        return;
    };
    if outcome.findings.via.is_some() {
        return;
    }
    let report = &mut outcome.report;
    let suggestion = format!(
        "from outside the allowed networks, go through the Kubernetes API: `pgconn psql {} --{} --via kube` (service {service}; needs `create` on pods/portforward)",
        report.cluster, report.role
    );
    for check in &mut report.checks {
        let relevant = check.id == CheckId::Tcp || check.id == CheckId::Allowlist;
        if relevant && check.status == Status::Fail {
            check.hint = if check.hint.is_empty() {
                suggestion.clone()
            } else {
                format!("{}; or {suggestion}", check.hint)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::EndpointReport;
    use crate::doctor::endpoint::Findings;

    fn outcome(service: Option<&str>, via: Option<&str>) -> Outcome {
        Outcome {
            report: EndpointReport {
                cluster: "temporal-db".into(),
                role: Role::Admin,
                host: "temporal-db-admin.example".into(),
                port: 5432,
                checks: vec![
                    Check::ok(CheckId::Dns, "resolves"),
                    Check::fail(CheckId::Allowlist, "not in the ranges").hint("ask"),
                    Check::ok(CheckId::Tcp, "accepts"),
                ],
            },
            findings: Findings {
                service: service.map(str::to_string),
                via: via.map(str::to_string),
                ..Findings::default()
            },
        }
    }

    #[test]
    fn a_failed_allowlist_with_a_known_service_names_via_kube() {
        let mut o = outcome(Some("temporal/temporal-db"), None);
        hint_tunnel(&mut o);
        let allowlist = &o.report.checks[1];
        assert!(allowlist.hint.starts_with("ask; or "), "{}", allowlist.hint);
        assert!(
            allowlist
                .hint
                .contains("pgconn psql temporal-db --admin --via kube")
        );
        assert!(
            o.report.checks[2].hint.is_empty(),
            "a passing tcp gets no hint"
        );
    }

    #[test]
    fn no_service_or_already_tunneled_means_no_such_hint() {
        for (service, via) in [(None, None), (Some("t/t"), Some("t/t"))] {
            let mut o = outcome(service, via);
            hint_tunnel(&mut o);
            assert_eq!(o.report.checks[1].hint, "ask");
        }
    }
}
