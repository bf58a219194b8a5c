//! A private, temporary libpq passfile (mode 0600 in a 0700 directory),
//! removed when dropped, which the child's cleanup guarantees on every exit
//! path pgconn controls (normal exit, SIGINT, SIGTERM, SIGHUP, SIGQUIT).
//!
//! The directory is `pgconn-<pid>-<random>` in `$XDG_RUNTIME_DIR` (else the
//! temp dir): unpredictable, so nobody can claim the name first. A SIGKILL
//! leaves it behind; the next run removes such directories when they are
//! this user's and their pid is no longer a running pgconn.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::atomic_file::random_token;
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

/// The passfile directories' name prefix, followed by `<pid>-<random>`.
const PREFIX: &str = "pgconn-";
const FILE_NAME: &str = "pgpass";

/// Removes passfile directories in `base` left by pgconn runs that were
/// killed: owned by `uid`, named `pgconn-<pid>-<token>`, and `pid` is not a
/// running pgconn. Only the passfile and the directory go, nothing else.
fn remove_stale(base: &Path, uid: u32) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten().take(10_000) {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if meta.is_dir() && meta.uid() == uid && !is_running_pgconn(pid) {
            let _ = fs::remove_file(entry.path().join(FILE_NAME));
            let _ = fs::remove_dir(entry.path());
        }
    }
}

/// The pid in a passfile directory's name `pgconn-<pid>-<16 hex digits>`.
fn owner_pid(name: &str) -> Option<i32> {
    let (pid, token) = name.strip_prefix(PREFIX)?.split_once('-')?;
    let token_ok = token.len() == 16 && token.bytes().all(|b| b.is_ascii_hexdigit());
    token_ok.then(|| pid.parse().ok()).flatten()
}

/// Whether `pid` is a live process that may be a pgconn: this process, or
/// one named `pgconn` or like this one (when the system cannot say what it
/// runs, any live pid is taken to be one).
fn is_running_pgconn(pid: i32) -> bool {
    use nix::errno::Errno;
    if u32::try_from(pid).is_ok_and(|p| p == std::process::id()) {
        return true;
    }
    if nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) == Err(Errno::ESRCH) {
        return false;
    }
    let comm = |proc: &str| fs::read_to_string(format!("/proc/{proc}/comm"));
    match (comm(&pid.to_string()), comm("self")) {
        (Ok(theirs), Ok(ours)) => theirs.trim_end() == "pgconn" || theirs == ours,
        _ => true,
    }
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

    /// Writes `*:*:*:user:password` into a fresh private directory (and
    /// removes what killed runs left behind).
    pub fn create(user: &str, password: &Secret) -> std::io::Result<Passfile> {
        let base = runtime_dir();
        let mut attempt = 0u32;
        let dir = loop {
            let dir = base.join(format!("{PREFIX}{}-{}", std::process::id(), random_token()));
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        let file = dir.join(FILE_NAME);
        let guard = Passfile { dir, file };
        if let Ok(meta) = fs::metadata(&guard.dir) {
            remove_stale(&base, meta.uid());
        }
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
    fn stale_dirs_of_dead_pids_go_live_and_foreign_names_stay() {
        let base = tempfile::tempdir().unwrap();
        let uid = fs::metadata(base.path()).unwrap().uid();
        let dead = base.path().join("pgconn-2147483646-0123456789abcdef");
        // pid 1 is alive and no pgconn: the pid was reused
        let reused = base.path().join("pgconn-1-0123456789abcdef");
        let mine = base
            .path()
            .join(format!("pgconn-{}-0123456789abcdef", std::process::id()));
        let unrelated = base.path().join("pgconn-1-notatoken");
        for d in [&dead, &reused, &mine, &unrelated] {
            fs::create_dir(d).unwrap();
            fs::write(d.join(FILE_NAME), "*:*:*:u:p\n").unwrap();
        }
        remove_stale(base.path(), uid);
        assert!(!dead.exists(), "a dead pid's dir is removed");
        assert!(!reused.exists(), "a reused pid's dir is removed");
        assert!(mine.exists(), "this process's own dirs stay");
        assert!(
            unrelated.exists(),
            "names pgconn did not make are left alone"
        );
    }

    #[test]
    fn newlines_cannot_be_written() {
        assert!(!Passfile::can_hold("a\nb"));
        assert!(Passfile::can_hold("a:b"));
    }
}
