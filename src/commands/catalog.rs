//! `pgconn catalog validate | path | schema | trust | untrust`.

use std::path::{Path, PathBuf};

use super::Context;
use crate::catalog::trust::{self, TrustStore};
use crate::catalog::{self, Catalog, CatalogError, Purpose, SourceSpec, schema};
use crate::error::{Error, Exit};
use crate::knowledge::sanitize_lines;
use crate::output;

/// `catalog validate`: every problem at once; warnings do not fail.
pub fn validate(ctx: &Context) -> Result<Exit, Error> {
    let opened = ctx.open(Purpose::Describe)?;
    ctx.note_if_untrusted(&opened);
    let found = &opened.found;
    // the warnings need a full read (never the snapshot), fetching no more than open() did
    let warnings = if catalog::remote::Remote::parse(&found.path.display().to_string()).is_some() {
        Vec::new()
    } else {
        let text = catalog::read_text(&found.path, catalog::MAX_BYTES)?;
        let fetching = catalog::remote::Fetching {
            offline: !opened.trust.allows_use(),
            ..ctx.fetching()
        };
        catalog::load_source(&found.path, &text, &fetching)?.warnings
    };
    for w in &warnings {
        eprintln!("{}", sanitize_lines(&w.render(&found.path)));
    }
    let loaded = catalog::Loaded {
        catalog: opened.catalog,
        warnings,
        notes: Vec::new(),
    };
    let c = &loaded.catalog;
    let endpoints: usize = c.clusters.iter().map(|c| c.endpoints.len()).sum();
    output::line(&format!(
        "{}: ok, {} clusters, {endpoints} endpoints{}",
        found.path.display(),
        c.clusters.len(),
        match loaded.warnings.len() {
            0 => String::new(),
            n => format!(", {n} warning{}", if n == 1 { "" } else { "s" }),
        }
    ))?;
    Ok(Exit::Success)
}

/// `catalog path`: where the catalog was found (and, with -v, why there).
pub fn path(ctx: &Context) -> Result<Exit, Error> {
    let style = ctx.err;
    let found = ctx.discover()?;
    let remote = catalog::remote::Remote::parse(&found.path.display().to_string()).is_some();
    if !remote && !found.path.is_file() {
        return Err(CatalogError::Unreadable {
            path: found.path,
            source: std::io::ErrorKind::NotFound.into(),
        }
        .into());
    }
    output::line(&found.path.display().to_string())?;
    let opened = ctx.open(Purpose::Describe)?;
    if ctx.verbose() {
        output::note(
            style,
            &format!(
                "found through {}; {}",
                found.reason,
                opened.trust.describe()
            ),
        );
        for included in opened.catalog.sources.iter().skip(1) {
            output::note(style, &format!("includes {included}"));
        }
        let fetching = ctx.fetching();
        for source in &opened.catalog.sources {
            if let Some(age) = catalog::remote::confirmed_ago(source, &fetching) {
                output::note(
                    style,
                    &format!(
                        "{source}: cached copy confirmed {} ago (`pgconn catalog refresh` fetches it now)",
                        catalog::remote::human_age(age)
                    ),
                );
            }
        }
    } else {
        ctx.note_if_untrusted(&opened);
    }
    Ok(Exit::Success)
}

/// The catalog file a trust command is about: PATH, else the one found from here.
fn trust_target(ctx: &Context, path: Option<&Path>) -> Result<PathBuf, Error> {
    match path {
        Some(p) => Ok(p.to_path_buf()),
        None => Ok(ctx.discover()?.path),
    }
}

fn store() -> Result<TrustStore, Error> {
    TrustStore::user().ok_or_else(|| {
        Error::usage(
            "no data directory to keep trusted catalogs in",
            "set HOME (or XDG_DATA_HOME)",
        )
    })
}

/// `catalog trust [PATH]`: records the catalog's canonical path and the
/// SHA-256 of its content; says what the user just allowed.
pub fn trust(ctx: &Context, path: Option<&Path>) -> Result<Exit, Error> {
    let path = trust_target(ctx, path)?;
    trust::check_owner_and_mode(&path)?;
    let unreadable = |source| CatalogError::Unreadable {
        path: path.clone(),
        source,
    };
    let text = catalog::read_text(&path, catalog::MAX_BYTES)?;
    let loaded = catalog::load_str(&path, &text)?;
    let canonical = std::fs::canonicalize(&path).map_err(unreadable)?;
    let digest = trust::digest(&catalog::trusted_bytes(&canonical, text.as_bytes()));
    let store = store()?;
    store
        .trust(&canonical, &digest)
        .map_err(|source| Error::Io {
            context: format!("recording trust in {}", store.file().display()),
            source,
        })?;
    output::line(&format!(
        "trusted {} (sha256 {})",
        canonical.display(),
        &digest[..16]
    ))?;
    output::note(ctx.err, &what_it_allows(&loaded.catalog));
    Ok(Exit::Success)
}

/// One line on what trusting this catalog allows: where passwords go and
/// which commands run.
fn what_it_allows(catalog: &Catalog) -> String {
    let hosts: Vec<String> = catalog
        .clusters
        .iter()
        .flat_map(|c| &c.endpoints)
        .map(|e| format!("{}:{}", e.host, e.port))
        .collect();
    let commands: Vec<String> = catalog
        .clusters
        .iter()
        .flat_map(|c| &c.users)
        .flat_map(|u| u.credentials.iter().flatten())
        .filter_map(|s| match s {
            SourceSpec::Command { argv } => Some(argv.join(" ")),
            _ => None,
        })
        .collect();
    let commands = if commands.is_empty() {
        "no commands".to_string()
    } else {
        format!("commands: {}", commands.join("; "))
    };
    crate::knowledge::sanitize(&format!(
        "it sends passwords to {} endpoint(s) ({}) and runs {commands}; any edit untrusts it",
        hosts.len(),
        hosts.join(", ")
    ))
}

/// `catalog refresh`: refetches every remote source now.
pub fn refresh(ctx: &Context) -> Result<Exit, Error> {
    let opened = ctx.open_refreshing(Purpose::Describe, true)?;
    let remote: Vec<&String> = opened
        .catalog
        .sources
        .iter()
        .filter(|s| catalog::remote::Remote::parse(s).is_some())
        .collect();
    if remote.is_empty() {
        output::line(&format!(
            "{}: no remote sources to refresh",
            opened.found.path.display()
        ))?;
    }
    for source in remote {
        output::line(&format!("refreshed {source}"))?;
    }
    Ok(Exit::Success)
}

/// `catalog untrust [PATH]`.
pub fn untrust(ctx: &Context, path: Option<&Path>) -> Result<Exit, Error> {
    let path = trust_target(ctx, path)?;
    let canonical =
        std::fs::canonicalize(&path).unwrap_or_else(|_| std::path::absolute(&path).unwrap_or(path));
    let store = store()?;
    let removed = store.untrust(&canonical).map_err(|source| Error::Io {
        context: format!("updating {}", store.file().display()),
        source,
    })?;
    let what = if removed {
        "untrusted"
    } else {
        "was not trusted"
    };
    output::line(&format!("{}: {what}", canonical.display()))?;
    Ok(Exit::Success)
}

/// `catalog schema`: the JSON Schema.
pub fn schema() -> Result<Exit, Error> {
    output::stdout(schema::JSON_SCHEMA)?;
    Ok(Exit::Success)
}
