//! `pgconn service sync | rm`: a managed block of `[cluster-role]` entries in
//! the user's `pg_service.conf` (and, with `--pgpass`, matching `.pgpass`
//! lines), so `psql service=temporal-db-admin` and every libpq tool work
//! without pgconn. Honours `PGSERVICEFILE` and `PGPASSFILE`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Connection, Context};
use crate::atomic_file::{self, Mode, Symlinks};
use crate::catalog::Catalog;
use crate::cli::ServiceCommand;
use crate::connstr::{self, Params};
use crate::credentials;
use crate::error::{Error, Exit};
use crate::launch::escape_field;
use crate::managed_block::{self, Removed};
use crate::output;
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

/// One of the two files, with how it is written.
struct UserFile {
    path: PathBuf,
    mode: Mode,
    symlinks: Symlinks,
}

impl UserFile {
    fn sync(&self, body: &str) -> Result<bool, Error> {
        let original = read_optional(&self.path)?;
        let updated = managed_block::upsert(original.as_deref(), body);
        if original.as_deref() == Some(updated.as_str()) && self.mode_is_right() {
            return Ok(false);
        }
        atomic_file::write(&self.path, updated.as_bytes(), self.mode, self.symlinks)?;
        Ok(true)
    }

    /// A `.pgpass` that is already right but readable by others is not "unchanged".
    fn mode_is_right(&self) -> bool {
        use std::os::unix::fs::PermissionsExt;
        match self.mode {
            Mode::Exactly(mode) => {
                std::fs::metadata(&self.path).is_ok_and(|m| m.permissions().mode() & 0o7777 == mode)
            }
            Mode::KeepOr(_) => true,
        }
    }

    fn remove_block(&self) -> Result<bool, Error> {
        let Some(text) = read_optional(&self.path)? else {
            return Ok(false);
        };
        match managed_block::remove(&text) {
            Removed::NoBlock => Ok(false),
            Removed::DeleteFile => {
                atomic_file::remove(&self.path, self.symlinks)?;
                Ok(true)
            }
            Removed::Text(rest) => {
                atomic_file::write(&self.path, rest.as_bytes(), self.mode, self.symlinks)?;
                Ok(true)
            }
        }
    }
}

/// Service entries and passfile lines for every endpoint.
fn bodies(ctx: &Context, catalog: &Catalog, with_pgpass: bool) -> (String, String) {
    let settings = ctx.credentials(catalog);
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
                settings: settings.clone(),
            };
            let target = &conn.target;
            let _ = writeln!(services, "[{}-{}]", cluster.name, endpoint.role);
            for (key, value) in service_lines(&conn.params()) {
                let _ = writeln!(services, "{key}={value}");
            }
            services.push('\n');
            if with_pgpass {
                match credentials::fetch(target, &settings) {
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
                        ctx.err,
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
pub fn run(ctx: &Context, command: &ServiceCommand) -> Result<Exit, Error> {
    let (ServiceCommand::Sync {
        follow_symlinks, ..
    }
    | ServiceCommand::Rm { follow_symlinks }) = command;
    let symlinks = if *follow_symlinks {
        Symlinks::Follow
    } else {
        Symlinks::Refuse
    };
    let service_file = UserFile {
        path: home_file("PGSERVICEFILE", ".pg_service.conf")?,
        mode: Mode::KeepOr(0o644),
        symlinks,
    };
    let passfile = UserFile {
        path: home_file("PGPASSFILE", ".pgpass")?,
        mode: Mode::Exactly(0o600), // libpq ignores a passfile others can read
        symlinks,
    };
    match command {
        ServiceCommand::Sync { pgpass, .. } => {
            let catalog = ctx.catalog()?;
            let (services, lines) = bodies(ctx, &catalog, *pgpass);
            let changed = service_file.sync(&services)?;
            report(&service_file.path, changed)?;
            if *pgpass {
                let changed = passfile.sync(&lines)?;
                report(&passfile.path, changed)?;
            }
        }
        ServiceCommand::Rm { .. } => {
            for file in [&service_file, &passfile] {
                if file.remove_block()? {
                    output::line(&format!("{}: pgconn block removed", file.path.display()))?;
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
