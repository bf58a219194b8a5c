//! With a catalog at hand, a diagnosis can name the endpoint to use
//! instead: the message is searched for an endpoint's host name (or its
//! IP with its port), and the advice follows the category.

use std::fmt::Write as _;

use crate::catalog::{Catalog, Cluster, Endpoint, Role};

use super::{Category, Diagnosis};

/// An endpoint a message mentions.
#[derive(Debug, Clone, Copy)]
pub struct Mention<'c> {
    /// Its cluster.
    pub cluster: &'c Cluster,
    /// The endpoint.
    pub endpoint: &'c Endpoint,
    /// Whether it was named by IP (not by host name).
    pub by_ip: bool,
}

/// The catalog endpoint the text talks about, if exactly one fits.
pub fn mentioned<'c>(catalog: &'c Catalog, text: &str) -> Option<Mention<'c>> {
    let lower = text.to_ascii_lowercase();
    let all = catalog
        .clusters
        .iter()
        .flat_map(|c| c.endpoints.iter().map(move |e| (c, e)));
    let by_name: Vec<_> = all
        .clone()
        .filter(|(_, e)| contains_word(&lower, &e.host.to_ascii_lowercase()))
        .collect();
    if let [(cluster, endpoint)] = by_name.as_slice() {
        return Some(Mention {
            cluster,
            endpoint,
            by_ip: false,
        });
    }
    let by_ip: Vec<_> = all
        .filter(|(_, e)| {
            e.ip.is_some_and(|ip| {
                let ip = ip.to_string();
                contains_word(&lower, &ip) && mentions_port(&lower, e.port)
            })
        })
        .collect();
    match by_ip.as_slice() {
        [(cluster, endpoint)] => Some(Mention {
            cluster,
            endpoint,
            by_ip: true,
        }),
        _ => None,
    }
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let edge = |c: Option<char>| {
            c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        };
        edge(before)
            && (edge(after)
                || after == Some('.') && edge(text[at + word.len() + 1..].chars().next()))
    })
}

fn mentions_port(text: &str, port: u16) -> bool {
    text.contains(&format!(":{port}")) || text.contains(&format!("port {port}"))
}

/// Advice naming the endpoint to use, for a diagnosis of `text`.
pub fn advise(diagnosis: &Diagnosis, text: &str, catalog: &Catalog) -> Option<String> {
    match mentioned(catalog, text) {
        Some(m) => Some(for_endpoint(diagnosis.category, m)),
        None => general(diagnosis.category, catalog),
    }
}

fn for_endpoint(category: Category, m: Mention<'_>) -> String {
    let cluster = &m.cluster.name;
    let role = m.endpoint.role;
    let that = format!("that is {cluster}'s {role} endpoint");
    let admin = m.cluster.endpoint(Role::Admin).is_some();
    match category {
        Category::PreparedStatement | Category::StartupParameter | Category::Pooler
            if m.endpoint.pooled =>
        {
            let mut s = format!(
                "{that}, behind a pooler: `pgconn url {cluster} --{role} --format DRIVER` carries the pool-safe setting"
            );
            if admin {
                let _ = write!(
                    s,
                    "; migrations and session features belong on `pgconn url {cluster} --admin`"
                );
            }
            s
        }
        Category::ReadOnly if role == Role::Read => {
            format!("{that}: writes go to `pgconn url {cluster} --write`")
        }
        Category::TlsHostname if m.by_ip => format!(
            "{that}, addressed by IP: connect by name, e.g. `pgconn url {cluster} --{role} --pin-ip` (connects to the IP, verifies the name)"
        ),
        Category::Tcp | Category::Allowlist if m.endpoint.allowed_source_ranges.is_some() => {
            format!(
                "{that}, which only admits {}: `pgconn doctor {cluster} --{role}` checks your egress IP against it",
                ranges(m.endpoint)
            )
        }
        _ => format!("{that}: `pgconn doctor {cluster} --{role}` checks every layer of it"),
    }
}

fn ranges(e: &Endpoint) -> String {
    e.allowed_source_ranges
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn general(category: Category, catalog: &Catalog) -> Option<String> {
    if !matches!(
        category,
        Category::PreparedStatement | Category::StartupParameter | Category::Pooler
    ) {
        return None;
    }
    let admins: Vec<&str> = catalog
        .clusters
        .iter()
        .filter(|c| c.endpoint(Role::Admin).is_some())
        .map(|c| c.name.as_str())
        .collect();
    match admins.as_slice() {
        [] => None,
        [one] => Some(format!(
            "the admin endpoint goes around the pooler: `pgconn url {one} --admin`"
        )),
        many => Some(format!(
            "the admin endpoints go around the pooler: `pgconn url CLUSTER --admin` (CLUSTER: {})",
            many.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::contains_word;

    #[test]
    fn words_have_edges() {
        assert!(contains_word("at \"db-write.x\" (10.0.0.1)", "db-write.x"));
        assert!(contains_word("host db-write.x.", "db-write.x"));
        assert!(!contains_word("host xdb-write.x", "db-write.x"));
        assert!(!contains_word("10.0.0.12", "10.0.0.1"));
    }
}
