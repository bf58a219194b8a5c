//! Facts about this machine that decide what a connection string may say:
//! which libpq is installed (does it know `sslrootcert=system`?) and where
//! the OS keeps its CA bundle. Cheap file-system checks only: `url` must not
//! spawn processes.

use std::path::{Path, PathBuf};

use crate::connstr::SystemRoots;

/// Where distributions keep the CA bundle, most common first.
const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/opt/homebrew/etc/openssl@3/cert.pem",
    "/usr/local/etc/openssl@3/cert.pem",
];

/// Library directories where libpq lives.
const LIB_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
    "/opt/homebrew/opt/libpq/lib",
    "/usr/local/opt/libpq/lib",
];

/// The first CA bundle file that exists.
pub fn ca_bundle() -> Option<PathBuf> {
    CA_BUNDLES.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// The major version of the newest libpq installed, from its file name
/// (the `libpq.so.5` link points at `libpq.so.5.15` for PostgreSQL 15). `PGCONN_LIBPQ_VERSION` overrides it,
/// for strings meant for another machine.
pub fn libpq_major() -> Option<u32> {
    if let Some(v) = std::env::var("PGCONN_LIBPQ_VERSION")
        .ok()
        .and_then(|v| v.split('.').next()?.parse().ok())
    {
        return Some(v);
    }
    LIB_DIRS
        .iter()
        .flat_map(|dir| ["libpq.so.5", "libpq.5.dylib"].map(|n| Path::new(dir).join(n)))
        .filter_map(|link| std::fs::read_link(link).ok())
        .filter_map(|target| libpq_major_from_name(&target.file_name()?.to_string_lossy()))
        .max()
}

/// Parses `libpq.so.5.NN` or `libpq.5.NN.dylib`.
fn libpq_major_from_name(name: &str) -> Option<u32> {
    let rest = name
        .strip_prefix("libpq.so.5.")
        .or_else(|| name.strip_prefix("libpq.5.")?.strip_suffix(".dylib"))?;
    rest.split('.').next()?.parse().ok()
}

/// How to name the system roots on this machine.
pub fn system_roots() -> SystemRoots {
    SystemRoots {
        libpq_knows_system: libpq_major().is_some_and(|v| v >= 16),
        bundle: ca_bundle(),
    }
}

#[cfg(test)]
mod tests {
    use super::libpq_major_from_name;

    #[test]
    fn libpq_versions_come_from_file_names() {
        assert_eq!(libpq_major_from_name("libpq.so.5.15"), Some(15));
        assert_eq!(libpq_major_from_name("libpq.so.5.17.2"), Some(17));
        assert_eq!(libpq_major_from_name("libpq.5.16.dylib"), Some(16));
        assert_eq!(libpq_major_from_name("libpq.so.5"), None);
        assert_eq!(libpq_major_from_name("libpq.a"), None);
    }
}
