//! libpq keyword/value string: `host=… port=… user=… password='…'`.
//! Values with anything but plain characters are single-quoted, with `\`
//! and `'` backslash-escaped, as libpq's conninfo parser reads them.

use super::{Params, Rendered, libpq};

/// Quotes one value for a libpq conninfo string.
pub fn quote(value: &str) -> String {
    let plain_char = |c: char| c.is_ascii_alphanumeric() || "._-/:@+,".contains(c);
    if !value.is_empty() && value.chars().all(plain_char) {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Writes the keyword string.
pub fn render(p: &Params<'_>) -> Rendered {
    let mut pairs: Vec<(&str, String)> =
        vec![("host", p.host.to_string()), ("port", p.port.to_string())];
    if let Some(db) = p.database {
        pairs.push(("dbname", db.to_string()));
    }
    pairs.push(("user", p.user.to_string()));
    if let Some(pw) = p.password {
        pairs.push(("password", pw.expose().to_string()));
    }
    pairs.extend(libpq::params(p));
    let text = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect::<Vec<_>>()
        .join(" ");
    Rendered {
        text,
        notes: libpq::pool_notes(p),
    }
}
