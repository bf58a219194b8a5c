//! Whether a catalog may be used to fetch credentials, run commands and
//! connect: a catalog decides which host receives a password and which
//! command runs, so it is code, and pgconn runs only code the user chose.
//!
//! - A catalog named by `--catalog`/`$PGCONN_CATALOG`, or found in the user
//!   config dir or `/etc/pgconn`, is trusted by where it is.
//! - One found in the working directory is trusted only after
//!   `pgconn catalog trust`, which records its canonical path and the SHA-256
//!   of its content in the data dir ([`TrustStore`]); any edit untrusts it.
//! - Any local catalog file writable by group or others, or owned by someone
//!   other than the invoking user or root, is refused wherever it is
//!   ([`check_owner_and_mode`]).

use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CatalogError;
use crate::atomic_file::{self, Mode, Symlinks};

/// How far a catalog is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Trusted because of where it is (`--catalog`, `$PGCONN_CATALOG`, the
    /// user config dir, `/etc/pgconn`).
    ByPlace(&'static str),
    /// A working-directory catalog whose content the user trusted.
    Recorded,
    /// A working-directory catalog not (or no longer) trusted.
    Untrusted,
}

impl Trust {
    /// Whether credentials may be fetched, commands run and hosts reached.
    pub fn allows_use(&self) -> bool {
        !matches!(self, Trust::Untrusted)
    }

    /// How it is trusted, for `catalog path` and `-v`.
    pub fn describe(&self) -> String {
        match self {
            Trust::ByPlace(reason) => format!("trusted by its place ({reason})"),
            Trust::Recorded => "trusted (`pgconn catalog trust`, content unchanged)".into(),
            Trust::Untrusted => "NOT trusted (found in the working directory)".into(),
        }
    }
}

/// Whether a catalog found this way needs an explicit `catalog trust`.
pub fn needs_recorded_trust(reason: &str) -> bool {
    reason == super::discover::WORKING_DIRECTORY
}

/// The hex SHA-256 of a catalog's bytes.
pub fn digest(bytes: &[u8]) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, bytes);
    hash.as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// Refuses a catalog file that someone else could have written: writable by
/// group or others, or owned by a user other than the invoking one or root.
pub fn check_owner_and_mode(path: &Path) -> Result<(), CatalogError> {
    let meta = std::fs::metadata(path).map_err(|source| CatalogError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let me = nix::unistd::geteuid().as_raw();
    let unsafe_because = |problem: String, fix: String| CatalogError::UnsafeFile {
        path: path.to_path_buf(),
        problem,
        fix,
    };
    if meta.uid() != me && meta.uid() != 0 {
        return Err(unsafe_because(
            format!(
                "is owned by uid {}, not by you (uid {me}) or root",
                meta.uid()
            ),
            format!("chown {me} {}", shell_quote(path)),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        let who = match meta.mode() & 0o022 {
            0o020 => "group",
            0o002 => "others",
            _ => "group and others",
        };
        return Err(unsafe_because(
            format!("is writable by {who} (mode {:o})", meta.mode() & 0o7777),
            format!("chmod go-w {}", shell_quote(path)),
        ));
    }
    Ok(())
}

/// A path as a POSIX shell word, for commands pgconn tells the user to run.
pub fn shell_quote(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c));
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// One trusted catalog: its canonical path and content digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    path: PathBuf,
    sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    version: u32,
    trusted: Vec<Entry>,
}

/// The catalogs the user trusted, in `<data_dir>/pgconn/trusted.json`.
#[derive(Debug, Clone)]
pub struct TrustStore {
    file: PathBuf,
}

impl TrustStore {
    /// The user's store (`$XDG_DATA_HOME/pgconn/trusted.json`).
    pub fn user() -> Option<TrustStore> {
        Some(TrustStore {
            file: dirs::data_dir()?.join("pgconn").join("trusted.json"),
        })
    }

    /// The store kept in `file` (tests).
    pub fn at(file: PathBuf) -> TrustStore {
        TrustStore { file }
    }

    /// Where it is kept.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Whether the catalog at canonical `path` with content `sha256` is trusted.
    pub fn is_trusted(&self, path: &Path, sha256: &str) -> bool {
        self.read()
            .trusted
            .iter()
            .any(|e| e.path == path && e.sha256 == sha256)
    }

    /// Whether some content of the catalog at canonical `path` was trusted
    /// (so an untrusted one was edited since).
    pub fn knows(&self, path: &Path) -> bool {
        self.read().trusted.iter().any(|e| e.path == path)
    }

    /// Trusts `sha256` as the content of canonical `path` (replacing an earlier digest).
    pub fn trust(&self, path: &Path, sha256: &str) -> std::io::Result<()> {
        let mut stored = self.read();
        stored.trusted.retain(|e| e.path != path);
        stored.trusted.push(Entry {
            path: path.to_path_buf(),
            sha256: sha256.to_string(),
        });
        self.write(&stored)
    }

    /// Forgets canonical `path`; whether it was there.
    pub fn untrust(&self, path: &Path) -> std::io::Result<bool> {
        let mut stored = self.read();
        let before = stored.trusted.len();
        stored.trusted.retain(|e| e.path != path);
        if stored.trusted.len() == before {
            return Ok(false);
        }
        self.write(&stored)?;
        Ok(true)
    }

    /// The stored entries; a missing or unreadable store trusts nothing.
    fn read(&self) -> Stored {
        std::fs::read(&self.file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Replaces the store atomically (0600, never through a symlink).
    fn write(&self, stored: &Stored) -> std::io::Result<()> {
        let dir = self.file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let text = serde_json::to_vec_pretty(&Stored {
            version: 1,
            trusted: stored.trusted.clone(),
        })?;
        atomic_file::write(&self.file, &text, Mode::Exactly(0o600), Symlinks::Refuse)
            .map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn trust_binds_path_and_content_and_untrust_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let store = TrustStore::at(dir.path().join("d/trusted.json"));
        let p = Path::new("/repo/pgconn.yaml");
        assert!(!store.is_trusted(p, "aa"));
        store.trust(p, "aa").unwrap();
        assert!(store.is_trusted(p, "aa"));
        assert!(!store.is_trusted(p, "bb"), "an edit untrusts");
        assert!(!store.is_trusted(Path::new("/other/pgconn.yaml"), "aa"));
        assert!(store.knows(p));
        store.trust(p, "bb").unwrap();
        assert!(store.is_trusted(p, "bb") && !store.is_trusted(p, "aa"));
        let mode = std::fs::metadata(store.file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(store.untrust(p).unwrap());
        assert!(!store.untrust(p).unwrap());
        assert!(!store.is_trusted(p, "bb"));
    }

    #[test]
    fn group_writable_and_foreign_files_are_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("it's.yaml");
        std::fs::write(&p, "version: 1\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o664)).unwrap();
        let e = check_owner_and_mode(&p).unwrap_err();
        let text = format!("{e} {}", e.hint().unwrap_or_default());
        assert!(text.contains("writable by group"), "{text}");
        assert!(text.contains("chmod go-w '"), "{text}");
        assert!(text.contains(r"it'\''s.yaml'"), "{text}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        check_owner_and_mode(&p).unwrap();
    }

    #[test]
    fn shell_quote_leaves_plain_paths_alone() {
        assert_eq!(shell_quote(Path::new("/a/b-c_d.yaml")), "/a/b-c_d.yaml");
        assert_eq!(shell_quote(Path::new("/a b/$x")), "'/a b/$x'");
    }
}
