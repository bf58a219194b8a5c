//! Finding `psql` (`$PGCONN_PSQL`, else `PATH`) and its libpq version, which
//! decides whether `sslrootcert=system` may be used (libpq >= 16).

use std::path::PathBuf;
use std::process::Command;

/// A psql binary and what it understands.
#[derive(Debug, Clone)]
pub struct Psql {
    /// The binary.
    pub program: PathBuf,
    /// Its major version, when `psql --version` said.
    pub major: Option<u32>,
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

/// Parses `psql (PostgreSQL) 15.18 (Debian …)` → 15.
pub fn parse_major(version_output: &str) -> Option<u32> {
    version_output
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?
        .split(['.', 'b', 'r', 'd'])
        .next()?
        .parse()
        .ok()
}

impl Psql {
    /// Finds psql and asks its version.
    pub fn find() -> Result<Psql, PsqlError> {
        let program = match std::env::var_os("PGCONN_PSQL").filter(|p| !p.is_empty()) {
            Some(p) => PathBuf::from(p),
            None => on_path("psql").ok_or_else(|| PsqlError::NotFound("not on PATH".into()))?,
        };
        let out = Command::new(&program)
            .arg("--version")
            .output()
            .map_err(|e| PsqlError::NotFound(format!("{}: {e}", program.display())))?;
        let major = parse_major(&String::from_utf8_lossy(&out.stdout));
        Ok(Psql { program, major })
    }

    /// Whether its libpq reads `sslrootcert=system`.
    pub fn knows_system_roots(&self) -> bool {
        self.major.is_some_and(|m| m >= 16)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_major;

    #[test]
    fn versions_from_psql_banners() {
        assert_eq!(
            parse_major("psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_major("psql (PostgreSQL) 17beta2"), Some(17));
        assert_eq!(parse_major("psql (PostgreSQL) 16.4"), Some(16));
        assert_eq!(parse_major("garbage"), None);
    }
}
