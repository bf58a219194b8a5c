//! Every file pgconn writes for a user (`pg_service.conf`, `.pgpass`, the
//! catalog snapshot in the cache dir) is written here, atomically: a temp file
//! created `O_EXCL` with mode 0600 in the same directory, written, synced,
//! given its final mode, then renamed over the old file. A reader never sees
//! half a file, a crash never leaves one, and a password is never readable by
//! others, not even for a moment.
//!
//! A symlink at the path is refused unless the caller passes
//! [`Symlinks::Follow`] (the user asked, e.g. `service sync --follow-symlinks`):
//! writing a password through `~/.pgpass -> somewhere` would otherwise land in
//! a file the user may not know about, with that file's mode.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What to do when the path is a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symlinks {
    /// Refuse with [`WriteError::Symlink`].
    Refuse,
    /// Write (or remove) the file the link points to; the link stays.
    Follow,
}

/// The mode the written file ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Always this mode (`.pgpass`: libpq ignores a passfile readable by others).
    Exactly(u32),
    /// An existing file's mode, else this one.
    KeepOr(u32),
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The path is a symlink and following was not asked for.
    #[error("{} is a symlink (to {}); pgconn does not write through symlinks unless asked", .path.display(), .target.display())]
    Symlink {
        /// The link.
        path: PathBuf,
        /// What it points to.
        target: PathBuf,
    },
    /// The path exists but is no regular file.
    #[error("{} is not a regular file", .path.display())]
    NotRegular {
        /// The path.
        path: PathBuf,
    },
    /// The file system said no.
    #[error("writing {}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl WriteError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            WriteError::Symlink { target, .. } => Some(format!(
                "pass --follow-symlinks to write {} itself, or point the variable \
                 (PGSERVICEFILE, PGPASSFILE) at the real file",
                target.display()
            )),
            _ => None,
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The path to act on: `path` itself, or what it links to when following.
fn resolve(path: &Path, symlinks: Symlinks) -> Result<(PathBuf, Option<fs::Metadata>), WriteError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((path.to_path_buf(), None)),
        Err(e) => return Err(io_error(path)(e)),
    };
    if meta.file_type().is_symlink() {
        let target = fs::read_link(path).map_err(io_error(path))?;
        let target = path.parent().unwrap_or(Path::new(".")).join(target);
        if symlinks == Symlinks::Refuse {
            return Err(WriteError::Symlink {
                path: path.to_path_buf(),
                target,
            });
        }
        return resolve(&target, Symlinks::Refuse);
    }
    if !meta.is_file() {
        return Err(WriteError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    Ok((path.to_path_buf(), Some(meta)))
}

/// Writes `bytes` to `path` atomically with the given final mode.
pub fn write(path: &Path, bytes: &[u8], mode: Mode, symlinks: Symlinks) -> Result<(), WriteError> {
    let (path, existing) = resolve(path, symlinks)?;
    let final_mode = match (mode, existing) {
        (Mode::KeepOr(_), Some(meta)) => meta.permissions().mode() & 0o7777,
        (Mode::Exactly(m) | Mode::KeepOr(m), _) => m,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let (temp, mut file) = create_temp(dir, &name).map_err(io_error(&path))?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.set_permissions(fs::Permissions::from_mode(final_mode)))
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&temp, &path));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(io_error(&path)(e));
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes `path` (or, following, the file it links to).
pub fn remove(path: &Path, symlinks: Symlinks) -> Result<(), WriteError> {
    let (path, _) = resolve(path, symlinks)?;
    fs::remove_file(&path).map_err(io_error(&path))
}

/// A new temp file next to the target, `O_EXCL`, mode 0600, with an
/// unpredictable name (a few attempts if a name is taken).
fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, fs::File)> {
    let mut last = None;
    for _ in 0..8 {
        let temp = dir.join(format!(".{name}.pgconn-{}.tmp", random_token()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temp name")))
}

/// 16 hex digits from the kernel's random source, for names others must not
/// guess (temp files, the private passfile directory).
pub fn random_token() -> String {
    let mut bytes = [0u8; 8];
    let read = fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // no /dev/urandom (a bare chroot): time and pid are still unique, and
        // O_EXCL keeps a guessed name from being used against us
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mixed = nanos ^ (u128::from(std::process::id()) << 64);
        bytes.copy_from_slice(&mixed.to_le_bytes()[..8]);
    }
    format!("{:016x}", u64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_atomically_with_the_mode_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write(&path, b"one", Mode::KeepOr(0o644), Symlinks::Refuse).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write(&path, b"two", Mode::KeepOr(0o644), Symlinks::Refuse).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        write(&path, b"three", Mode::Exactly(0o600), Symlinks::Refuse).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "three");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 16);
    }
}
