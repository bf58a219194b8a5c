//! Docker Compose's `.env` rules, for the tests: Compose itself (a Go
//! program, `compose-go/dotenv`) cannot be installed here (no compose plugin,
//! no Go module proxy), and no port of its parser turned up in the `PyPI` or
//! npm package lists, so this follows its documented rules and its parser: `#` lines are comments; single-quoted values are literal up
//! to the first `'` not preceded by `\`; double-quoted values end the same
//! way, turn `\n`/`\r` into newline/CR and every other `\X` into `X`, then
//! expand variables; unquoted values end at the line end, are cut at the
//! first `#`, trimmed at the right, then expanded. Expansion here sees an
//! empty environment: `$$` is `$`, `${NAME}` and `$NAME` are empty.
#![allow(dead_code)]

/// The variables in `text`, in order, or the parse error Compose reports.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        if rest.starts_with('#') {
            rest = rest.find('\n').map_or("", |i| &rest[i..]);
            continue;
        }
        let eq = rest
            .find(['=', '\n'])
            .filter(|i| rest.as_bytes()[*i] == b'=')
            .ok_or_else(|| format!("no `=` near {rest:?}"))?;
        let key = rest[..eq].trim().to_string();
        let (value, left) = value(rest[eq + 1..].trim_start_matches([' ', '\t']))?;
        out.push((key, value));
        rest = left;
    }
}

fn value(src: &str) -> Result<(String, &str), String> {
    let Some(quote) = src.chars().next().filter(|c| *c == '\'' || *c == '"') else {
        let end = src.find('\n').unwrap_or(src.len());
        let raw = src[..end].split('#').next().unwrap_or("").trim_end();
        return Ok((expand(raw), &src[end..]));
    };
    let bytes = src.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] == quote as u8 && bytes[i - 1] != b'\\' {
            let inner = &src[1..i];
            let value = if quote == '"' {
                expand(&unescape(inner))
            } else {
                inner.to_string()
            };
            return Ok((value, &src[i + 1..]));
        }
    }
    Err(format!("unterminated quoted value {src:?}"))
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('$') => out.push_str("\\$"),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn expand(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('$') => {
                chars.next();
                out.push('$');
            }
            Some('{') => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
            }
            Some(c) if c.is_ascii_alphanumeric() || *c == '_' => {
                while chars
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    chars.next();
                }
            }
            _ => out.push('$'),
        }
    }
    out
}
