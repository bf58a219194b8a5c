//! Check `allowlist`: the client's egress IP against the endpoint's
//! `allowed_source_ranges`. Judged after all endpoints ran, because the
//! egress IP comes from `--egress-ip`, from a direct server that reported
//! `inet_client_addr()`, or from an echo service the user configured
//! (`--echo-url`); never from a third-party website pgconn picked itself.

use std::net::IpAddr;

use super::endpoint::Findings;
use super::sheet::CheckId;
use super::{Check, Outcome};

/// The egress IP and how it was learnt.
#[derive(Debug, Clone)]
pub struct Egress {
    /// The address.
    pub ip: Option<IpAddr>,
    /// `--egress-ip`, `inet_client_addr() on CLUSTER ROLE`, or `unknown`.
    pub source: String,
}

/// The egress IP: the flag, else what a direct server saw, else what the
/// configured echo service said.
pub fn egress(outcomes: &[Outcome], flag: Option<IpAddr>, echoed: Option<Egress>) -> Egress {
    if let Some(ip) = flag {
        return Egress {
            ip: Some(ip),
            source: "--egress-ip".into(),
        };
    }
    outcomes
        .iter()
        .find_map(|o| {
            let f = &o.findings;
            f.egress.filter(|_| f.direct).map(|ip| Egress {
                ip: Some(ip),
                source: format!("{} of {}", f.egress_via, f.label),
            })
        })
        .or(echoed)
        .unwrap_or(Egress {
            ip: None,
            source: "unknown".into(),
        })
}

/// Replaces the endpoint's allowlist placeholder with the verdict.
pub fn judge(outcome: &mut Outcome, egress: &Egress) {
    let check = verdict(&outcome.findings, egress);
    let checks = &mut outcome.report.checks;
    match checks.iter_mut().find(|c| c.id == CheckId::Allowlist) {
        Some(slot) => *slot = check,
        None => checks.insert(2.min(checks.len()), check),
    }
}

fn verdict(f: &Findings, egress: &Egress) -> Check {
    if let Some(service) = &f.via {
        return super::via_kube::allowlist(service);
    }
    let Some(ranges) = &f.ranges else {
        return Check::skip(
            CheckId::Allowlist,
            "the catalog lists no allowed_source_ranges for this endpoint",
        );
    };
    let listed = ranges
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let Some(ip) = egress.ip else {
        return Check::warn(CheckId::Allowlist, format!("your egress IP is unknown, so the allowlist ({listed}) cannot be judged"))
            .hint("pass --egress-ip IP, or --echo-url http://… (an IP echo service you trust); doctor learns it by itself when a direct (admin) endpoint lets you log in");
    };
    let from = &egress.source;
    match ranges.iter().find(|r| r.contains(&ip)) {
        Some(range) if f.dropped => Check::warn(
            CheckId::Allowlist,
            format!("the catalog admits {ip} ({range}), yet this port drops packets"),
        )
        .detail(format!("egress IP from {from}"))
        .hint("the live allowlist (the Service's loadBalancerSourceRanges or a firewall) differs from the catalog: compare them, and have this address admitted"),
        Some(range) => Check::ok(CheckId::Allowlist, format!("{ip} is in {range}")).detail(format!("egress IP from {from}")),
        None => Check::fail(CheckId::Allowlist, format!("{ip} is not in the allowed ranges ({listed})"))
            .detail(format!("egress IP from {from}"))
            .hint(format!("connect from an allowed network (VPN, bastion), or ask for {ip} to be added to the endpoint's allowed_source_ranges")),
    }
}

#[cfg(test)]
mod tests {
    use super::{Egress, verdict};
    use crate::doctor::Status;
    use crate::doctor::endpoint::Findings;

    fn findings(ranges: Option<&str>, dropped: bool) -> Findings {
        Findings {
            ranges: ranges.map(|r| vec![r.parse().unwrap()]),
            dropped,
            ..Findings::default()
        }
    }

    fn egress(ip: Option<&str>) -> Egress {
        Egress {
            ip: ip.map(|i| i.parse().unwrap()),
            source: "test".into(),
        }
    }

    #[test]
    fn egress_is_judged_against_ranges() {
        let ok = verdict(
            &findings(Some("10.0.0.0/8"), false),
            &egress(Some("10.1.2.3")),
        );
        assert_eq!(ok.status, Status::Ok);
        let out = verdict(
            &findings(Some("10.0.0.0/8"), false),
            &egress(Some("192.0.2.1")),
        );
        assert_eq!(out.status, Status::Fail);
        let unknown = verdict(&findings(Some("10.0.0.0/8"), false), &egress(None));
        assert_eq!(unknown.status, Status::Warn);
        let none = verdict(&findings(None, false), &egress(Some("10.1.2.3")));
        assert_eq!(none.status, Status::Skip);
        let dropped = verdict(
            &findings(Some("10.0.0.0/8"), true),
            &egress(Some("10.1.2.3")),
        );
        assert_eq!(
            dropped.status,
            Status::Warn,
            "the catalog admits it but the port drops"
        );
    }
}
