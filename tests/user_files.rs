//! Files pgconn writes for users: `service sync --pgpass` never writes a
//! password through a symlinked `.pgpass` unless asked (`--follow-symlinks`),
//! forces `.pgpass` to 0600 as libpq requires, and replaces files atomically
//! (a new inode, no temp file left behind).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Output;

use crate::support::cli::{pgconn, run, stderr};

const CATALOG: &str = "version: 1\ndomain: example.test\nsslmode: verify-full\n\
    clusters:\n  c1:\n    port: 5432\n    database: app\n    endpoints: { write: {} }\n    \
    users:\n      app: { roles: [write] }\n";

fn sync(dir: &Path, extra: &[&str]) -> Output {
    let catalog = dir.join("pgconn.yaml");
    std::fs::write(&catalog, CATALOG).unwrap();
    let mut args = vec!["service", "sync", "--pgpass"];
    args.extend_from_slice(extra);
    let mut cmd = pgconn(&args);
    cmd.env("PGCONN_CATALOG", &catalog)
        .env("HOME", dir)
        .env("PGSERVICEFILE", dir.join("pg_service.conf"))
        .env("PGPASSFILE", dir.join(".pgpass"))
        .env("PGCONN_KEYRING", "none")
        .env("PGCONN_PASSWORD_C1_APP", "s3cret");
    run(&mut cmd)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_symlinked_pgpass_is_refused_unless_asked_and_then_forced_to_0600() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("shared-notes.txt");
    std::fs::write(&elsewhere, "my notes\n").unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.path().join(".pgpass")).unwrap();

    let out = sync(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(".pgpass is a symlink") && err.contains("--follow-symlinks"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&elsewhere).unwrap(),
        "my notes\n",
        "no password written through the link"
    );

    let out = sync(dir.path(), &["--follow-symlinks"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&elsewhere).unwrap();
    assert!(
        text.starts_with("my notes\n") && text.contains(":s3cret"),
        "{text}"
    );
    assert_eq!(
        mode(&elsewhere),
        0o600,
        "libpq ignores a passfile others can read"
    );
    assert!(
        std::fs::symlink_metadata(dir.path().join(".pgpass"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link itself stays"
    );
}

#[test]
fn pgpass_is_forced_to_0600_and_files_are_replaced_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join(".pgpass");
    let service = dir.path().join("pg_service.conf");
    std::fs::write(&pgpass, "h:5432:*:u:old\n").unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&service, "[mine]\nhost=x\n").unwrap();
    std::fs::set_permissions(&service, std::fs::Permissions::from_mode(0o640)).unwrap();
    let inode_before = std::fs::metadata(&service).unwrap().ino();

    let out = sync(dir.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&pgpass), 0o600);
    assert_eq!(mode(&service), 0o640, "pg_service.conf keeps its mode");
    assert_ne!(
        std::fs::metadata(&service).unwrap().ino(),
        inode_before,
        "replaced by rename, not rewritten in place"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
