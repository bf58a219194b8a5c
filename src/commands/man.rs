//! `pgconn man`: the man page, generated from the clap definitions.

use crate::cli;
use crate::error::{Error, Exit};
use crate::output;

/// The man page as roff.
pub fn render() -> Result<String, Error> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cli::command())
        .render(&mut buf)
        .map_err(|source| Error::Io {
            context: "rendering the man page".into(),
            source,
        })?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Runs `man`.
pub fn run() -> Result<Exit, Error> {
    output::stdout(&render()?)?;
    Ok(Exit::Success)
}
