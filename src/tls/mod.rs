//! TLS for PostgreSQL with rustls (ring provider only): trusted roots from
//! the catalog's `sslrootcert`, client configs for each way of verifying
//! ([`Verify`]), the `SSLRequest` and a probing handshake ([`probe`]), and
//! certificate facts and separate chain / host-name verdicts ([`cert`]).

pub mod cert;
pub mod probe;
mod verifier;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use crate::catalog::RootCert;

/// Why TLS could not be set up on this side.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TlsError {
    /// The root file cannot be read or holds no certificate.
    #[error("cannot use sslrootcert {}: {reason}", path.display())]
    RootFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(String),
}

impl TlsError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            TlsError::RootFile { .. } => {
                "point the catalog's sslrootcert at a PEM file with the CA certificate, or use `system`".into()
            }
            TlsError::Config(_) => return None,
        })
    }
}

/// The process-wide crypto provider: ring, installed once as the default
/// (another part of pgconn may have installed it first; that is fine).
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let _ = CryptoProvider::install_default(rustls::crypto::ring::default_provider());
            provider
        })
        .clone()
}

/// Trusted roots and how to name them to a user.
#[derive(Debug, Clone)]
pub struct Roots {
    /// The store.
    pub store: Arc<RootCertStore>,
    /// e.g. `system (webpki roots + /etc/ssl/certs/ca-certificates.crt)`.
    pub described: String,
}

/// Loads the roots `sslrootcert` names: `system` is the webpki roots plus
/// the OS bundle (what libpq 16's `sslrootcert=system` trusts), a path is a
/// PEM file.
pub fn load_roots(root: &RootCert) -> Result<Roots, TlsError> {
    match root {
        RootCert::System => Ok(system_roots()),
        RootCert::File(path) => file_roots(path),
    }
}

fn system_roots() -> Roots {
    let mut store = RootCertStore::empty();
    store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut described = "system (webpki roots".to_string();
    if let Some(bundle) = crate::platform::ca_bundle()
        && let Ok(iter) = CertificateDer::pem_file_iter(&bundle)
    {
        let (added, _) = store.add_parsable_certificates(iter.filter_map(Result::ok));
        let _ = write!(described, " + {added} from {}", bundle.display());
    }
    described.push(')');
    Roots {
        store: Arc::new(store),
        described,
    }
}

fn file_roots(path: &Path) -> Result<Roots, TlsError> {
    let err = |reason: String| TlsError::RootFile {
        path: path.to_path_buf(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| err(e.to_string()))?;
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(err("no usable certificate in it".into()));
    }
    Ok(Roots {
        store: Arc::new(store),
        described: path.display().to_string(),
    })
}

/// How much of the server certificate a connection checks (libpq sslmode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// verify-full: chain and host name.
    Full,
    /// verify-ca: chain only.
    Ca,
    /// require: nothing but the handshake signatures.
    Nothing,
}

/// A client config that verifies as `verify` says.
pub fn client_config(roots: Option<&Roots>, verify: Verify) -> Result<ClientConfig, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let config = match (verify, roots) {
        (Verify::Full, Some(roots)) => builder
            .with_root_certificates(roots.store.clone())
            .with_no_client_auth(),
        (Verify::Ca, Some(roots)) => builder
            .dangerous()
            .with_custom_certificate_verifier(verifier::ignoring_name(roots)?)
            .with_no_client_auth(),
        (Verify::Nothing, _) => builder
            .dangerous()
            .with_custom_certificate_verifier(verifier::accept_any())
            .with_no_client_auth(),
        (_, None) => return Err(TlsError::Config("no trusted roots to verify with".into())),
    };
    Ok(config)
}
