//! What the libpq family (URI, keyword, SQLAlchemy+psycopg) shares: the TLS
//! and timeout parameters, in libpq's own names.

use crate::catalog::RootCert;

use super::Params;

/// libpq's `sslrootcert` value: the catalog's file; for `system`, the word
/// `system` where libpq >= 16 will read it, else the OS bundle path.
pub fn sslrootcert(p: &Params<'_>) -> Option<String> {
    if !p.sslmode.verifies_chain() {
        return None;
    }
    Some(match p.sslrootcert {
        RootCert::File(path) => path.display().to_string(),
        RootCert::System if p.system_roots.libpq_knows_system => "system".into(),
        RootCert::System => p
            .system_roots
            .bundle
            .as_ref()
            .map_or_else(|| "system".into(), |b| b.display().to_string()),
    })
}

/// What a libpq string cannot carry on a transaction pool: psycopg 3
/// prepares a query after five runs, which breaks there.
pub fn pool_notes(p: &Params<'_>) -> Vec<String> {
    if p.pool_safe {
        vec![
            "transaction pooler: psycopg 3 needs psycopg.connect(url, prepare_threshold=None) \
             (psql and libpq tools need nothing)"
                .into(),
        ]
    } else {
        Vec::new()
    }
}

/// The libpq parameters after host, port, database, user and password, in order.
pub fn params(p: &Params<'_>) -> Vec<(&'static str, String)> {
    let mut out = vec![("sslmode", p.sslmode.as_str().to_string())];
    if let Some(root) = sslrootcert(p) {
        out.push(("sslrootcert", root));
    }
    out.push(("connect_timeout", p.connect_timeout.to_string()));
    if let Some(ip) = p.hostaddr {
        out.push(("hostaddr", ip.to_string()));
    }
    out
}
