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

use serde::Serialize;

pub use facts::Facts;
pub use rules::Rule;
pub use sanitize::{sanitize, sanitize_lines, sanitize_redacted};

crate::vocabulary! {
    /// What an error is about: a doctor check id, or one of the extra
    /// categories of the CLI contract.
    pub enum Category {
        /// Name resolution.
        Dns => "dns",
        /// TCP connect.
        Tcp => "tcp",
        /// Source-IP allowlist.
        Allowlist => "allowlist",
        /// The server does not do TLS (or the client did not).
        TlsNegotiate => "tls.negotiate",
        /// The certificate does not chain to a trusted root.
        TlsChain => "tls.chain",
        /// The certificate does not name the host.
        TlsHostname => "tls.hostname",
        /// The certificate expired.
        TlsExpiry => "tls.expiry",
        /// Startup and password exchange.
        Auth => "auth",
        /// Primary/replica routing.
        Routing => "routing",
        /// Pooler behaviour.
        Pooler => "pooler",
        /// Replication lag.
        Lag => "lag",
        /// The database does not exist.
        Database => "database",
        /// The role does not exist.
        Role => "role",
        /// No connection slot left.
        TooManyConnections => "too_many_connections",
        /// Named prepared statements through a transaction pooler.
        PreparedStatement => "prepared_statement",
        /// A write sent to a read-only server or session.
        ReadOnly => "read_only",
        /// A startup parameter the pooler does not accept.
        StartupParameter => "startup_parameter",
        /// A query on a replica cancelled by replay.
        RecoveryConflict => "recovery_conflict",
        /// SCRAM channel binding required but not offered.
        ChannelBinding => "channel_binding",
        /// Not recognised, or too ambiguous to name.
        Unknown => "unknown",
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

impl Diagnosis {
    /// Whether the hint's advice is to run `pgconn doctor` (a hint doctor
    /// itself must not give: it would send the user in a circle).
    pub fn hint_sends_to_doctor(&self) -> bool {
        self.hint.contains("pgconn doctor")
    }
}

/// The summary and hint for text nothing matched.
const UNKNOWN_SUMMARY: &str = "pgconn does not recognise this message";
const UNKNOWN_HINT: &str = "run `pgconn doctor CLUSTER` to check every layer of the endpoint \
    (DNS, TCP, allowlist, TLS, login, routing, pooler)";

/// Classifies an error message; `sqlstate` when the caller has it apart.
pub fn classify(text: &str, sqlstate: Option<&str>) -> Diagnosis {
    classify_facts(text, sqlstate, Facts::extract(text))
}

/// Classifies the refusal of a login whose user and database the caller
/// knows: names the message leaves out (PgBouncer's "no such user") come
/// from there.
pub fn classify_login(text: &str, sqlstate: Option<&str>, user: &str, database: &str) -> Diagnosis {
    let mut facts = Facts::extract(text);
    let known = |v: &str| Some(sanitize(v)).filter(|v| !v.is_empty());
    facts.user = facts.user.or_else(|| known(user));
    facts.role = facts.role.or_else(|| known(user));
    facts.database = facts.database.or_else(|| known(database));
    classify_facts(text, sqlstate, facts)
}

fn classify_facts(text: &str, sqlstate: Option<&str>, facts: Facts) -> Diagnosis {
    let lower = text.to_lowercase();
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
