//! Where the catalog is found, first hit wins: `--catalog`, `$PGCONN_CATALOG`,
//! `./pgconn.{yaml,yml,toml,json}`, the user config dir, `/etc/pgconn`.

use std::path::{Path, PathBuf};

use super::CatalogError;

const LOCAL_NAMES: &[&str] = &["pgconn.yaml", "pgconn.yml", "pgconn.toml", "pgconn.json"];
const USER_NAMES: &[&str] = &[
    "catalog.yaml",
    "catalog.yml",
    "catalog.toml",
    "catalog.json",
];
const SYSTEM_PATH: &str = "/etc/pgconn/catalog.yaml";
/// The discovery reason of a catalog found in the working directory.
pub const WORKING_DIRECTORY: &str = "working directory";

/// Where a catalog was found and why there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// The file.
    pub path: PathBuf,
    /// How it was chosen, e.g. `--catalog` or `$PGCONN_CATALOG`.
    pub reason: &'static str,
}

/// Finds the catalog. `flag` is `--catalog`, `env` is `$PGCONN_CATALOG`.
/// An explicitly named file is returned even when missing, so that reading it
/// reports the real error for that path.
pub fn discover(
    flag: Option<&Path>,
    env: Option<&Path>,
    cwd: &Path,
    config_dir: Option<&Path>,
) -> Result<Discovery, CatalogError> {
    if let Some(path) = flag {
        return Ok(Discovery {
            path: path.to_path_buf(),
            reason: "--catalog",
        });
    }
    if let Some(path) = env.filter(|p| !p.as_os_str().is_empty()) {
        return Ok(Discovery {
            path: path.to_path_buf(),
            reason: "$PGCONN_CATALOG",
        });
    }
    let mut searched = Vec::new();
    let candidates = LOCAL_NAMES
        .iter()
        .map(|n| (cwd.join(n), WORKING_DIRECTORY))
        .chain(
            config_dir
                .into_iter()
                .flat_map(|dir| USER_NAMES.iter().map(move |n| dir.join("pgconn").join(n)))
                .map(|p| (p, "user config dir")),
        )
        .chain(std::iter::once((
            PathBuf::from(SYSTEM_PATH),
            "system config",
        )));
    for (path, reason) in candidates {
        if path.is_file() {
            return Ok(Discovery { path, reason });
        }
        searched.push(path);
    }
    Err(CatalogError::NotFound { searched })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_over_env_and_files() {
        let d = discover(
            Some(Path::new("/x/flag.yaml")),
            Some(Path::new("/x/env.yaml")),
            Path::new("/"),
            None,
        )
        .unwrap();
        assert_eq!(d.reason, "--catalog");
    }

    #[test]
    fn working_directory_then_user_config_dir() {
        let cwd = tempfile::tempdir().unwrap();
        let config = tempfile::tempdir().unwrap();
        std::fs::create_dir(config.path().join("pgconn")).unwrap();
        std::fs::write(config.path().join("pgconn/catalog.toml"), "").unwrap();
        let d = discover(None, None, cwd.path(), Some(config.path())).unwrap();
        assert_eq!(d.path, config.path().join("pgconn/catalog.toml"));
        std::fs::write(cwd.path().join("pgconn.json"), "").unwrap();
        let d = discover(None, None, cwd.path(), Some(config.path())).unwrap();
        assert_eq!(d.path, cwd.path().join("pgconn.json"));
        assert_eq!(d.reason, "working directory");
    }

    #[test]
    fn not_found_lists_every_place_searched() {
        if Path::new(SYSTEM_PATH).exists() {
            return; // this machine has a system catalog, which would be found
        }
        let cwd = tempfile::tempdir().unwrap();
        let Err(CatalogError::NotFound { searched }) =
            discover(None, Some(Path::new("")), cwd.path(), None)
        else {
            panic!("expected NotFound");
        };
        assert_eq!(searched.len(), LOCAL_NAMES.len() + 1);
        assert_eq!(searched.last().unwrap(), Path::new(SYSTEM_PATH));
    }
}
