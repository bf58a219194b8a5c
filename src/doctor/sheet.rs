//! The check ids in layer order, and the [`Sheet`] that collects one
//! endpoint's checks and enforces the sequencing rule: after a failed layer
//! the later ones are `skip`, saying which layer failed.

use super::{Check, Status};

/// The check ids of the contract, in layer order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckId {
    /// Name resolution.
    Dns,
    /// TCP connect.
    Tcp,
    /// Egress IP against the allowlist.
    Allowlist,
    /// `SSLRequest` answered `S`, handshake done.
    TlsNegotiate,
    /// Chain to the trusted roots.
    TlsChain,
    /// Certificate names the host.
    TlsHostname,
    /// Days left.
    TlsExpiry,
    /// Startup and password.
    Auth,
    /// Primary/replica.
    Routing,
    /// Pooler and mode.
    Pooler,
    /// Replication lag.
    Lag,
}

impl CheckId {
    /// Every id in layer order.
    pub const ALL: [CheckId; 11] = [
        CheckId::Dns,
        CheckId::Tcp,
        CheckId::Allowlist,
        CheckId::TlsNegotiate,
        CheckId::TlsChain,
        CheckId::TlsHostname,
        CheckId::TlsExpiry,
        CheckId::Auth,
        CheckId::Routing,
        CheckId::Pooler,
        CheckId::Lag,
    ];

    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Dns => "dns",
            CheckId::Tcp => "tcp",
            CheckId::Allowlist => "allowlist",
            CheckId::TlsNegotiate => "tls.negotiate",
            CheckId::TlsChain => "tls.chain",
            CheckId::TlsHostname => "tls.hostname",
            CheckId::TlsExpiry => "tls.expiry",
            CheckId::Auth => "auth",
            CheckId::Routing => "routing",
            CheckId::Pooler => "pooler",
            CheckId::Lag => "lag",
        }
    }
}

/// One endpoint's checks, in order.
#[derive(Debug, Default)]
pub struct Sheet {
    checks: Vec<Check>,
    blocked: Option<String>,
}

impl Sheet {
    /// Whether `id` may run; if not, records it as `skip` with the reason.
    pub fn gate(&mut self, id: CheckId) -> bool {
        match &self.blocked {
            Some(reason) => {
                let skip = Check::skip(id, format!("not checked: {reason}"));
                self.checks.push(skip);
                false
            }
            None => true,
        }
    }

    /// Records a check; a failure blocks the layers after it.
    pub fn push(&mut self, check: Check) {
        self.block_on_failure(std::slice::from_ref(&check));
        self.checks.push(check);
    }

    /// Records checks of one layer (the TLS facets): each is judged on its
    /// own, and any failure among them blocks the layers after.
    pub fn push_group(&mut self, checks: Vec<Check>) {
        self.block_on_failure(&checks);
        self.checks.extend(checks);
    }

    /// Records a check that never blocks (allowlist).
    pub fn push_unblocking(&mut self, check: Check) {
        self.checks.push(check);
    }

    /// Blocks the later layers for a reason of the caller's.
    pub fn block(&mut self, reason: impl Into<String>) {
        self.blocked.get_or_insert_with(|| reason.into());
    }

    fn block_on_failure(&mut self, checks: &[Check]) {
        if let Some(failed) = checks.iter().find(|c| c.status == Status::Fail) {
            self.block(format!("{} failed", failed.id));
        }
    }

    /// Whether a layer failed.
    pub fn is_blocked(&self) -> bool {
        self.blocked.is_some()
    }

    /// Records every id without a check as `skip` (saying which layer
    /// failed) and puts the checks in layer order.
    pub fn fill_missing(&mut self) {
        let reason = format!(
            "not checked: {}",
            self.blocked
                .as_deref()
                .unwrap_or("an earlier layer did not complete")
        );
        for id in CheckId::ALL {
            if !self.checks.iter().any(|c| c.id == id.as_str()) {
                self.checks.push(Check::skip(id, &reason));
            }
        }
        self.checks.sort_by_key(|c| {
            CheckId::ALL
                .iter()
                .position(|id| id.as_str() == c.id)
                .unwrap_or(usize::MAX)
        });
    }

    /// The checks.
    pub fn into_checks(self) -> Vec<Check> {
        self.checks
    }
}

#[cfg(test)]
mod tests {
    use super::{CheckId, Sheet};
    use crate::doctor::{Check, Status};

    #[test]
    fn a_failure_skips_the_layers_after_it() {
        let mut s = Sheet::default();
        assert!(s.gate(CheckId::Dns));
        s.push(Check::ok(CheckId::Dns, "resolves"));
        assert!(s.gate(CheckId::Tcp));
        s.push(Check::fail(CheckId::Tcp, "refused"));
        s.push_unblocking(Check::ok(CheckId::Allowlist, "in range"));
        assert!(!s.gate(CheckId::TlsNegotiate));
        assert!(!s.gate(CheckId::Auth));
        let checks = s.into_checks();
        let statuses: Vec<_> = checks.iter().map(|c| (c.id, c.status)).collect();
        assert_eq!(
            statuses,
            [
                ("dns", Status::Ok),
                ("tcp", Status::Fail),
                ("allowlist", Status::Ok),
                ("tls.negotiate", Status::Skip),
                ("auth", Status::Skip),
            ]
        );
        assert_eq!(checks[3].summary, "not checked: tcp failed");
    }

    #[test]
    fn tls_facets_are_judged_together() {
        let mut s = Sheet::default();
        s.push_group(vec![
            Check::fail(CheckId::TlsChain, "untrusted"),
            Check::ok(CheckId::TlsHostname, "names it"),
            Check::ok(CheckId::TlsExpiry, "valid"),
        ]);
        assert!(!s.gate(CheckId::Auth));
        let checks = s.into_checks();
        assert_eq!(
            checks[1].status,
            Status::Ok,
            "a facet does not skip its siblings"
        );
        assert_eq!(checks[3].summary, "not checked: tls.chain failed");
    }

    #[test]
    fn missing_checks_are_filled_in_layer_order() {
        let mut s = Sheet::default();
        s.push(Check::ok(CheckId::Tcp, "x"));
        s.push(Check::ok(CheckId::Dns, "x"));
        s.fill_missing();
        let ids: Vec<_> = s.into_checks().iter().map(|c| c.id).collect();
        let want: Vec<_> = CheckId::ALL.iter().map(|i| i.as_str()).collect();
        assert_eq!(ids, want);
    }
}
