//! `pgconn service sync | rm`: a managed block of `[cluster-role]` entries in
//! the user's `pg_service.conf` (and, with `--pgpass`, matching `.pgpass`
//! lines), so `psql service=temporal-db-admin` and every libpq tool work
//! without pgconn. Honours `PGSERVICEFILE` and `PGPASSFILE`.

use std::fmt::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{Connection, load_catalog};
use crate::catalog::Catalog;
use crate::cli::{Cli, ServiceCommand};
use crate::connstr::{self, Params};
use crate::credentials;
use crate::error::{Error, Exit};
use crate::launch::escape_field;
use crate::managed_block::{self, Removed};
use crate::output::{self, Style};
use crate::platform;
use crate::target::{self, Selector};

fn home_file(var: &str, default: &str) -> Result<PathBuf, Error> {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    dirs::home_dir()
        .map(|h| h.join(default))
        .ok_or_else(|| Error::usage("no home directory", format!("set {var}")))
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        context: path.display().to_string(),
        source,
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path, e)),
    }
}

/// Writes `text` with `mode` when the file is new (an existing file keeps its mode).
fn write(path: &Path, text: &str, mode: u32) -> Result<(), Error> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| io(path, e))?;
    f.write_all(text.as_bytes()).map_err(|e| io(path, e))
}

fn sync_file(path: &Path, body: &str, mode: u32) -> Result<bool, Error> {
    let original = read_optional(path)?;
    let updated = managed_block::upsert(original.as_deref(), body);
    if original.as_deref() == Some(updated.as_str()) {
        return Ok(false);
    }
    write(path, &updated, mode)?;
    Ok(true)
}

fn remove_from(path: &Path) -> Result<bool, Error> {
    let Some(text) = read_optional(path)? else {
        return Ok(false);
    };
    match managed_block::remove(&text) {
        Removed::NoBlock => Ok(false),
        Removed::DeleteFile => std::fs::remove_file(path)
            .map(|()| true)
            .map_err(|e| io(path, e)),
        Removed::Text(rest) => write(path, &rest, 0o600).map(|()| true),
    }
}

/// Service entries and passfile lines for every endpoint.
fn bodies(catalog: &Catalog, with_pgpass: bool, style: Style) -> (String, String) {
    let roots = platform::system_roots();
    let mut services = String::new();
    let mut pgpass = String::new();
    for cluster in &catalog.clusters {
        for endpoint in &cluster.endpoints {
            let selector = Selector {
                cluster: cluster.name.clone(),
                role: Some(endpoint.role),
                ..Selector::default()
            };
            let Ok(target) = target::resolve(catalog, &selector) else {
                continue; // no default user for this role: nothing to write
            };
            let conn = Connection {
                target,
                credential: None,
                hostaddr: None,
                dial: None,
                roots: roots.clone(),
                connect_timeout: catalog.connect_timeout,
            };
            let target = &conn.target;
            let _ = writeln!(services, "[{}-{}]", cluster.name, endpoint.role);
            for (key, value) in service_lines(&conn.params()) {
                let _ = writeln!(services, "{key}={value}");
            }
            services.push('\n');
            if with_pgpass {
                match credentials::fetch(target) {
                    Ok(c) => {
                        let db = target.database.as_deref().unwrap_or("*");
                        let _ = writeln!(
                            pgpass,
                            "{}:{}:{}:{}:{}",
                            escape_field(&endpoint.host),
                            endpoint.port,
                            escape_field(db),
                            escape_field(&c.user),
                            escape_field(c.password.expose())
                        );
                    }
                    Err(e) => output::note(
                        style,
                        &format!("no .pgpass line for {}: {e}", endpoint.host),
                    ),
                }
            }
        }
    }
    (services, pgpass)
}

fn service_lines(p: &Params<'_>) -> Vec<(&'static str, String)> {
    let mut lines = vec![("host", p.host.to_string()), ("port", p.port.to_string())];
    if let Some(db) = p.database {
        lines.push(("dbname", db.to_string()));
    }
    lines.push(("user", p.user.to_string()));
    lines.push(("sslmode", p.sslmode.as_str().to_string()));
    if let Some(root) = connstr::libpq_sslrootcert(p) {
        lines.push(("sslrootcert", root));
    }
    lines.push(("connect_timeout", p.connect_timeout.to_string()));
    lines
}

/// Runs `service sync` or `service rm`.
pub fn run(cli: &Cli, command: &ServiceCommand, style: Style) -> Result<Exit, Error> {
    let service_file = home_file("PGSERVICEFILE", ".pg_service.conf")?;
    let passfile = home_file("PGPASSFILE", ".pgpass")?;
    match command {
        ServiceCommand::Sync { pgpass } => {
            let catalog = load_catalog(cli)?;
            let (services, lines) = bodies(&catalog, *pgpass, style);
            let changed = sync_file(&service_file, &services, 0o644)?;
            report(&service_file, changed)?;
            if *pgpass {
                let changed = sync_file(&passfile, &lines, 0o600)?;
                report(&passfile, changed)?;
            }
        }
        ServiceCommand::Rm => {
            for path in [&service_file, &passfile] {
                if remove_from(path)? {
                    output::line(&format!("{}: pgconn block removed", path.display()))?;
                }
            }
        }
    }
    Ok(Exit::Success)
}

fn report(path: &Path, changed: bool) -> Result<(), Error> {
    let what = if changed { "updated" } else { "unchanged" };
    output::line(&format!("{}: {what}", path.display()))
}
