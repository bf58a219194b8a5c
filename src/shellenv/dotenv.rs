//! `.env` files, as python-dotenv, the Node `dotenv` package and Docker
//! Compose read them: a single-quoted value is literal (no escapes, no
//! `${}` expansion, newlines allowed), so that is used whenever the value has
//! no single quote. Otherwise double quotes with `\\`, `\"` and `\n` escapes;
//! readers that expand `${VAR}` in double quotes would see a `$` there, so
//! such a value gets a warning from the caller.

use crate::pgenv::Var;

/// Quotes `value` for a `.env` file.
pub fn quote(value: &str) -> String {
    if !value.contains('\'') {
        return format!("'{value}'");
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a value cannot be written so every dotenv reader agrees.
pub fn ambiguous(value: &str) -> bool {
    value.contains('\'') && value.contains('$')
}

/// `NAME=value` lines.
pub fn render(vars: &[Var]) -> String {
    super::lines(vars, |name, value| format!("{name}={}", quote(value)))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn single_quotes_when_possible_else_escaped_double_quotes() {
        assert_eq!(quote("a\"b $c\nd"), "'a\"b $c\nd'");
        assert_eq!(quote("it's\n\\"), r#""it's\n\\""#);
    }
}
