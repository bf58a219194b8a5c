//! Connection strings, one file per driver format.
//!
//! Every format gets the same [`Params`] and writes what *its* driver reads:
//! how it spells TLS verification and trusted roots, how it decodes the
//! password, and what it needs on a transaction-pooled endpoint. What a
//! driver cannot take in its string comes back as a [`Rendered::notes`] line.

mod asyncpg;
mod jdbc;
mod keyword;
mod libpq;
mod node;
mod npgsql;
mod pgx;
mod prisma;
mod sqlalchemy;
mod sqlalchemy_asyncpg;
mod uri;
pub mod url;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::catalog::{RootCert, SslMode};
use crate::credentials::Secret;

crate::vocabulary! {
    /// The output formats of `pgconn url`.
    pub enum Format {
        /// libpq URI (psql, libpq, psycopg, Ruby pg).
        Uri => "uri",
        /// libpq `key=value` string.
        Keyword => "keyword",
        /// pgjdbc URL.
        Jdbc => "jdbc",
        /// SQLAlchemy with psycopg 3.
        Sqlalchemy => "sqlalchemy",
        /// SQLAlchemy with asyncpg.
        SqlalchemyAsyncpg => "sqlalchemy-asyncpg",
        /// asyncpg DSN.
        Asyncpg => "asyncpg",
        /// Go pgx.
        Pgx => "pgx",
        /// node-postgres.
        Node => "node",
        /// Prisma.
        Prisma => "prisma",
        /// .NET Npgsql.
        Npgsql => "npgsql",
    }
}

impl Format {
    /// One line on who reads this format.
    pub fn description(self) -> &'static str {
        match self {
            Format::Uri => "libpq URI: psql, libpq tools, psycopg, Ruby pg",
            Format::Keyword => "libpq key=value string",
            Format::Jdbc => "pgjdbc (Java, Kotlin, Flyway, Liquibase)",
            Format::Sqlalchemy => "SQLAlchemy with psycopg 3",
            Format::SqlalchemyAsyncpg => "SQLAlchemy with asyncpg",
            Format::Asyncpg => "asyncpg DSN",
            Format::Pgx => "Go pgx (and lib/pq)",
            Format::Node => "node-postgres (pg)",
            Format::Prisma => "Prisma datasource URL",
            Format::Npgsql => ".NET Npgsql connection string",
        }
    }
}

/// How "the system trust store" can be named on this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemRoots {
    /// Whether the libpq that will read the string knows `sslrootcert=system` (>= 16).
    pub libpq_knows_system: bool,
    /// The OS CA bundle file, for clients that need a path.
    pub bundle: Option<PathBuf>,
}

/// Everything a format needs to write one connection string.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    /// Host name (also the TLS name).
    pub host: &'a str,
    /// Port.
    pub port: u16,
    /// `--pin-ip`: connect to this address, verify against `host`.
    pub hostaddr: Option<IpAddr>,
    /// Database, if known.
    pub database: Option<&'a str>,
    /// User.
    pub user: &'a str,
    /// Password, unless `--no-password`.
    pub password: Option<&'a Secret>,
    /// TLS mode.
    pub sslmode: SslMode,
    /// Trusted roots from the catalog.
    pub sslrootcert: &'a RootCert,
    /// How to name the system roots here.
    pub system_roots: &'a SystemRoots,
    /// Connect timeout in seconds.
    pub connect_timeout: u32,
    /// Whether the endpoint is transaction-pooled without prepared-statement support.
    pub pool_safe: bool,
}

impl Params<'_> {
    /// The root certificate file for clients that need a path: the catalog's
    /// file, else the OS bundle. `None` when verification is off or no bundle exists.
    pub fn root_file(&self) -> Option<&Path> {
        if !self.sslmode.verifies_chain() {
            return None;
        }
        match self.sslrootcert {
            RootCert::File(path) => Some(path),
            RootCert::System => self.system_roots.bundle.as_deref(),
        }
    }

    /// A private root file from the catalog, for clients whose default is
    /// already the system store (so `system` needs nothing written).
    pub fn private_root_file(&self) -> Option<&Path> {
        match self.sslrootcert {
            RootCert::File(path) if self.sslmode.verifies_chain() => Some(path),
            _ => None,
        }
    }
}

/// A connection string and the notes that go to stderr with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The string, for stdout.
    pub text: String,
    /// One-line notes for stderr: what to set in code.
    pub notes: Vec<String>,
}

/// Why a string cannot be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConnStrError {
    /// `--pin-ip` with a driver that has no `hostaddr`.
    #[error("the {0} format cannot pin an IP address (the driver has no hostaddr setting)")]
    PinIpUnsupported(&'static str),
    /// `--via kube` with a driver that cannot dial one address while verifying another name.
    #[error(
        "the {0} format cannot go through a tunnel: its driver cannot dial 127.0.0.1 while verifying the endpoint's name (it has no hostaddr setting), and pgconn does not weaken verification"
    )]
    TunnelUnsupported(&'static str),
    /// `--pin-ip` but the catalog knows no IP for the endpoint.
    #[error("the catalog gives no IP for {0}, so there is nothing to pin")]
    NoIpToPin(String),
}

impl ConnStrError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ConnStrError::PinIpUnsupported(_) => {
                "--pin-ip works with --format uri, keyword and sqlalchemy".into()
            }
            ConnStrError::TunnelUnsupported(_) => {
                "tunnels work with --format uri, keyword and sqlalchemy (libpq's hostaddr); for other drivers, set the host to 127.0.0.1 and the TLS server name to the endpoint's in code".into()
            }
            ConnStrError::NoIpToPin(_) => {
                "add `ip:` to the endpoint or `shared_ips` to the catalog".into()
            }
        })
    }
}

/// libpq's `sslrootcert` for these parameters (see [`libpq::sslrootcert`]);
/// `None` when the mode does not verify.
pub fn libpq_sslrootcert(p: &Params<'_>) -> Option<String> {
    libpq::sslrootcert(p)
}

/// Whether the format's driver can dial one address (`hostaddr`) while
/// verifying the certificate against another name (`host`).
pub fn dials_apart(format: Format) -> bool {
    matches!(format, Format::Uri | Format::Keyword | Format::Sqlalchemy)
}

/// Writes the connection string for `format`.
pub fn render(format: Format, p: &Params<'_>) -> Result<Rendered, ConnStrError> {
    if p.hostaddr.is_some() && !dials_apart(format) {
        return Err(ConnStrError::PinIpUnsupported(format.as_str()));
    }
    Ok(match format {
        Format::Uri => uri::render(p),
        Format::Keyword => keyword::render(p),
        Format::Jdbc => jdbc::render(p),
        Format::Sqlalchemy => sqlalchemy::render(p),
        Format::SqlalchemyAsyncpg => sqlalchemy_asyncpg::render(p),
        Format::Asyncpg => asyncpg::render(p),
        Format::Pgx => pgx::render(p),
        Format::Node => node::render(p),
        Format::Prisma => prisma::render(p),
        Format::Npgsql => npgsql::render(p),
    })
}

/// A rendered string with no notes.
fn plain(text: String) -> Rendered {
    Rendered {
        text,
        notes: Vec::new(),
    }
}
