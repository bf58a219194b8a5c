//! fish: `set -gx NAME 'value'`; in fish single quotes only `\'` and `\\`
//! are escapes.

use crate::pgenv::Var;

/// Quotes `value` for fish.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

/// `set -gx` lines.
pub fn render(vars: &[Var]) -> String {
    super::lines(vars, |name, value| {
        format!("set -gx {name} {};", quote(value))
    })
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn backslashes_and_quotes_are_escaped() {
        assert_eq!(quote(r"a\b'c"), r"'a\\b\'c'");
    }
}
