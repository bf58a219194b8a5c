//! Finding `psql` (`$PGCONN_PSQL`, else `PATH`). Nothing is run: on Debian
//! `psql` is a Perl wrapper whose start-up alone costs ~30 ms. What decides
//! `sslrootcert=system` is the libpq the loader gives psql, which
//! [`crate::platform::system_roots`] reads from a symlink, as for `url`.

use std::path::PathBuf;

/// A psql binary.
#[derive(Debug, Clone)]
pub struct Psql {
    /// The binary.
    pub program: PathBuf,
}

/// Why psql cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PsqlError {
    /// Not found.
    #[error("psql not found ({0})")]
    NotFound(String),
}

impl PsqlError {
    /// What to do.
    pub fn hint(&self) -> String {
        "install the PostgreSQL client (Debian: apt-get install postgresql-client) or set PGCONN_PSQL".into()
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

impl Psql {
    /// Finds psql.
    pub fn find() -> Result<Psql, PsqlError> {
        let program = match std::env::var_os("PGCONN_PSQL").filter(|p| !p.is_empty()) {
            Some(p) => PathBuf::from(p),
            None => on_path("psql").ok_or_else(|| PsqlError::NotFound("not on PATH".into()))?,
        };
        if !program.is_file() {
            return Err(PsqlError::NotFound(format!(
                "{} does not exist",
                program.display()
            )));
        }
        Ok(Psql { program })
    }
}
