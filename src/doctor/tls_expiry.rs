//! Check `tls.expiry`: days left on the server certificate; warn under 14,
//! fail when expired (or not yet valid).

use std::time::{SystemTime, UNIX_EPOCH};

use super::Check;
use super::sheet::CheckId;
use crate::tls::cert::CertFacts;

/// Fewer days left than this is a warning.
pub const WARN_DAYS: i64 = 14;

/// Runs the check.
pub fn run(facts: Result<&CertFacts, &String>, now: SystemTime) -> Check {
    let f = match facts {
        Ok(f) => f,
        Err(e) => {
            return Check::fail(
                CheckId::TlsExpiry,
                format!("the certificate cannot be read: {e}"),
            );
        }
    };
    let days = f.days_left(now);
    let until = &f.not_after_text;
    let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let subject = f.subject_cn.as_deref().unwrap_or("the server certificate");
    let check = if f.not_before > now_secs {
        Check::fail(CheckId::TlsExpiry, "the certificate is not valid yet")
            .hint("the server's certificate starts in the future, or this machine's clock is behind: check both")
    } else if days < 0 {
        Check::fail(CheckId::TlsExpiry, format!("the certificate expired {} day(s) ago ({until})", -days))
            .hint("renew the server certificate (cert-manager, ACME, the DBA); until then every verifying client fails, and libpq says only \"certificate verify failed\"")
    } else if days < WARN_DAYS {
        Check::warn(
            CheckId::TlsExpiry,
            format!("the certificate expires in {days} day(s) ({until})"),
        )
        .hint(format!(
            "renew it before {until}: after that every verifying client fails"
        ))
    } else {
        Check::ok(
            CheckId::TlsExpiry,
            format!("valid for {days} more days (until {until})"),
        )
    };
    check.detail(format!("leaf: {subject}"))
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::doctor::Status;
    use crate::tls::cert::CertFacts;
    use std::time::{Duration, UNIX_EPOCH};

    fn facts(not_before: u64, not_after: u64) -> CertFacts {
        CertFacts {
            subject_cn: Some("x".into()),
            issuer_cn: None,
            dns_names: vec![],
            ip_names: vec![],
            not_before,
            not_after,
            not_after_text: "then".into(),
        }
    }

    #[test]
    fn days_left_decide_the_status() {
        let day = 86_400;
        let now = UNIX_EPOCH + Duration::from_secs(1000 * day);
        assert_eq!(run(Ok(&facts(0, 1100 * day)), now).status, Status::Ok);
        assert_eq!(run(Ok(&facts(0, 1007 * day)), now).status, Status::Warn);
        assert_eq!(run(Ok(&facts(0, 999 * day)), now).status, Status::Fail);
        assert_eq!(
            run(Ok(&facts(1001 * day, 1100 * day)), now).status,
            Status::Fail
        );
        assert!(
            run(Ok(&facts(0, 999 * day)), now)
                .summary
                .contains("expired 1 day(s) ago")
        );
    }
}
