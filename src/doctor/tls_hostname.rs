//! Check `tls.hostname`: does the certificate name the host clients
//! connect to? Lists the names it does carry; connecting by IP gets its own
//! hint.

use std::net::IpAddr;

use super::sheet::CheckId;
use super::{Check, Status, tls_chain};
use crate::catalog::{Endpoint, SslMode};
use crate::tls::cert::{CertFacts, verify_name};
use crate::tls::probe::Handshake;

/// Runs the check.
pub fn run(ep: &Endpoint, hs: &Handshake, facts: Result<&CertFacts, &String>) -> Check {
    let Some(leaf) = hs.chain.first() else {
        return Check::fail(CheckId::TlsHostname, "the server sent no certificate");
    };
    let names = facts.map_or_else(
        |e| format!("(unreadable certificate: {e})"),
        |f| f.names().join(", "),
    );
    let check = match verify_name(leaf, &ep.host) {
        Ok(()) => Check::ok(
            CheckId::TlsHostname,
            format!("the certificate names {}", ep.host),
        ),
        Err(_) => Check::fail(
            CheckId::TlsHostname,
            format!(
                "the certificate does not name {}; it names: {names}",
                ep.host
            ),
        )
        .hint(mismatch_hint(ep)),
    };
    let check = check.detail(format!("names in the certificate: {names}"));
    if check.status == Status::Fail && ep.sslmode != SslMode::VerifyFull {
        return soften(ep, check);
    }
    check
}

fn mismatch_hint(ep: &Endpoint) -> String {
    if ep.host.parse::<IpAddr>().is_ok() {
        return "the endpoint is addressed by IP, and certificates name hosts: set the catalog's host to a name the certificate carries; `--pin-ip` then connects to the IP while verifying the name".into();
    }
    format!(
        "the server presents a certificate for other names: it needs one whose subjectAltName includes {} (or the catalog's host is wrong). verify-ca would connect, but then any certificate of that CA would do",
        ep.host
    )
}

/// verify-ca and weaker do not check names: a mismatch is only a warning.
fn soften(ep: &Endpoint, check: Check) -> Check {
    let mut c = tls_chain::relax_unverified(ep, check);
    if c.status == Status::Fail {
        c.status = Status::Warn;
        c.hint = format!(
            "sslmode={} does not check names, so clients connect; {}",
            ep.sslmode.as_str(),
            c.hint
        );
    }
    c
}
