//! `catalog import` and `catalog diff`: a v1 catalog built from what the
//! platform already says about its databases, one file per source
//! ([`kubernetes`]: the operators' objects and Services; [`helm`]: the
//! platform chart's values), written by [`writer`] and compared by [`diff`].
//! Import only reads; its output always validates ([`to_catalog`]).

pub mod diff;
pub mod helm;
pub mod kubernetes;
pub mod model;
pub mod writer;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use diff::{Drift, diff};
pub use model::Imported;

use crate::catalog::{self, Catalog, CatalogError};

/// Why an import could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Nothing could be read from the source.
    #[error("cannot read the source: {0}")]
    Unreadable(String),
    /// The source was read but describes no usable cluster.
    #[error("{0}")]
    NothingFound(String),
    /// What import wrote does not validate (a bug in pgconn).
    #[error("the imported catalog does not validate: {0}")]
    Invalid(CatalogError),
}

impl ImportError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            ImportError::Unreadable(_) => Some(
                "check the kubeconfig context (`--context`) and that it may get and list \
                 services, endpoints and the operators' objects (`kubectl auth can-i list services`)"
                    .into(),
            ),
            ImportError::NothingFound(_) => Some(
                "look in another namespace (`-n NS`, `-A` for all); clusters without external \
                 Services need `--internal`"
                    .into(),
            ),
            ImportError::Invalid(_) => Some("please report this with the source objects".into()),
        }
    }
}

/// The validated catalog the import's YAML gives.
pub fn to_catalog(imported: &Imported) -> Result<Catalog, ImportError> {
    let text = writer::yaml(imported);
    catalog::load_str(Path::new("imported.yaml"), &text)
        .map(|loaded| loaded.catalog)
        .map_err(ImportError::Invalid)
}
