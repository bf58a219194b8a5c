//! The cluster catalog: where it is found, how it is read (YAML, TOML or
//! JSON, strictly), and the validated model every command works from.
//!
//! Reading is two steps: [`node`] turns the file into a positioned tree, then
//! [`parse`] walks it against the schema, collecting *all* problems.

mod discover;
mod fields;
mod include;
mod model;
mod node;
mod parse;
pub mod remote;
pub mod schema;
mod snapshot;
mod sources;
mod template;
pub mod trust;

use std::fmt;
use std::path::{Path, PathBuf};

pub use discover::{Discovery, discover};
pub use model::{
    Catalog, Cluster, Endpoint, PoolMode, Pooler, PoolerKind, Role, RootCert, ServiceRef,
    SourceSpec, SslMode, User,
};
pub use node::Pos;
pub use parse::is_host_name;
pub use trust::{Trust, TrustStore};

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
    /// The included file or URL it is in, when not the catalog itself.
    pub origin: Option<String>,
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
        let file = self
            .origin
            .clone()
            .unwrap_or_else(|| file.display().to_string());
        let mut out = format!("{file}:{}: {severity}: {at}{}", self.pos, self.message);
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
    /// The file is larger than any catalog pgconn reads.
    #[error("catalog {} is larger than {} MiB", .path.display(), .max / (1024 * 1024))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        max: u64,
    },
    /// The extension says no format pgconn reads.
    #[error("cannot tell the format of {}: use .yaml, .yml, .toml or .json", .path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// Someone other than the user could have written the file.
    #[error("refusing catalog {}: it {problem}", .path.display())]
    UnsafeFile {
        /// The file.
        path: PathBuf,
        /// Who else could write it.
        problem: String,
        /// The command that fixes it.
        fix: String,
    },
    /// A working-directory catalog the user has not trusted, for a command
    /// that would fetch credentials, run commands or connect.
    #[error(
        "catalog {} is not trusted{}: pgconn would fetch credentials and connect where it says",
        .path.display(),
        if *.edited { " (it changed since it was trusted)" } else { "" }
    )]
    Untrusted {
        /// The file.
        path: PathBuf,
        /// Whether an earlier content of it was trusted.
        edited: bool,
    },
    /// A remote catalog (or include) cannot be had, or was refused.
    #[error("catalog {source_name}: {reason}")]
    Remote {
        /// The URL or `k8s:` source.
        source_name: String,
        /// Why.
        reason: String,
    },
    /// The includes of a catalog form a cycle.
    #[error("catalog includes form a cycle: {}", .chain.join(" → "))]
    IncludeCycle {
        /// The files and URLs, in include order, back to the first.
        chain: Vec<String>,
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
            CatalogError::UnsafeFile { fix, .. } => Some(format!(
                "run `{fix}` (a catalog decides where passwords go and which commands run)"
            )),
            CatalogError::Untrusted { path, .. } => Some(format!(
                "read it, then run `pgconn catalog trust {}`; describing commands (ls, show, \
                 url --no-password) work without trust",
                trust::shell_quote(path)
            )),
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
    /// Lines for stderr (a remote include used from its last good copy).
    pub notes: Vec<String>,
}

/// The validated catalog at `path`, from a current snapshot when the file is
/// large (see [`snapshot`]); warnings are not kept. `catalog validate` uses
/// [`load`], which always reads the file. Remote includes are fetched as
/// `fetching` says (with `force`, never from a snapshot).
pub fn load_fast(path: &Path, fetching: &remote::Fetching) -> Result<Loaded, CatalogError> {
    if !fetching.force
        && let Some(catalog) = snapshot::read(path)
    {
        return Ok(Loaded {
            catalog,
            warnings: Vec::new(),
            notes: Vec::new(),
        });
    }
    let text = read_text(path, MAX_BYTES)?;
    let loaded = load_source(path, &text, fetching)?;
    // a catalog with includes changes when they do: never snapshotted
    if loaded.catalog.sources.len() <= 1 {
        snapshot::write(path, &loaded.catalog);
    }
    Ok(loaded)
}

/// What a catalog is opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Fetching credentials, running commands, connecting, writing files:
    /// an untrusted catalog is an error, found before it is even parsed.
    Use,
    /// Only describing it (`ls`, `show`, `url --no-password`): an untrusted
    /// catalog is read, and the caller says that it is untrusted.
    Describe,
}

/// A catalog opened for a command, and how far it is trusted.
#[derive(Debug)]
pub struct Opened {
    /// Where it was found and why there.
    pub found: Discovery,
    /// How far it is trusted.
    pub trust: Trust,
    /// The validated catalog.
    pub catalog: Catalog,
    /// Lines for stderr (a remote source used from its last good copy).
    pub notes: Vec<String>,
}

/// Opens the catalog `found`: refuses a file others could have written,
/// decides its trust (a working-directory catalog is hashed and parsed from
/// the same bytes, so what is trusted is what is used), and for
/// [`Purpose::Use`] refuses an untrusted one before parsing it.
pub fn open(
    found: Discovery,
    store: Option<&trust::TrustStore>,
    purpose: Purpose,
    fetching: &remote::Fetching,
) -> Result<Opened, CatalogError> {
    if let Some(remote) = remote::Remote::parse(&found.path.display().to_string()) {
        let fetched = remote::fetch(&remote?, remote::DEFAULT_REFRESH, fetching)?;
        let loaded = load_source(&found.path, &fetched.text, fetching)?;
        let trust = Trust::ByPlace(found.reason);
        let mut notes = fetched.note.into_iter().collect::<Vec<_>>();
        notes.extend(loaded.notes);
        return Ok(Opened {
            found,
            trust,
            catalog: loaded.catalog,
            notes,
        });
    }
    trust::check_owner_and_mode(&found.path)?;
    if !trust::needs_recorded_trust(found.reason) {
        let loaded = load_fast(&found.path, fetching)?;
        let trust = Trust::ByPlace(found.reason);
        return Ok(Opened {
            found,
            trust,
            catalog: loaded.catalog,
            notes: loaded.notes,
        });
    }
    let unreadable = |source| CatalogError::Unreadable {
        path: found.path.clone(),
        source,
    };
    let text = read_text(&found.path, MAX_BYTES)?;
    let canonical = std::fs::canonicalize(&found.path).map_err(unreadable)?;
    let digest = trust::digest(&include::local_closure(&found.path, text.as_bytes()));
    let trust = if store.is_some_and(|s| s.is_trusted(&canonical, &digest)) {
        Trust::Recorded
    } else {
        Trust::Untrusted
    };
    if purpose == Purpose::Use && !trust.allows_use() {
        return Err(CatalogError::Untrusted {
            path: found.path,
            edited: store.is_some_and(|s| s.knows(&canonical)),
        });
    }
    // an untrusted catalog is only described: nothing it names is fetched
    let offline = remote::Fetching {
        offline: true,
        ..fetching.clone()
    };
    let fetching = if trust.allows_use() {
        fetching
    } else {
        &offline
    };
    let loaded = load_source(&found.path, &text, fetching)?;
    Ok(Opened {
        found,
        trust,
        catalog: loaded.catalog,
        notes: loaded.notes,
    })
}

/// The bytes a working-directory catalog is trusted by: its own and those
/// of the local files it includes.
pub fn trusted_bytes(path: &Path, bytes: &[u8]) -> Vec<u8> {
    include::local_closure(path, bytes)
}

/// No catalog is read past this size (a catalog of a thousand clusters is
/// about 200 KiB): a huge file is refused instead of filling memory.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Completion reads no catalog larger than this.
pub const MAX_COMPLETION_BYTES: u64 = 1024 * 1024;

/// The text of the catalog at `path`, refused past `max` bytes.
/// A catalog file's text, refusing one larger than `max` bytes without reading it all.
pub fn read_text(path: &Path, max: u64) -> Result<String, CatalogError> {
    let unreadable = |source| CatalogError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, max + 1), &mut text)
        .map_err(unreadable)?;
    if text.len() as u64 > max {
        return Err(CatalogError::TooLarge {
            path: path.to_path_buf(),
            max,
        });
    }
    Ok(text)
}

/// The catalog at `path` if shell completion may read it, else `None`.
///
/// Completion runs on every TAB, in whatever directory the shell is in, with
/// nobody to show an error to: it reads only a regular file of at most
/// [`MAX_COMPLETION_BYTES`] that passes the same caps as any catalog
/// (alias expansion, nesting), and never reports why it declined.
pub fn load_for_completion(found: Discovery, store: Option<&TrustStore>) -> Option<Catalog> {
    let remote = remote::Remote::parse(&found.path.display().to_string()).is_some();
    if !remote && !may_complete_from(&found.path) {
        return None;
    }
    // an untrusted working-directory catalog is not even parsed: pressing TAB
    // in a cloned repository must not read what it says
    open(found, store, Purpose::Use, &remote::Fetching::default())
        .ok()
        .map(|o| o.catalog)
}

/// Whether completion may read the local catalog at `path` at all: a
/// regular file within the size cap.
fn may_complete_from(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.len() <= MAX_COMPLETION_BYTES)
}

/// Reads and validates the catalog at `path`.
pub fn load(path: &Path) -> Result<Loaded, CatalogError> {
    let text = read_text(path, MAX_BYTES)?;
    load_str(path, &text)
}

fn read_tree(path: &Path, text: &str) -> Result<node::Node, CatalogError> {
    read_tree_named(&path.display().to_string(), text, false)
}

/// Reads the document `name` (a path or URL, whose extension picks the
/// format; a URL without one is YAML).
fn read_tree_named(name: &str, text: &str, remote: bool) -> Result<node::Node, CatalogError> {
    let path = Path::new(name.split(['?', '#']).next().unwrap_or(name));
    let format = match format_of(path) {
        Some(f) => f,
        None if remote => Format::Yaml,
        None => {
            return Err(CatalogError::UnknownFormat {
                path: path.to_path_buf(),
            });
        }
    };
    let root = match format {
        Format::Yaml => node::from_yaml(text),
        Format::Toml => node::from_toml(text),
        Format::Json => node::from_json(text),
    };
    root.map_err(|e| CatalogError::Invalid {
        path: PathBuf::from(name),
        diagnostics: vec![Diagnostic {
            origin: None,
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
    let text = read_text(path, MAX_BYTES)?;
    Ok(read_tree(path, &text)?.to_json())
}

/// Validates catalog text as if read from `path` (whose extension picks the format).
pub fn load_str(path: &Path, text: &str) -> Result<Loaded, CatalogError> {
    load_source(path, text, &remote::Fetching::default())
}

/// Validates catalog text found at `path` (a file or URL) with its includes
/// laid under it, fetched as `fetching` says.
pub fn load_source(
    path: &Path,
    text: &str,
    fetching: &remote::Fetching,
) -> Result<Loaded, CatalogError> {
    let assembled = include::assemble(path, text, fetching)?;
    let mut report = fields::Report::default();
    let mut catalog = parse::catalog(&assembled.root, path, &mut report);
    for d in &mut report.diagnostics {
        if d.pos.src != 0 {
            d.origin = assembled.sources.get(usize::from(d.pos.src)).cloned();
        }
    }
    if report.has_errors() {
        return Err(CatalogError::Invalid {
            path: path.to_path_buf(),
            diagnostics: report.diagnostics,
        });
    }
    catalog.sources = assembled.sources;
    Ok(Loaded {
        catalog,
        warnings: report.diagnostics,
        notes: assembled.notes,
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
