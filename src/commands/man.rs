//! `pgconn man [COMMAND…]`: man pages, generated from the clap definitions.

use crate::cli;
use crate::error::{Error, Exit};
use crate::output;

/// One man page: its file name (`pgconn-url.1`) and roff text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// File name.
    pub file: String,
    /// The path of subcommand names leading to it (empty for `pgconn.1`).
    pub path: Vec<String>,
    /// roff.
    pub roff: String,
}

fn render(cmd: clap::Command) -> Result<String, Error> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .map_err(|source| Error::Io {
            context: "rendering the man page".into(),
            source,
        })?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn collect(cmd: &clap::Command, path: &[String], out: &mut Vec<Page>) -> Result<(), Error> {
    let page = clap_mangen::Man::new(cmd.clone());
    out.push(Page {
        file: page.get_filename(),
        path: path.to_vec(),
        roff: render(cmd.clone())?,
    });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let mut sub_path = path.to_vec();
        sub_path.push(sub.get_name().to_string());
        collect(sub, &sub_path, out)?;
    }
    Ok(())
}

/// Every page: `pgconn.1` and one per subcommand.
pub fn pages() -> Result<Vec<Page>, Error> {
    let mut cmd = cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    collect(&cmd, &[], &mut out)?;
    Ok(out)
}

/// Runs `man`: the page of the named subcommand, or the main page.
pub fn run(path: &[String]) -> Result<Exit, Error> {
    let page = pages()?
        .into_iter()
        .find(|p| p.path == path)
        .ok_or_else(|| {
            Error::usage(
                format!("no man page for `{}`", path.join(" ")),
                "`pgconn man` shows the main page, which lists the commands",
            )
        })?;
    output::stdout(&page.roff)?;
    Ok(Exit::Success)
}
