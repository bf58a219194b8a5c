//! A snapshot of a large validated catalog, so that `url` on a catalog of a
//! thousand clusters does not pay for YAML scanning on every run.
//!
//! Only catalogs of at least [`MIN_SIZE`] bytes are snapshotted (small ones
//! read in well under a millisecond). The snapshot lives in the user cache dir
//! and is used only while the catalog file's path, size and modification
//! time, pgconn's version and `$HOME` are what they were, and every root
//! certificate file it names still exists; anything else means a full read.
//! Writing it is best effort: a read-only cache dir only costs speed.

use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::model::{Catalog, RootCert};
use super::node::Pos;

/// Catalogs smaller than this are always read in full.
pub const MIN_SIZE: u64 = 64 * 1024;

/// What identifies the catalog file a snapshot was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    version: String,
    path: PathBuf,
    len: u64,
    modified_ns: u128,
    home: Option<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    stamp: Stamp,
    positions: Vec<Pos>,
    catalog: Catalog,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    if meta.len() < MIN_SIZE {
        return None;
    }
    Some(Stamp {
        version: env!("CARGO_PKG_VERSION").to_string(),
        path: fs::canonicalize(path).ok()?,
        len: meta.len(),
        modified_ns: meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos(),
        home: dirs::home_dir(),
    })
}

fn file_for(stamp: &Stamp) -> Option<PathBuf> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    stamp.path.hash(&mut hasher);
    let dir = dirs::cache_dir()?.join("pgconn");
    Some(dir.join(format!("catalog-{:016x}.json", hasher.finish())))
}

fn roots_exist(catalog: &Catalog) -> bool {
    catalog
        .clusters
        .iter()
        .flat_map(|c| &c.endpoints)
        .all(|e| match &e.sslrootcert {
            RootCert::File(p) => p.is_file(),
            RootCert::System => true,
        })
}

/// The snapshot of the catalog at `path`, when one is current.
pub fn read(path: &Path) -> Option<Catalog> {
    let stamp = stamp(path)?;
    let text = fs::read(file_for(&stamp)?).ok()?;
    let snapshot: Snapshot = serde_json::from_slice(&text).ok()?;
    if snapshot.stamp != stamp || snapshot.positions.len() != snapshot.catalog.clusters.len() {
        return None;
    }
    let mut catalog = snapshot.catalog;
    for (cluster, pos) in catalog.clusters.iter_mut().zip(snapshot.positions) {
        cluster.pos = pos;
    }
    catalog.path = path.to_path_buf();
    roots_exist(&catalog).then_some(catalog)
}

/// Saves a snapshot of a freshly validated catalog (best effort).
pub fn write(path: &Path, catalog: &Catalog) {
    let Some(stamp) = stamp(path) else { return };
    let Some(file) = file_for(&stamp) else { return };
    let snapshot = Snapshot {
        stamp,
        positions: catalog.clusters.iter().map(|c| c.pos).collect(),
        catalog: catalog.clone(),
    };
    let Ok(text) = serde_json::to_vec(&snapshot) else {
        return;
    };
    let Some(dir) = file.parent() else { return };
    if fs::create_dir_all(dir).is_err() {
        return;
    }
    let _ = crate::atomic_file::write(
        &file,
        &text,
        crate::atomic_file::Mode::Exactly(0o600),
        crate::atomic_file::Symlinks::Refuse,
    );
}
