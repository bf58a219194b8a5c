//! `include:` — a catalog laid over others: local files (relative to the
//! including file), `https://` URLs (see [`super::remote`]). Included
//! documents are read first, in order; mappings merge key by key, lists and
//! scalars replace, the including file wins. Includes nest; a cycle is an
//! error. Every node keeps the document it came from, so diagnostics and
//! `show` name the file or URL and line of each value.
//!
//! A remote or included catalog may not use `command` or `file` sources nor
//! relative `sslrootcert` paths unless the including local file says
//! `trust_remote_commands: true`: a shared catalog must not run code on every
//! laptop by default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::node::{Node, Value};
use super::remote::{self, Fetching, Remote};
use super::{CatalogError, Diagnostic, Severity, read_tree_named, trust};

/// A catalog with its includes laid under it.
#[derive(Debug)]
pub struct Assembled {
    /// The merged document.
    pub root: Node,
    /// The name of every document, indexed by `Pos::src` (0: the root).
    pub sources: Vec<String>,
    /// Lines for stderr (a remote source used from its last good copy).
    pub notes: Vec<String>,
}

/// Where a document came from, to resolve its relative includes.
#[derive(Debug, Clone)]
enum Origin {
    Local(PathBuf),
    Remote(String),
}

impl Origin {
    fn name(&self) -> String {
        match self {
            Origin::Local(p) => p.display().to_string(),
            Origin::Remote(u) => u.clone(),
        }
    }

    /// The source an include entry names, relative to this document.
    fn resolve(&self, entry: &str) -> Result<Origin, String> {
        if let Some(remote) = Remote::parse(entry) {
            return remote
                .map(|r| Origin::Remote(with_pin(&r)))
                .map_err(|e| e.to_string());
        }
        match self {
            Origin::Local(path) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                // lexically, without `.`: the name users see in messages
                let joined: PathBuf = dir
                    .join(entry)
                    .components()
                    .filter(|c| !matches!(c, std::path::Component::CurDir))
                    .collect();
                Ok(Origin::Local(joined))
            }
            Origin::Remote(url) => reqwest::Url::parse(url)
                .and_then(|base| base.join(entry))
                .map(|u| Origin::Remote(u.to_string()))
                .map_err(|e| format!("cannot resolve `{entry}` against {url}: {e}")),
        }
    }
}

fn with_pin(r: &Remote) -> String {
    match &r.pin {
        Some(pin) => format!("{}#sha256={pin}", r.url),
        None => r.url.clone(),
    }
}

struct Assembler {
    sources: Vec<String>,
    notes: Vec<String>,
    stack: Vec<String>,
    allow_code: bool,
    refresh: Duration,
    fetching: Fetching,
}

/// Reads the includes of the catalog `text` found at `origin` (a local path
/// or a URL) and lays it over them.
pub fn assemble(origin: &Path, text: &str, fetching: &Fetching) -> Result<Assembled, CatalogError> {
    let origin = match Remote::parse(&origin.display().to_string()) {
        Some(remote) => Origin::Remote(with_pin(&remote?)),
        None => Origin::Local(origin.to_path_buf()),
    };
    let mut a = Assembler {
        sources: Vec::new(),
        notes: Vec::new(),
        stack: vec![key_of(&origin)],
        allow_code: false,
        refresh: remote::DEFAULT_REFRESH,
        fetching: fetching.clone(),
    };
    let root = a.document(&origin, text, true)?;
    Ok(Assembled {
        root,
        sources: a.sources,
        notes: a.notes,
    })
}

/// What identifies a document for cycle detection.
fn key_of(origin: &Origin) -> String {
    match origin {
        Origin::Local(p) => std::fs::canonicalize(p)
            .unwrap_or_else(|_| p.clone())
            .display()
            .to_string(),
        Origin::Remote(u) => u.split('#').next().unwrap_or(u).to_string(),
    }
}

impl Assembler {
    fn document(
        &mut self,
        origin: &Origin,
        text: &str,
        is_root: bool,
    ) -> Result<Node, CatalogError> {
        let src = u16::try_from(self.sources.len()).map_err(|_| CatalogError::Remote {
            source_name: origin.name(),
            reason: "more than 65535 included documents".into(),
        })?;
        self.sources.push(origin.name());
        let mut node = read_tree_named(&origin.name(), text, matches!(origin, Origin::Remote(_)))?;
        node.set_src(src);
        let includes = node.take_key("include");
        let allow = node.take_key("trust_remote_commands");
        let refresh = node.take_key("refresh");
        let local_root = is_root && matches!(origin, Origin::Local(_));
        if local_root {
            self.allow_code = matches!(allow.map(|n| n.value), Some(Value::Bool(true)));
            if let Some(r) = refresh {
                self.refresh = duration(&r).map_err(|m| invalid(origin, &r, m))?;
            }
        }
        if !local_root && !self.allow_code {
            forbid_code(&node, origin)?;
        }
        let Some(includes) = includes else {
            return Ok(node);
        };
        let Value::Seq(entries) = includes.value else {
            return Err(invalid(
                origin,
                &includes,
                "`include` must be a list of files and URLs",
            ));
        };
        let mut merged: Option<Node> = None;
        for entry in entries {
            let Value::Str(name) = &entry.value else {
                return Err(invalid(
                    origin,
                    &entry,
                    "an include is a file path or an https:// URL",
                ));
            };
            let child_origin = origin
                .resolve(name)
                .map_err(|m| invalid(origin, &entry, m))?;
            let child = self.child(&child_origin)?;
            merged = Some(match merged {
                None => child,
                Some(mut m) => {
                    m.overlay(child);
                    m
                }
            });
        }
        Ok(match merged {
            Some(mut m) => {
                m.overlay(node);
                m
            }
            None => node,
        })
    }

    fn child(&mut self, origin: &Origin) -> Result<Node, CatalogError> {
        let key = key_of(origin);
        if let Some(i) = self.stack.iter().position(|k| *k == key) {
            let mut chain = self.stack[i..].to_vec();
            chain.push(key);
            return Err(CatalogError::IncludeCycle { chain });
        }
        let text = self.read(origin)?;
        self.stack.push(key);
        let node = self.document(origin, &text, false);
        self.stack.pop();
        node
    }

    fn read(&mut self, origin: &Origin) -> Result<String, CatalogError> {
        match origin {
            Origin::Local(path) => {
                trust::check_owner_and_mode(path)?;
                super::read_text(path, super::MAX_BYTES)
            }
            Origin::Remote(name) => {
                let remote = Remote::parse(name).expect("a remote origin parses")?;
                let fetched = remote::fetch(&remote, self.refresh, &self.fetching)?;
                self.notes.extend(fetched.note);
                Ok(fetched.text)
            }
        }
    }
}

/// The bytes a working-directory catalog is trusted by: its own, then those
/// of every local file it includes (recursively; remote includes are the
/// organisation's, fetched only once the catalog is trusted).
pub fn local_closure(path: &Path, bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut seen = vec![key_of(&Origin::Local(path.to_path_buf()))];
    collect_local(path, bytes, &mut out, &mut seen);
    out
}

fn collect_local(path: &Path, bytes: &[u8], out: &mut Vec<u8>, seen: &mut Vec<String>) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(mut node) = read_tree_named(&path.display().to_string(), text, false) else {
        return;
    };
    let Some(Node {
        value: Value::Seq(entries),
        ..
    }) = node.take_key("include")
    else {
        return;
    };
    let origin = Origin::Local(path.to_path_buf());
    for entry in entries {
        let Value::Str(name) = &entry.value else {
            continue;
        };
        let Ok(Origin::Local(child)) = origin.resolve(name) else {
            continue;
        };
        let key = key_of(&Origin::Local(child.clone()));
        if seen.contains(&key) {
            continue;
        }
        seen.push(key.clone());
        let child_bytes = super::read_text(&child, super::MAX_BYTES)
            .map(String::into_bytes)
            .unwrap_or_default();
        out.push(0);
        out.extend_from_slice(key.as_bytes());
        out.push(0);
        out.extend_from_slice(&child_bytes);
        collect_local(&child, &child_bytes, out, seen);
    }
}

/// `30s`, `10m`, `2h`, or a number of seconds.
fn duration(node: &Node) -> Result<Duration, String> {
    let bad = || "`refresh` is a duration like 30s, 10m or 2h".to_string();
    let secs = match &node.value {
        Value::Int(n) => u64::try_from(*n).map_err(|_| bad())?,
        Value::Str(s) => {
            let (num, unit) = s.trim().split_at(
                s.trim()
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(s.len()),
            );
            let n: u64 = num.parse().map_err(|_| bad())?;
            match unit {
                "" | "s" => n,
                "m" => n * 60,
                "h" => n * 3600,
                _ => return Err(bad()),
            }
        }
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs(secs))
}

fn invalid(origin: &Origin, node: &Node, message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid {
        path: PathBuf::from(origin.name()),
        diagnostics: vec![Diagnostic {
            origin: Some(origin.name()),
            severity: Severity::Error,
            pos: node.pos,
            path: String::new(),
            message: message.into(),
            hint: None,
        }],
    }
}

/// Refuses `command`/`file` sources and relative `sslrootcert` paths in a
/// document that is remote or included.
fn forbid_code(doc: &Node, origin: &Origin) -> Result<(), CatalogError> {
    let hint =
        "only the including local catalog can allow this, with `trust_remote_commands: true`";
    let refuse = |node: &Node, what: &str| {
        let mut e = invalid(
            origin,
            node,
            format!("{what} in a remote or included catalog is refused"),
        );
        if let CatalogError::Invalid { diagnostics, .. } = &mut e {
            diagnostics[0].hint = Some(hint.into());
        }
        e
    };
    let relative_root = |node: &Node| matches!(&node.value, Value::Str(s) if s != "system" && !Path::new(s).is_absolute());
    if let Some(n) = get(doc, "sslrootcert").filter(|n| relative_root(n)) {
        return Err(refuse(n, "a relative `sslrootcert`"));
    }
    for cluster in entries(get(doc, "clusters")) {
        for endpoint in entries(get(cluster, "endpoints")) {
            if let Some(n) = get(endpoint, "sslrootcert").filter(|n| relative_root(n)) {
                return Err(refuse(n, "a relative `sslrootcert`"));
            }
        }
        for user in entries(get(cluster, "users")) {
            let Some(Node {
                value: Value::Seq(sources),
                ..
            }) = get(user, "credentials")
            else {
                continue;
            };
            for source in sources {
                for kind in ["command", "file"] {
                    if let Some(n) = get(source, kind) {
                        return Err(refuse(n, &format!("a `{kind}` credential source")));
                    }
                }
            }
        }
    }
    Ok(())
}

fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, n)| n),
        _ => None,
    }
}

fn entries(node: Option<&Node>) -> impl Iterator<Item = &Node> {
    let list: &[(super::node::Key, Node)] = match node.map(|n| &n.value) {
        Some(Value::Map(entries)) => entries,
        _ => &[],
    };
    list.iter().map(|(_, n)| n)
}
