//! The cluster catalog: where it is found, how it is read (YAML, TOML or
//! JSON, strictly), and the validated model every command works from.
//!
//! Reading is two steps: [`node`] turns the file into a positioned tree, then
//! [`parse`] walks it against the schema, collecting *all* problems.

mod discover;
mod fields;
mod model;
mod node;
mod parse;
pub mod schema;
mod snapshot;
mod sources;
mod template;

use std::fmt;
use std::path::{Path, PathBuf};

pub use discover::{Discovery, discover};
pub use model::{
    Catalog, Cluster, Endpoint, PoolMode, Pooler, PoolerKind, Role, RootCert, ServiceRef,
    SourceSpec, SslMode, User,
};
pub use node::Pos;
pub use parse::is_host_name;

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The catalog cannot be used.
    Error,
    /// Usable, but probably not what was meant.
    Warning,
}

/// One problem found in a catalog.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where in the file.
    pub pos: Pos,
    /// The dotted key path, e.g. `clusters.temporal-db.port`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// Renders as `file:line:col: severity: path: message`, plus a hint line.
    pub fn render(&self, file: &Path) -> String {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let at = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.path)
        };
        let mut out = format!(
            "{}:{}: {severity}: {at}{}",
            file.display(),
            self.pos,
            self.message
        );
        if let Some(hint) = &self.hint {
            out.push_str("\n  hint: ");
            out.push_str(hint);
        }
        out
    }
}

/// Why a catalog could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// No catalog in any of the places looked at.
    #[error("no catalog found (looked at {})", display_paths(.searched))]
    NotFound {
        /// Every place looked at, in order.
        searched: Vec<PathBuf>,
    },
    /// A catalog named explicitly does not exist or cannot be read.
    #[error("cannot read catalog {}: {source}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The extension says no format pgconn reads.
    #[error("cannot tell the format of {}: use .yaml, .yml, .toml or .json", .path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file has syntax or schema errors.
    #[error("{}", render_all(.path, .diagnostics))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found (errors and warnings).
        diagnostics: Vec<Diagnostic>,
    },
}

impl CatalogError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            CatalogError::NotFound { .. } => Some(
                "pass --catalog PATH, set PGCONN_CATALOG, or create ./pgconn.yaml \
                 (`pgconn catalog schema` describes the format)"
                    .into(),
            ),
            CatalogError::Invalid { path, .. } => Some(format!(
                "fix the lines above; `pgconn catalog validate --catalog {}` re-checks",
                path.display()
            )),
            _ => None,
        }
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn render_all(path: &Path, diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let mut out = format!(
        "catalog {} has {errors} error{}:",
        path.display(),
        if errors == 1 { "" } else { "s" }
    );
    for d in diagnostics {
        out.push('\n');
        out.push_str(&d.render(path));
    }
    out
}

/// The file format, from the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Yaml,
    Toml,
    Json,
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "yaml" | "yml" => Some(Format::Yaml),
        "toml" => Some(Format::Toml),
        "json" => Some(Format::Json),
        _ => None,
    }
}

/// A catalog that loaded, with the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    /// The validated catalog.
    pub catalog: Catalog,
    /// Warnings (never errors).
    pub warnings: Vec<Diagnostic>,
}

/// The validated catalog at `path`, from a current snapshot when the file is
/// large (see [`snapshot`]); warnings are not kept. `catalog validate` uses
/// [`load`], which always reads the file.
pub fn load_fast(path: &Path) -> Result<Catalog, CatalogError> {
    if let Some(catalog) = snapshot::read(path) {
        return Ok(catalog);
    }
    let loaded = load(path)?;
    snapshot::write(path, &loaded.catalog);
    Ok(loaded.catalog)
}

/// Reads and validates the catalog at `path`.
pub fn load(path: &Path) -> Result<Loaded, CatalogError> {
    let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(path, &text)
}

fn read_tree(path: &Path, text: &str) -> Result<node::Node, CatalogError> {
    let format = format_of(path).ok_or_else(|| CatalogError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let root = match format {
        Format::Yaml => node::from_yaml(text),
        Format::Toml => node::from_toml(text),
        Format::Json => node::from_json(text),
    };
    root.map_err(|e| CatalogError::Invalid {
        path: path.to_path_buf(),
        diagnostics: vec![Diagnostic {
            severity: Severity::Error,
            pos: e.pos,
            path: String::new(),
            message: format!("syntax error: {}", e.message),
            hint: None,
        }],
    })
}

/// The catalog document as JSON, whatever its format (syntax checked, schema not).
pub fn document_as_json(path: &Path) -> Result<serde_json::Value, CatalogError> {
    let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(read_tree(path, &text)?.to_json())
}

/// Validates catalog text as if read from `path` (whose extension picks the format).
pub fn load_str(path: &Path, text: &str) -> Result<Loaded, CatalogError> {
    let root = read_tree(path, text)?;
    let mut report = fields::Report::default();
    let catalog = parse::catalog(&root, path, &mut report);
    if report.has_errors() {
        return Err(CatalogError::Invalid {
            path: path.to_path_buf(),
            diagnostics: report.diagnostics,
        });
    }
    Ok(Loaded {
        catalog,
        warnings: report.diagnostics,
    })
}

impl fmt::Display for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for w in &self.warnings {
            writeln!(f, "{}", w.render(&self.catalog.path))?;
        }
        Ok(())
    }
}

/// A YAML document (e.g. helm values) as JSON, with `line:col: message` on a syntax error.
pub fn yaml_to_json(text: &str) -> Result<serde_json::Value, String> {
    node::from_yaml(text)
        .map(|n| n.to_json())
        .map_err(|e| format!("{}: {}", e.pos, e.message))
}
