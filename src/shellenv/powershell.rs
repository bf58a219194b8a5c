//! PowerShell: `$env:NAME = 'value'`; in single-quoted strings a `'` is
//! doubled and nothing else is special. PowerShell also treats the typographic
//! single quotes (U+2018, U+2019, U+201A, U+201B) as quotes, so they are
//! doubled too.

use crate::pgenv::Var;

/// Quotes `value` for PowerShell.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `$env:` assignments.
pub fn render(vars: &[Var]) -> String {
    super::lines(vars, |name, value| {
        format!("$env:{name} = {}", quote(value))
    })
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote("it's $x"), "'it''s $x'");
        assert_eq!(quote("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
    }
}
