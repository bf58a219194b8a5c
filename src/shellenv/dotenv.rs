//! `.env` files that python-dotenv, Docker Compose and the Node `dotenv`
//! package all read back exactly, or a refusal naming the character that
//! makes it impossible. What each reader does (python-dotenv 1.2, Compose's
//! `compose-go/dotenv`, `dotenv` 18 `parse`):
//!
//! - single quotes: literal for Compose and Node; python-dotenv turns `\\`
//!   into `\` and `\'` into `'` and expands `${VAR}`; a `\` before the
//!   closing quote escapes it for python-dotenv and Compose; Node turns a
//!   carriage return into a newline. Newlines are kept by all three.
//! - unquoted: literal up to the end of the line, trimmed; Node stops at any
//!   `#`, python-dotenv at ` #`; Compose and python-dotenv expand `$`.
//! - double quotes: Compose unescapes every `\X` and expands `$`, python-dotenv
//!   unescapes `\\ \" \' \n \r \t …` only, Node only `\n` and `\r`; so only
//!   `\n` and `\r` escapes mean the same to all three.
//!
//! So: single quotes when they work, else unquoted, else double quotes with
//! `\n`/`\r` escapes, else [`Refusal`].

use crate::pgenv::Var;

/// Why a value cannot be written for every reader, naming the characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot write {var} to a .env file that python-dotenv, Docker Compose and the dotenv npm \
     package all read back: it has {single}, and {double}"
)]
pub struct Refusal {
    /// The variable.
    pub var: String,
    /// What rules out single quotes (and an unquoted value).
    pub single: &'static str,
    /// What rules out double quotes.
    pub double: &'static str,
}

/// What rules out a single-quoted value, if anything.
fn single_quote_problem(value: &str) -> Option<&'static str> {
    if value.contains('\'') {
        Some("a `'` (it would end a single-quoted value)")
    } else if value.contains("${") {
        Some("`${` (python-dotenv expands it, even in single quotes)")
    } else if value.contains("\\\\") {
        Some("`\\\\` (python-dotenv reads it as one `\\` in single quotes)")
    } else if value.ends_with('\\') {
        Some("a trailing `\\` (it escapes the closing quote for python-dotenv and Compose)")
    } else if value.contains('\r') {
        Some("a carriage return (the dotenv npm package turns it into a newline)")
    } else {
        None
    }
}

/// Whether the value reads back the same unquoted everywhere.
fn unquoted_works(value: &str) -> bool {
    !value.is_empty()
        && value.trim() == value
        && !value.starts_with(['\'', '"', '`'])
        && !value.contains(['#', '$', '\n', '\r', '\'', '"'])
}

/// What rules out a double-quoted value, if anything.
fn double_quote_problem(value: &str) -> Option<&'static str> {
    if value.contains('$') {
        Some("a `$` (Compose and python-dotenv expand it in double quotes)")
    } else if value.contains('\\') {
        Some("a `\\` (the three readers unescape it differently in double quotes)")
    } else if value.contains('"') {
        Some("a `\"` (the dotenv npm package keeps the `\\` of `\\\"`)")
    } else {
        None
    }
}

/// `value` written so every reader reads it back, or why that cannot be.
pub fn quote(name: &str, value: &str) -> Result<String, Refusal> {
    let Some(single) = single_quote_problem(value) else {
        return Ok(format!("'{value}'"));
    };
    if unquoted_works(value) {
        return Ok(value.to_string());
    }
    if let Some(double) = double_quote_problem(value) {
        return Err(Refusal {
            var: name.to_string(),
            single,
            double,
        });
    }
    Ok(format!(
        "\"{}\"",
        value.replace('\n', "\\n").replace('\r', "\\r")
    ))
}

/// `NAME=value` lines.
pub fn render(vars: &[Var]) -> Result<String, Refusal> {
    let mut out = String::new();
    for v in vars {
        out.push_str(&v.name);
        out.push('=');
        out.push_str(&quote(&v.name, v.value.expose())?);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn single_quotes_when_possible_else_unquoted_else_double_quotes() {
        assert_eq!(quote("P", "a\"b $c\nd #e").unwrap(), "'a\"b $c\nd #e'");
        assert_eq!(quote("P", r"end\").unwrap(), r"end\");
        assert_eq!(quote("P", "it's\nx").unwrap(), r#""it's\nx""#);
    }

    #[test]
    fn refusals_name_the_characters() {
        let e = quote("PGPASSWORD", "it's $5").unwrap_err();
        assert!(e.single.contains('\'') && e.double.contains('$'), "{e}");
        let e = quote("PGPASSWORD", "${HOME} x").unwrap_err();
        assert!(e.single.contains("${"), "{e}");
        let e = quote("PGPASSWORD", "a #b\\").unwrap_err();
        assert!(e.single.contains("trailing"), "{e}");
    }
}
