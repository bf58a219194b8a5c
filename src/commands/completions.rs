//! Shell completions. The scripts (`pgconn completions SHELL`) register
//! pgconn itself as the completer, so flags are always current and cluster
//! names come from the catalog at completion time.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap_complete::CompletionCandidate;
use clap_complete::env::{CompleteEnv, Shells};

use crate::catalog;
use crate::cli::{self, Shell};
use crate::error::{Error, Exit};
use crate::output;

/// The variable that switches pgconn into completion mode.
const VAR: &str = "COMPLETE";

/// Answers a completion request when the shell made one (`COMPLETE=<shell>`).
pub fn complete_from_env() -> clap::error::Result<bool> {
    CompleteEnv::with_factory(cli::command)
        .var(VAR)
        .completer("pgconn")
        .try_complete(std::env::args_os(), std::env::current_dir().ok().as_deref())
}

/// The registration script for `shell`.
pub fn script(shell: Shell) -> Result<String, Error> {
    let shells = Shells::builtins();
    let completer = shells.completer(shell.name()).ok_or_else(|| {
        Error::usage(
            format!("no completer for {}", shell.name()),
            "try bash, zsh or fish",
        )
    })?;
    let mut buf = Vec::new();
    completer
        .write_registration(VAR, "pgconn", "pgconn", "pgconn", &mut buf)
        .map_err(|source| Error::Io {
            context: "writing the completion script".into(),
            source,
        })?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Runs `completions`.
pub fn run(shell: Shell) -> Result<Exit, Error> {
    output::stdout(&script(shell)?)?;
    Ok(Exit::Success)
}

/// The `--catalog` value on the command line being completed, if any.
fn catalog_flag(args: &[OsString]) -> Option<PathBuf> {
    args.windows(2)
        .find_map(|w| {
            if w[0] == "--catalog" {
                return Some(PathBuf::from(&w[1]));
            }
            None
        })
        .or_else(|| {
            args.iter()
                .find_map(|a| a.to_str()?.strip_prefix("--catalog=").map(PathBuf::from))
        })
}

/// Cluster names from the catalog that start with what was typed so far.
pub fn complete_cluster(current: &OsStr) -> Vec<CompletionCandidate> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let Ok(found) = super::discover(catalog_flag(&args).as_deref()) else {
        return Vec::new();
    };
    let store = catalog::TrustStore::user();
    let Some(catalog) = catalog::load_for_completion(found, store.as_ref()) else {
        return Vec::new();
    };
    let prefix = current.to_string_lossy();
    catalog
        .clusters
        .iter()
        .filter(|c| c.name.starts_with(prefix.as_ref()))
        .map(|c| {
            let roles: Vec<&str> = c.endpoints.iter().map(|e| e.role.as_str()).collect();
            CompletionCandidate::new(c.name.clone()).help(Some(roles.join(", ").into()))
        })
        .collect()
}
