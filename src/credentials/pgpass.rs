//! The `pgpass` source: the first matching line of a libpq password file,
//! with libpq's rules: the file from the source's `path`, else `PGPASSFILE`,
//! else `~/.pgpass`; `hostname:port:database:username:password` lines, `*`
//! matching anything, `\` escaping `:` and `\`, `#` comments; a file group-
//! or world-accessible is ignored with libpq's warning.

use std::path::PathBuf;

use super::{Found, Outcome, Secret, Source};
use crate::target::Target;

/// Reads a `.pgpass` file for one endpoint and user.
#[derive(Debug)]
pub struct PgpassSource {
    path: Option<PathBuf>,
    host: String,
    port: u16,
    database: String,
    user: String,
}

impl PgpassSource {
    /// The source for `target`, reading `path` or libpq's default file.
    pub fn new(path: Option<PathBuf>, target: &Target<'_>) -> Self {
        PgpassSource {
            path,
            host: target.endpoint.host.clone(),
            port: target.endpoint.port,
            // libpq's default database is the user name
            database: target
                .database
                .clone()
                .unwrap_or_else(|| target.user.clone()),
            user: target.user.clone(),
        }
    }

    fn file(&self) -> Option<PathBuf> {
        self.path
            .clone()
            .or_else(|| {
                std::env::var_os("PGPASSFILE")
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(|| {
                if cfg!(windows) {
                    dirs::data_dir().map(|d| d.join("postgresql").join("pgpass.conf"))
                } else {
                    dirs::home_dir().map(|h| h.join(".pgpass"))
                }
            })
    }
}

/// One field of a line: its unescaped text and whether it was a bare `*`.
fn split_line(line: &str) -> Vec<(String, bool)> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut escaped_any = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    current.push(next);
                    escaped_any = true;
                }
            }
            ':' if fields.len() < 4 => {
                let star = current == "*" && !escaped_any;
                fields.push((std::mem::take(&mut current), star));
                escaped_any = false;
            }
            _ => current.push(c),
        }
    }
    fields.push((current, false));
    fields
}

/// The password of the first line matching host, port, database and user.
pub fn lookup(text: &str, host: &str, port: &str, database: &str, user: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_line(line);
        if fields.len() < 5 {
            continue;
        }
        let wanted = [host, port, database, user];
        let matches = fields[..4]
            .iter()
            .zip(wanted)
            .all(|((text, star), want)| *star || text == want);
        if matches {
            return Some(fields[4].0.clone());
        }
    }
    None
}

impl Source for PgpassSource {
    fn label(&self) -> String {
        match &self.path {
            Some(p) => format!("pgpass {}", p.display()),
            None => "pgpass (PGPASSFILE or ~/.pgpass)".into(),
        }
    }

    fn fetch(&self) -> Outcome {
        let Some(path) = self.file() else {
            return Outcome::Skipped("no home directory".into());
        };
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Outcome::Skipped(format!("{} does not exist", path.display()));
            }
            Err(e) => return Outcome::Failed(format!("cannot read {}: {e}", path.display())),
        };
        if !meta.is_file() {
            return Outcome::Skipped(format!("{} is not a plain file", path.display()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                let msg = format!(
                    "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                    path.display()
                );
                crate::output::warning(crate::output::Style::plain(), &msg);
                return Outcome::Skipped(format!("ignored: {msg}"));
            }
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => return Outcome::Failed(format!("cannot read {}: {e}", path.display())),
        };
        match lookup(
            &text,
            &self.host,
            &self.port.to_string(),
            &self.database,
            &self.user,
        ) {
            Some(pw) if pw.is_empty() => Outcome::Failed(format!(
                "the matching line of {} has an empty password",
                path.display()
            )),
            Some(pw) => Outcome::Found(Found::password(Secret::new(pw))),
            None => Outcome::Skipped(format!(
                "no line of {} matches {}:{}:{}:{}",
                path.display(),
                self.host,
                self.port,
                self.database,
                self.user
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::lookup;

    const FILE: &str = "# comment\n\
        other:5432:*:u:nope\n\
        h:5432:db:u:first\n\
        h:5432:db:u:second\n\
        *:*:*:wild:star\n\
        h\\:x:5432:db:u:colon\\:pw\\\\z\n\
        h:5432:\\*:lit:escaped-star\n\
        short:line\n";

    #[test]
    fn first_match_wins() {
        assert_eq!(
            lookup(FILE, "h", "5432", "db", "u").as_deref(),
            Some("first")
        );
        assert_eq!(lookup(FILE, "h", "5433", "db", "u"), None);
    }

    #[test]
    fn wildcards_and_escapes() {
        assert_eq!(
            lookup(FILE, "any", "1", "x", "wild").as_deref(),
            Some("star")
        );
        assert_eq!(
            lookup(FILE, "h:x", "5432", "db", "u").as_deref(),
            Some("colon:pw\\z")
        );
        // an escaped star is a literal star, not a wildcard
        assert_eq!(lookup(FILE, "h", "5432", "db", "lit"), None);
        assert_eq!(
            lookup(FILE, "h", "5432", "*", "lit").as_deref(),
            Some("escaped-star")
        );
    }

    #[test]
    fn crlf_and_short_lines() {
        assert_eq!(
            lookup("a:1:b:c:pw\r\n", "a", "1", "b", "c").as_deref(),
            Some("pw")
        );
        assert_eq!(lookup("short:line\n", "short", "line", "", ""), None);
    }
}
