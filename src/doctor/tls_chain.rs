//! Check `tls.chain`: does the certificate chain to the trusted roots of
//! the catalog's `sslrootcert`? Judged apart from the name and from expiry:
//! an expired certificate is re-judged at a moment of its validity, so
//! `tls.expiry` alone reports the expiry.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::CertificateError;

use super::sheet::CheckId;
use super::{Check, Status};
use crate::catalog::Endpoint;
use crate::knowledge;
use crate::tls::cert::{CertFacts, verify_chain};
use crate::tls::probe::Handshake;
use crate::tls::{Roots, TlsError};

/// Runs the check.
pub fn run(
    ep: &Endpoint,
    hs: &Handshake,
    roots: Result<&Roots, &TlsError>,
    facts: Result<&CertFacts, &String>,
    now: SystemTime,
) -> Check {
    let roots = match roots {
        Ok(r) => r,
        Err(e) => {
            return Check::fail(
                CheckId::TlsChain,
                format!("cannot load the trusted roots: {e}"),
            )
            .hint(e.hint().unwrap_or_default());
        }
    };
    let issuer = facts
        .ok()
        .and_then(|f| f.issuer_cn.clone())
        .map_or_else(|| "an unnamed issuer".to_string(), |cn| format!("\"{cn}\""));
    let verdict = match verify_chain(&hs.chain, &roots.store, now) {
        Err(rustls::Error::InvalidCertificate(e)) if is_time_error(&e) => facts
            .ok()
            .map_or(Err(rustls::Error::InvalidCertificate(e)), |f| {
                verify_chain(&hs.chain, &roots.store, within_validity(f))
            }),
        other => other,
    };
    let check = match verdict {
        Ok(()) => Check::ok(
            CheckId::TlsChain,
            format!("chains to a trusted root (issued by {issuer})"),
        ),
        Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {
            let rule = knowledge::rule("tls_untrusted");
            Check::fail(
                CheckId::TlsChain,
                format!("issued by {issuer}, which does not chain to the trusted roots"),
            )
            .hint(format!(
                "{}; libpq reports this only as \"certificate verify failed\"",
                rule.hint
            ))
        }
        Err(e) => Check::fail(CheckId::TlsChain, format!("the chain does not verify: {e}"))
            .hint(knowledge::rule("tls_untrusted").hint),
    };
    let check = check.detail(format!("roots: {}", roots.described));
    relax_unverified(ep, check)
}

fn is_time_error(e: &CertificateError) -> bool {
    matches!(
        e,
        CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. }
    )
}

/// A moment when the leaf is valid: the middle of its validity.
fn within_validity(f: &CertFacts) -> SystemTime {
    let mid = f.not_before / 2 + f.not_after / 2;
    UNIX_EPOCH + Duration::from_secs(mid)
}

/// With an sslmode that does not verify, a bad chain breaks no client:
/// say so as a warning.
pub fn relax_unverified(ep: &Endpoint, check: Check) -> Check {
    if check.status == Status::Fail && !ep.sslmode.verifies_chain() {
        let mut c = check;
        c.status = Status::Warn;
        c.hint = format!(
            "clients of this endpoint use sslmode={} and do not verify, so they connect anyway (and cannot detect an impostor): {}",
            ep.sslmode.as_str(),
            c.hint
        );
        return c;
    }
    check
}
