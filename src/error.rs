//! The one error type commands return, its exit status, and the one place
//! errors are rendered (`pgconn: error: …` and a `hint:` line).

use std::io;

use crate::catalog::CatalogError;
use crate::connstr::ConnStrError;
use crate::credentials::CredentialError;
use crate::knowledge::sanitize_lines;
use crate::output::Style;
use crate::target::ResolveError;

/// Exit statuses of the CLI contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Success,
    /// The operation failed (network, server, credentials, child).
    Failure,
    /// Usage or catalog error.
    Usage,
    /// doctor ran and a check failed.
    DoctorFailed,
    /// `catalog diff` found drift.
    Drift,
    /// Interrupted.
    Interrupted,
    /// A child's status, passed through (`psql`, `run`).
    Child(i32),
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> i32 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::DoctorFailed | Exit::Drift => 3,
            Exit::Interrupted => 130,
            Exit::Child(code) => code,
        }
    }
}

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A usage problem clap cannot see (e.g. no cluster and no terminal).
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: Option<String>,
    },
    /// The catalog is missing or invalid.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The cluster, role or user does not resolve.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No credential could be had.
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// The connection string cannot be written.
    #[error(transparent)]
    ConnStr(#[from] ConnStrError),
    /// A child process could not be started.
    #[error(transparent)]
    Launch(#[from] crate::launch::ChildError),
    /// psql cannot be found.
    #[error(transparent)]
    Psql(#[from] crate::launch::PsqlError),
    /// The user pressed Ctrl-C at a prompt or picker.
    #[error("interrupted")]
    Interrupted,
    /// doctor could not run at all (its findings are a report, not an error).
    #[error(transparent)]
    Doctor(#[from] crate::doctor::DoctorError),
    /// `wait` gave up.
    #[error(transparent)]
    Wait(#[from] crate::doctor::wait::WaitError),
    /// A file for the user could not be written (or was a symlink).
    #[error(transparent)]
    Write(#[from] crate::atomic_file::WriteError),
    /// `catalog import` or `diff` could not read its source.
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    /// A `--via kube` tunnel could not be opened.
    #[error(transparent)]
    Tunnel(#[from] crate::tunnel::TunnelError),
    /// Writing output failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: io::Error,
    },
}

impl Error {
    /// A usage error with a hint.
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// The exit status for this error.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Interrupted => Exit::Interrupted,
            Error::Usage { .. } | Error::Catalog(_) | Error::Resolve(_) | Error::ConnStr(_) => {
                Exit::Usage
            }
            Error::Doctor(crate::doctor::DoctorError::NothingSelected)
            | Error::Write(crate::atomic_file::WriteError::Symlink { .. }) => Exit::Usage,
            Error::Credential(_)
            | Error::Io { .. }
            | Error::Launch(_)
            | Error::Psql(_)
            | Error::Import(_)
            | Error::Write(_)
            | Error::Doctor(_)
            | Error::Wait(_)
            | Error::Tunnel(_) => Exit::Failure,
        }
    }

    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. } => hint.clone(),
            Error::Catalog(e) => e.hint(),
            Error::Resolve(e) => e.hint(),
            Error::Credential(e) => e.hint(),
            Error::ConnStr(e) => e.hint(),
            Error::Launch(e) => e.hint(),
            Error::Psql(e) => Some(e.hint()),
            Error::Doctor(e) => e.hint(),
            Error::Wait(e) => e.hint(),
            Error::Write(e) => e.hint(),
            Error::Import(e) => e.hint(),
            Error::Tunnel(e) => e.hint(),
            Error::Io { .. } | Error::Interrupted => None,
        }
    }

    /// Renders the error for stderr. Messages quote servers, children and
    /// the catalog, so every line goes through the one sanitiser.
    pub fn render(&self, style: Style) -> String {
        let mut out = format!(
            "{} {}",
            style.error("pgconn: error:"),
            sanitize_lines(&self.to_string())
        );
        if let Some(hint) = self.hint() {
            out.push('\n');
            out.push_str(&style.hint("hint:"));
            out.push(' ');
            out.push_str(&sanitize_lines(&hint));
        }
        out
    }
}
