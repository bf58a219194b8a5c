//! .NET Npgsql connection string: `Host=…;Port=…;Password=…;SSL Mode=VerifyFull`.
//! Values are quoted the way .NET's connection string builder does it.

use super::{Params, Rendered, plain};
use crate::catalog::SslMode;

/// Quotes a value like `DbConnectionStringBuilder`: plain when it has no
/// quote, `=`, `;`, white space or control character; in single quotes when
/// it has `"` but no `'`; otherwise in double quotes with `"` doubled.
pub fn quote(value: &str) -> String {
    let needs_quotes = value
        .chars()
        .any(|c| matches!(c, '"' | '\'' | '=' | ';') || c.is_whitespace() || c.is_control());
    if !needs_quotes {
        value.to_string()
    } else if value.contains('"') && !value.contains('\'') {
        format!("'{value}'")
    } else {
        format!("\"{}\"", value.replace('"', "\"\""))
    }
}

fn ssl_mode(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "Disable",
        SslMode::Allow => "Allow",
        SslMode::Prefer => "Prefer",
        SslMode::Require => "Require",
        SslMode::VerifyCa => "VerifyCA",
        SslMode::VerifyFull => "VerifyFull",
    }
}

/// Writes the Npgsql connection string.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut pairs: Vec<(&str, String)> =
        vec![("Host", p.host.to_string()), ("Port", p.port.to_string())];
    if let Some(db) = p.database {
        pairs.push(("Database", db.to_string()));
    }
    pairs.push(("Username", p.user.to_string()));
    if let Some(pw) = p.password {
        pairs.push(("Password", pw.expose().to_string()));
    }
    pairs.push(("SSL Mode", ssl_mode(p.sslmode).to_string()));
    if let Some(root) = p.private_root_file() {
        pairs.push(("Root Certificate", root.display().to_string()));
    }
    pairs.push(("Timeout", p.connect_timeout.to_string()));
    if p.pool_safe {
        pairs.push(("No Reset On Close", "true".into()));
        pairs.push(("Max Auto Prepare", "0".into()));
    }
    let text = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect::<Vec<_>>()
        .join(";");
    plain(text)
}
