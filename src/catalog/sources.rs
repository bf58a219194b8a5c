//! The schema walk for credential sources: each list item has exactly one
//! key, the source kind, whose fields are checked like any other mapping.

use super::fields::{Fields, Report, join};
use super::model::SourceSpec;
use super::node::{Node, Value};
use super::parse::expand_home;
use crate::suggest::did_you_mean;

/// Each source kind and the fields it takes, in the contract's order.
const SOURCES: &[(&str, &[&str])] = &[
    ("env", &["var"]),
    ("file", &["path"]),
    ("pgpass", &["path"]),
    ("keyring", &["service", "account"]),
    (
        "kubernetes",
        &["secret", "namespace", "key", "username_key", "context"],
    ),
    ("vault", &["path", "field", "mount", "kv_version"]),
    ("vault_database", &["role", "mount"]),
    ("command", &["argv"]),
    ("prompt", &[]),
];

fn kind_names() -> impl Iterator<Item = &'static str> {
    SOURCES.iter().map(|(k, _)| *k)
}

/// Reads a `credentials:` list.
pub fn credentials(node: &Node, path: &str, report: &mut Report) -> Vec<SourceSpec> {
    let Value::Seq(items) = &node.value else {
        report.error(
            node.pos,
            path,
            format!("expected a list of sources, found {}", node.type_name()),
        );
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| source(item, &format!("{path}[{i}]"), report))
        .collect()
}

fn source(item: &Node, path: &str, report: &mut Report) -> Option<SourceSpec> {
    let entries = match &item.value {
        Value::Map(e) => e,
        // `- prompt` written as a bare word.
        Value::Str(s) if s == "prompt" => return Some(SourceSpec::Prompt),
        _ => {
            let found = item.type_name();
            report.error(
                item.pos,
                path,
                format!("expected a source like `- env: {{ var: NAME }}`, found {found}"),
            );
            return None;
        }
    };
    let kinds: Vec<_> = entries
        .iter()
        .filter(|(k, _)| !k.name.starts_with("x-"))
        .collect();
    let [(key, body)] = kinds.as_slice() else {
        report
            .error(item.pos, path, "each credential source has exactly one key")
            .hint = Some(format!(
            "one of: {}",
            kind_names().collect::<Vec<_>>().join(", ")
        ));
        return None;
    };
    let Some((kind, allowed)) = SOURCES.iter().find(|(k, _)| *k == key.name) else {
        let d = report.error(
            key.pos,
            path,
            format!("unknown credential source `{}`", key.name),
        );
        d.hint = Some(match did_you_mean(&key.name, kind_names()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("one of: {}", kind_names().collect::<Vec<_>>().join(", ")),
        });
        return None;
    };
    let fields = Fields::open(body, &join(path, kind), allowed, report)?;
    spec(kind, &fields, report)
}

fn spec(kind: &str, f: &Fields<'_>, report: &mut Report) -> Option<SourceSpec> {
    let opt = |key: &str, report: &mut Report| f.str(key, report).map(|(s, _)| s.to_string());
    let required = |key: &str, report: &mut Report| {
        let value = opt(key, report);
        if f.get(key).is_none() {
            report.error(f.pos, &f.path, format!("`{kind}` needs `{key}`"));
        }
        value
    };
    Some(match kind {
        "env" => SourceSpec::Env {
            var: required("var", report)?,
        },
        "file" => SourceSpec::File {
            path: expand_home(&required("path", report)?),
        },
        "pgpass" => SourceSpec::Pgpass {
            path: opt("path", report).map(|p| expand_home(&p)),
        },
        "keyring" => SourceSpec::Keyring {
            service: opt("service", report),
            account: opt("account", report),
        },
        "kubernetes" => SourceSpec::Kubernetes {
            secret: opt("secret", report),
            namespace: opt("namespace", report),
            key: opt("key", report),
            username_key: opt("username_key", report),
            context: opt("context", report),
        },
        "vault" => SourceSpec::Vault {
            path: required("path", report)?,
            field: opt("field", report),
            mount: opt("mount", report),
            kv_version: f
                .uint("kv_version", 1, 2, report)
                .map(|(v, _)| u8::from(v == 2) + 1),
        },
        "vault_database" => SourceSpec::VaultDatabase {
            role: required("role", report)?,
            mount: opt("mount", report),
        },
        "command" => command(f, report)?,
        _ => SourceSpec::Prompt,
    })
}

fn command(f: &Fields<'_>, report: &mut Report) -> Option<SourceSpec> {
    let argv: Vec<String> = f
        .str_list("argv", report)
        .unwrap_or_default()
        .into_iter()
        .map(|(s, _)| s.to_string())
        .collect();
    if argv.is_empty() {
        report.error(f.pos, &f.path, "`command` needs a non-empty `argv` list");
        return None;
    }
    Some(SourceSpec::Command { argv })
}
