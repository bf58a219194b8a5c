//! `pgconn catalog validate | path | schema`.

use super::discover;
use crate::catalog::{self, CatalogError, schema};
use crate::cli::Cli;
use crate::error::{Error, Exit};
use crate::knowledge::sanitize_lines;
use crate::output::{self, Style};

/// `catalog validate`: every problem at once; warnings do not fail.
pub fn validate(cli: &Cli) -> Result<Exit, Error> {
    let found = discover(cli.catalog.as_deref())?;
    let loaded = catalog::load(&found.path)?;
    for w in &loaded.warnings {
        eprintln!("{}", sanitize_lines(&w.render(&found.path)));
    }
    let c = &loaded.catalog;
    let endpoints: usize = c.clusters.iter().map(|c| c.endpoints.len()).sum();
    output::line(&format!(
        "{}: ok, {} clusters, {endpoints} endpoints{}",
        found.path.display(),
        c.clusters.len(),
        match loaded.warnings.len() {
            0 => String::new(),
            n => format!(", {n} warning{}", if n == 1 { "" } else { "s" }),
        }
    ))?;
    Ok(Exit::Success)
}

/// `catalog path`: where the catalog was found (and, with -v, why there).
pub fn path(cli: &Cli, style: Style) -> Result<Exit, Error> {
    let found = discover(cli.catalog.as_deref())?;
    if !found.path.is_file() {
        return Err(CatalogError::Unreadable {
            path: found.path,
            source: std::io::ErrorKind::NotFound.into(),
        }
        .into());
    }
    output::line(&found.path.display().to_string())?;
    if cli.verbose > 0 {
        output::note(style, &format!("found through {}", found.reason));
    }
    Ok(Exit::Success)
}

/// `catalog schema`: the JSON Schema.
pub fn schema() -> Result<Exit, Error> {
    output::stdout(schema::JSON_SCHEMA)?;
    Ok(Exit::Success)
}
