//! Remote text (server messages, certificate names, pasted error output)
//! made safe for a terminal: escape sequences and control characters are
//! removed, line breaks become spaces, bidi overrides are dropped, and the
//! length is capped. This is the one sanitiser: error rendering, notes,
//! `show`/`creds`, credential-source errors and doctor all use it.

/// The longest text kept, in characters.
pub const MAX_CHARS: usize = 2000;

/// The longest text kept from a server or a child inside an error line.
pub const SHORT_CHARS: usize = 300;

/// One safe line of text.
pub fn sanitize(text: &str) -> String {
    sanitize_capped(text, MAX_CHARS)
}

/// One safe line of at most [`SHORT_CHARS`] characters, with every one of
/// `secrets` (of 3 characters or more) replaced by `<redacted>`: for what a
/// server or a child said, inside an error message.
pub fn sanitize_redacted(text: &str, secrets: &[&str]) -> String {
    let secrets: Vec<&str> = secrets.iter().copied().filter(|s| s.len() >= 3).collect();
    let redact = |text: &str| {
        secrets
            .iter()
            .fold(text.to_string(), |t, s| t.replace(s, "<redacted>"))
    };
    // before (the secret as sent) and after (a secret split by escapes)
    let clean = sanitize_capped(&redact(text), usize::MAX);
    let mut out = redact(&clean.split_whitespace().collect::<Vec<_>>().join(" "));
    if out.chars().count() > SHORT_CHARS {
        out = out.chars().take(SHORT_CHARS).collect::<String>() + "…";
    }
    out
}

/// Safe text of several lines: each line sanitised, the line breaks kept
/// (for whole messages pgconn composes around remote or catalog text).
pub fn sanitize_lines(text: &str) -> String {
    text.split('\n')
        .map(sanitize)
        .collect::<Vec<_>>()
        .join("\n")
}

fn sanitize_capped(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS));
    let mut chars = text.chars().peekable();
    let mut count = 0;
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\n' | '\r' | '\t' => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c if c.is_control() || is_invisible_override(c) => {}
            c => {
                out.push(c);
                count += 1;
            }
        }
        if count >= max_chars {
            out.push('…');
            break;
        }
    }
    out.trim_end().to_string()
}

/// Bidi embeddings/overrides/isolates and marks: they reorder what is shown.
fn is_invisible_override(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Skips the rest of an escape sequence after ESC (CSI, OSC, DCS and friends, or one char).
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => {
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        Some(']' | 'P' | '_' | '^' | 'X') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                    chars.next();
                    break;
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_CHARS, sanitize, sanitize_lines, sanitize_redacted};

    #[test]
    fn redacted_is_one_short_line_without_the_secret_or_escapes() {
        let s = sanitize_redacted("error:\n bad   password hunter2 \x1b[2Jhere", &["hunter2"]);
        assert_eq!(s, "error: bad password <redacted> here");
        assert!(sanitize_redacted(&"x".repeat(1000), &[]).chars().count() <= 301);
    }

    #[test]
    fn lines_keep_their_breaks_and_indent() {
        assert_eq!(
            sanitize_lines("a\x1b]0;t\x07b\n  hint: c\x07"),
            "ab\n  hint: c"
        );
    }

    #[test]
    fn escapes_and_controls_are_removed() {
        assert_eq!(sanitize("a\x1b[31mred\x1b[0m b"), "ared b");
        assert_eq!(sanitize("t\x1b]0;title\x07x"), "tx");
        assert_eq!(sanitize("t\x1b]8;;http://x\x1b\\link"), "tlink");
        assert_eq!(
            sanitize("bell\x07 nul\0 del\x7f c1\u{9b}"),
            "bell nul del c1"
        );
        assert_eq!(sanitize("line1\nline2\r\n"), "line1 line2");
        assert_eq!(sanitize("ab\u{202e}cd"), "abcd");
        assert_eq!(sanitize("ünïcode ok"), "ünïcode ok");
    }

    #[test]
    fn length_is_capped() {
        let long = "x".repeat(MAX_CHARS * 2);
        assert_eq!(sanitize(&long).chars().count(), MAX_CHARS + 1);
    }
}
