//! Writing results: stdout for results (a closed pipe is not an error),
//! stderr for notes, colour only when wanted.

use std::io::{self, IsTerminal, Write};

use crate::error::Error;
use crate::knowledge::sanitize_lines;

/// When to colour (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorWhen {
    /// When the stream is a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Colour decisions for one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour for stdout: `--color`, then `NO_COLOR`, then whether stdout is a terminal.
    pub fn stdout(when: ColorWhen) -> Self {
        Self::decide(when, io::stdout().is_terminal())
    }

    /// Colour for stderr: `--color`, then `NO_COLOR`, then whether stderr is a terminal.
    pub fn stderr(when: ColorWhen) -> Self {
        Self::decide(when, io::stderr().is_terminal())
    }

    fn decide(when: ColorWhen, terminal: bool) -> Self {
        let color = match when {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal
            }
        };
        Style { color }
    }

    /// No colour at all.
    pub fn plain() -> Self {
        Style { color: false }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Bold red.
    pub fn error(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// Bold yellow.
    pub fn warning(self, text: &str) -> String {
        self.paint("1;33", text)
    }

    /// Cyan.
    pub fn hint(self, text: &str) -> String {
        self.paint("36", text)
    }
}

/// Writes a result to stdout. A reader that went away (`| head`) is not an error.
pub fn stdout(text: &str) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::Io {
            context: "writing to stdout".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Writes a line to stdout.
pub fn line(text: &str) -> Result<(), Error> {
    stdout(&format!("{text}\n"))
}

/// Writes a JSON document to stdout.
pub fn json<T: serde::Serialize>(value: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Io {
        context: "encoding JSON".into(),
        source: e.into(),
    })?;
    line(&text)
}

/// Writes a note to stderr (ignoring failures: notes are best effort),
/// sanitised: notes quote servers and the catalog.
pub fn note(style: Style, text: &str) {
    let _ = writeln!(
        io::stderr(),
        "{} {}",
        style.hint("note:"),
        sanitize_lines(text)
    );
}

/// Writes a warning to stderr, sanitised.
pub fn warning(style: Style, text: &str) {
    let _ = writeln!(
        io::stderr(),
        "{} {}",
        style.warning("warning:"),
        sanitize_lines(text)
    );
}
