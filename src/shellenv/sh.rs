//! POSIX shell: `export NAME='value'`, a single quote written as `'\''`.
//! Inside single quotes nothing is special, newlines included.

use crate::pgenv::Var;

/// Quotes `value` for any POSIX shell.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// `export` lines.
pub fn render(vars: &[Var]) -> String {
    super::lines(vars, |name, value| {
        format!("export {name}={}", quote(value))
    })
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn single_quotes_are_closed_escaped_and_reopened() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$HOME `x` \\ \n"), "'$HOME `x` \\ \n'");
    }
}
