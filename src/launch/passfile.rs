//! A private, temporary libpq passfile (mode 0600 in a 0700 directory),
//! removed when dropped, which the child's cleanup guarantees on every exit
//! path pgconn controls (normal exit, SIGINT, SIGTERM, SIGHUP).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::credentials::Secret;

/// A passfile on disk; the directory and file are removed on drop.
#[derive(Debug)]
pub struct Passfile {
    dir: PathBuf,
    file: PathBuf,
}

/// Escapes a `.pgpass` field (`\` and `:`).
pub fn escape_field(field: &str) -> String {
    field.replace('\\', r"\\").replace(':', r"\:")
}

fn runtime_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

impl Passfile {
    /// Whether a password can be written to a passfile (libpq reads it by lines).
    pub fn can_hold(password: &str) -> bool {
        !password.contains(['\n', '\r'])
    }

    /// Writes `*:*:*:user:password` into a fresh private directory.
    pub fn create(user: &str, password: &Secret) -> std::io::Result<Passfile> {
        let base = runtime_dir();
        let mut attempt = 0u32;
        let dir = loop {
            let dir = base.join(format!("pgconn-{}-{attempt}", std::process::id()));
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        let file = dir.join("pgpass");
        let guard = Passfile { dir, file };
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&guard.file)?;
        writeln!(
            f,
            "*:*:*:{}:{}",
            escape_field(user),
            escape_field(password.expose())
        )?;
        Ok(guard)
    }

    /// Its path, for `PGPASSFILE`.
    pub fn path(&self) -> &Path {
        &self.file
    }
}

impl Drop for Passfile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.file);
        let _ = fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_file_with_escaped_fields_removed_on_drop() {
        let pf = Passfile::create("u:1", &Secret::new(r"a:b\c")).unwrap();
        let path = pf.path().to_path_buf();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "*:*:*:u\\:1:a\\:b\\\\c\n"
        );
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(pf);
        assert!(!path.exists());
        assert!(!path.parent().unwrap().exists());
    }

    #[test]
    fn newlines_cannot_be_written() {
        assert!(!Passfile::can_hold("a\nb"));
        assert!(Passfile::can_hold("a:b"));
    }
}
