//! Remote text (server messages, certificate names, pasted error output)
//! made safe for a terminal: escape sequences and control characters are
//! removed, line breaks become spaces, bidi overrides are dropped, and the
//! length is capped.

/// The longest text kept, in characters.
pub const MAX_CHARS: usize = 2000;

/// One safe line of text.
pub fn sanitize(text: &str) -> String {
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
        if count >= MAX_CHARS {
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
    use super::{MAX_CHARS, sanitize};

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
