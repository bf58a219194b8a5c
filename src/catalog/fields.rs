//! Typed, position-aware access to a mapping [`Node`] for the schema walk.
//!
//! Every accessor records a [`Diagnostic`] instead of stopping, so one pass
//! over a catalog reports all of its problems.

use super::node::{Key, Node, Pos, Value};
use super::{Diagnostic, Severity};
use crate::suggest::did_you_mean;
use crate::vocab::Vocabulary;

/// Collects diagnostics during a walk.
#[derive(Debug, Default)]
pub struct Report {
    /// Everything found so far.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Records an error at `pos` for the value at `path`.
    pub fn error(&mut self, pos: Pos, path: &str, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Severity::Error, pos, path, message)
    }

    /// Records a warning at `pos` for the value at `path`.
    pub fn warn(&mut self, pos: Pos, path: &str, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Severity::Warning, pos, path, message)
    }

    fn push(
        &mut self,
        severity: Severity,
        pos: Pos,
        path: &str,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic {
            origin: None,
            severity,
            pos,
            path: path.to_string(),
            message: message.into(),
            hint: None,
        });
        self.diagnostics.last_mut().expect("just pushed")
    }

    /// Whether any error (not warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Joins a dotted key path.
pub fn join(path: &str, key: &str) -> String {
    if key.contains(char::is_control) {
        // keeps a diagnostic on one line, whatever the key holds
        return join(path, &key.escape_debug().to_string());
    }
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A mapping being read: known keys are looked up, unknown ones reported.
pub struct Fields<'n> {
    entries: &'n [(Key, Node)],
    /// The mapping's own position.
    pub pos: Pos,
    /// The mapping's dotted path.
    pub path: String,
}

impl<'n> Fields<'n> {
    /// Opens `node` as a mapping whose keys must be among `allowed`
    /// (`x-` keys are always allowed). `None` when it is not a mapping.
    pub fn open(node: &'n Node, path: &str, allowed: &[&str], report: &mut Report) -> Option<Self> {
        let entries: &[(Key, Node)] = match &node.value {
            Value::Map(entries) => entries,
            Value::Null => &[],
            _ => {
                report.error(
                    node.pos,
                    path,
                    format!("expected a mapping, found {}", node.type_name()),
                );
                return None;
            }
        };
        for (key, _) in entries {
            if key.name.starts_with("x-") || allowed.contains(&key.name.as_str()) {
                continue;
            }
            let d = report.error(key.pos, path, format!("unknown key `{}`", key.name));
            d.hint = Some(match did_you_mean(&key.name, allowed.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("allowed here: {}", allowed.join(", ")),
            });
        }
        Some(Fields {
            entries,
            pos: node.pos,
            path: path.to_string(),
        })
    }

    /// The entries that are not `x-` notes, for mappings keyed by user data.
    pub fn entries(node: &'n Node) -> impl Iterator<Item = &'n (Key, Node)> {
        let entries: &[(Key, Node)] = match &node.value {
            Value::Map(e) => e,
            _ => &[],
        };
        entries.iter().filter(|(k, _)| !k.name.starts_with("x-"))
    }

    /// The node under `key`, if present and not null.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
            .filter(|v| !matches!(v.value, Value::Null))
    }

    /// Whether `key` is present at all (even as null).
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.name == key)
    }

    /// The path of a child key.
    pub fn child(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// A string value.
    pub fn str(&self, key: &str, report: &mut Report) -> Option<(&'n str, Pos)> {
        let node = self.get(key)?;
        if let Value::Str(s) = &node.value {
            return Some((s.as_str(), node.pos));
        }
        report.error(
            node.pos,
            &self.child(key),
            format!("expected a string, found {}", node.type_name()),
        );
        None
    }

    /// An unsigned integer within `min..=max`.
    pub fn uint(&self, key: &str, min: u64, max: u64, report: &mut Report) -> Option<(u64, Pos)> {
        let node = self.get(key)?;
        let path = self.child(key);
        match node.value {
            Value::Int(i) if (min..=max).contains(&i.unsigned_abs()) && i >= 0 => {
                Some((i.unsigned_abs(), node.pos))
            }
            Value::Int(i) => {
                report.error(
                    node.pos,
                    &path,
                    format!("{i} is out of range {min}..={max}"),
                );
                None
            }
            Value::Str(ref s) if s.parse::<u64>().is_ok() => {
                report
                    .error(
                        node.pos,
                        &path,
                        format!("expected a number, found the string \"{s}\""),
                    )
                    .hint = Some("write it without quotes".into());
                None
            }
            _ => {
                report.error(
                    node.pos,
                    &path,
                    format!("expected an integer, found {}", node.type_name()),
                );
                None
            }
        }
    }

    /// A boolean.
    pub fn bool(&self, key: &str, report: &mut Report) -> Option<bool> {
        let node = self.get(key)?;
        if let Value::Bool(b) = node.value {
            return Some(b);
        }
        report.error(
            node.pos,
            &self.child(key),
            format!("expected true or false, found {}", node.type_name()),
        );
        None
    }

    /// A list of strings.
    pub fn str_list(&self, key: &str, report: &mut Report) -> Option<Vec<(&'n str, Pos)>> {
        let node = self.get(key)?;
        let path = self.child(key);
        let Value::Seq(items) = &node.value else {
            report.error(
                node.pos,
                &path,
                format!("expected a list, found {}", node.type_name()),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match &item.value {
                Value::Str(s) => out.push((s.as_str(), item.pos)),
                _ => {
                    report.error(
                        item.pos,
                        &format!("{path}[{i}]"),
                        format!("expected a string, found {}", item.type_name()),
                    );
                }
            }
        }
        Some(out)
    }

    /// One of a fixed set of words.
    pub fn one_of<T: Vocabulary>(&self, key: &str, report: &mut Report) -> Option<T> {
        let (text, pos) = self.str(key, report)?;
        if let Some(&value) = T::all().iter().find(|v| v.as_str() == text) {
            return Some(value);
        }
        let names: Vec<&str> = T::all().iter().map(|v| v.as_str()).collect();
        let d = report.error(pos, &self.child(key), format!("unknown value `{text}`"));
        d.hint = Some(match did_you_mean(text, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("one of: {}", names.join(", ")),
        });
        None
    }
}
