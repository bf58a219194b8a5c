//! One knowledge base of PostgreSQL connection errors, shared by `doctor`
//! (to explain what a server or the network said) and `explain` (to
//! classify what any driver printed): libpq/psql, psycopg, asyncpg, pgjdbc,
//! node-postgres, pgx/lib/pq, Npgsql, Prisma, sqlx, Rails and PgBouncer.
//!
//! A message is matched against [`rules::RULES`] in order (specific before
//! general); failing that, against the SQLSTATE (given, or found in the
//! text). Text that matches nothing is [`Category::Unknown`]: no guess is
//! presented as certain. Ambiguous messages that *are* known (libpq's
//! "server closed the connection unexpectedly") stay `unknown` too, with a
//! summary that says what it may be.

pub mod advice;
mod facts;
pub mod rules;
mod sanitize;

use std::fmt;

use serde::Serialize;

pub use facts::Facts;
pub use rules::Rule;
pub use sanitize::{sanitize, sanitize_lines, sanitize_redacted};

/// What an error is about: a doctor check id, or one of the extra
/// categories of the CLI contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Name resolution.
    Dns,
    /// TCP connect.
    Tcp,
    /// Source-IP allowlist.
    Allowlist,
    /// The server does not do TLS (or the client did not).
    TlsNegotiate,
    /// The certificate does not chain to a trusted root.
    TlsChain,
    /// The certificate does not name the host.
    TlsHostname,
    /// The certificate expired.
    TlsExpiry,
    /// Startup and password exchange.
    Auth,
    /// Primary/replica routing.
    Routing,
    /// Pooler behaviour.
    Pooler,
    /// Replication lag.
    Lag,
    /// The database does not exist.
    Database,
    /// The role does not exist.
    Role,
    /// No connection slot left.
    TooManyConnections,
    /// Named prepared statements through a transaction pooler.
    PreparedStatement,
    /// A write sent to a read-only server or session.
    ReadOnly,
    /// A startup parameter the pooler does not accept.
    StartupParameter,
    /// A query on a replica cancelled by replay.
    RecoveryConflict,
    /// SCRAM channel binding required but not offered.
    ChannelBinding,
    /// Not recognised, or too ambiguous to name.
    Unknown,
}

impl Category {
    /// Every category, in contract order.
    pub const ALL: [Category; 20] = [
        Category::Dns,
        Category::Tcp,
        Category::Allowlist,
        Category::TlsNegotiate,
        Category::TlsChain,
        Category::TlsHostname,
        Category::TlsExpiry,
        Category::Auth,
        Category::Routing,
        Category::Pooler,
        Category::Lag,
        Category::Database,
        Category::Role,
        Category::TooManyConnections,
        Category::PreparedStatement,
        Category::ReadOnly,
        Category::StartupParameter,
        Category::RecoveryConflict,
        Category::ChannelBinding,
        Category::Unknown,
    ];

    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Dns => "dns",
            Category::Tcp => "tcp",
            Category::Allowlist => "allowlist",
            Category::TlsNegotiate => "tls.negotiate",
            Category::TlsChain => "tls.chain",
            Category::TlsHostname => "tls.hostname",
            Category::TlsExpiry => "tls.expiry",
            Category::Auth => "auth",
            Category::Routing => "routing",
            Category::Pooler => "pooler",
            Category::Lag => "lag",
            Category::Database => "database",
            Category::Role => "role",
            Category::TooManyConnections => "too_many_connections",
            Category::PreparedStatement => "prepared_statement",
            Category::ReadOnly => "read_only",
            Category::StartupParameter => "startup_parameter",
            Category::RecoveryConflict => "recovery_conflict",
            Category::ChannelBinding => "channel_binding",
            Category::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A classified message: what it is about, what it means, what to do.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// The category.
    pub category: Category,
    /// What it means, with the names the message carried.
    pub summary: String,
    /// What to do.
    pub hint: String,
    /// The rule that matched (`None`: unknown).
    #[serde(skip)]
    pub rule: Option<&'static str>,
    /// Names and addresses found in the message.
    #[serde(skip)]
    pub facts: Facts,
}

/// The summary and hint for text nothing matched.
const UNKNOWN_SUMMARY: &str = "pgconn does not recognise this message";
const UNKNOWN_HINT: &str = "run `pgconn doctor CLUSTER` to check every layer of the endpoint \
    (DNS, TCP, allowlist, TLS, login, routing, pooler)";

/// Classifies an error message; `sqlstate` when the caller has it apart.
pub fn classify(text: &str, sqlstate: Option<&str>) -> Diagnosis {
    let lower = text.to_lowercase();
    let facts = Facts::extract(text);
    let code = sqlstate
        .map(str::to_ascii_uppercase)
        .or_else(|| facts.sqlstate.clone());
    let rule = rules::RULES
        .iter()
        .find(|r| r.matches_text(&lower))
        .or_else(|| {
            let code = code.as_deref()?;
            rules::RULES.iter().find(|r| r.codes.contains(&code))
        });
    match rule {
        Some(rule) => diagnosis(rule, facts),
        None => Diagnosis {
            category: Category::Unknown,
            summary: UNKNOWN_SUMMARY.into(),
            hint: UNKNOWN_HINT.into(),
            rule: None,
            facts,
        },
    }
}

/// The diagnosis a rule gives for the facts of one message.
pub fn diagnosis(rule: &'static Rule, facts: Facts) -> Diagnosis {
    Diagnosis {
        category: rule.category,
        summary: facts.fill(rule.summary),
        hint: facts.fill(rule.hint),
        rule: Some(rule.id),
        facts,
    }
}

/// A rule by id, for doctor checks that know what happened without a
/// message to match (e.g. the server answered `N` to the `SSLRequest`).
///
/// # Panics
/// When no rule has that id: ids are constants of this crate, so that is a
/// programming error caught by the tests.
pub fn rule(id: &str) -> &'static Rule {
    rules::RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no knowledge rule `{id}`"))
}

#[cfg(test)]
mod tests;
