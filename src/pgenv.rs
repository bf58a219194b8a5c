//! The environment for one endpoint: libpq's `PG*` variables, `DATABASE_URL`
//! and the `--prefix` names. `env` prints it, `run` injects it, `psql` uses
//! it without the password (which goes through a private passfile).

use std::fmt;

use crate::connstr::{self, Format, Params};
use crate::credentials::Secret;

/// A variable's value; secret ones never show in `Debug`.
#[derive(Clone)]
pub enum Value {
    /// Safe to show.
    Plain(String),
    /// Contains the password.
    Secret(Secret),
}

impl Value {
    /// The text, for writing it where it belongs.
    pub fn expose(&self) -> &str {
        match self {
            Value::Plain(s) => s,
            Value::Secret(s) => s.expose(),
        }
    }

    /// Whether the value carries the password.
    pub fn is_secret(&self) -> bool {
        matches!(self, Value::Secret(_))
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Plain(s) => write!(f, "{s:?}"),
            Value::Secret(s) => write!(f, "{s:?}"),
        }
    }
}

/// One environment variable.
#[derive(Debug, Clone)]
pub struct Var {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: Value,
}

fn plain(name: &str, value: impl Into<String>) -> Var {
    Var {
        name: name.to_string(),
        value: Value::Plain(value.into()),
    }
}

/// Which variables to produce.
#[derive(Debug, Clone, Copy, Default)]
pub struct Include<'a> {
    /// `PGPASSWORD` and `DATABASE_URL` with the password (env, run).
    pub password: bool,
    /// `DATABASE_URL` (and `<PREFIX>URL`).
    pub url: bool,
    /// Also `<PREFIX>HOST …` names.
    pub prefix: Option<&'a str>,
}

/// The variables for `p`, in a stable order.
pub fn variables(p: &Params<'_>, include: Include<'_>) -> Vec<Var> {
    let mut vars = vec![plain("PGHOST", p.host), plain("PGPORT", p.port.to_string())];
    if let Some(ip) = p.hostaddr {
        vars.push(plain("PGHOSTADDR", ip.to_string()));
    }
    if let Some(db) = p.database {
        vars.push(plain("PGDATABASE", db));
    }
    vars.push(plain("PGUSER", p.user));
    let password = p.password.filter(|_| include.password);
    if let Some(pw) = password {
        vars.push(Var {
            name: "PGPASSWORD".into(),
            value: Value::Secret(pw.clone()),
        });
    }
    vars.push(plain("PGSSLMODE", p.sslmode.as_str()));
    if let Some(root) = connstr::libpq_sslrootcert(p) {
        vars.push(plain("PGSSLROOTCERT", root));
    }
    vars.push(plain("PGCONNECT_TIMEOUT", p.connect_timeout.to_string()));
    let url = include.url.then(|| url_value(p, include.password));
    if let Some(url) = &url {
        vars.push(Var {
            name: "DATABASE_URL".into(),
            value: url.clone(),
        });
    }
    if let Some(prefix) = include.prefix {
        vars.extend(prefixed(prefix, p, password, url));
    }
    vars
}

fn url_value(p: &Params<'_>, with_password: bool) -> Value {
    let mut q = p.clone();
    if !with_password {
        q.password = None;
    }
    // uri never fails: pinning is allowed for it.
    let text = connstr::render(Format::Uri, &q).map_or_else(|_| String::new(), |r| r.text);
    if q.password.is_some() {
        Value::Secret(Secret::new(text))
    } else {
        Value::Plain(text)
    }
}

fn prefixed(
    prefix: &str,
    p: &Params<'_>,
    password: Option<&Secret>,
    url: Option<Value>,
) -> Vec<Var> {
    let name = |suffix: &str| format!("{prefix}{suffix}");
    let mut vars = vec![
        plain(&name("HOST"), p.host),
        plain(&name("PORT"), p.port.to_string()),
    ];
    if let Some(db) = p.database {
        vars.push(plain(&name("NAME"), db));
    }
    vars.push(plain(&name("USER"), p.user));
    if let Some(pw) = password {
        vars.push(Var {
            name: name("PASSWORD"),
            value: Value::Secret(pw.clone()),
        });
    }
    if let Some(url) = url {
        vars.push(Var {
            name: name("URL"),
            value: url,
        });
    }
    vars
}

/// Whether `prefix` can start environment variable names.
pub fn valid_prefix(prefix: &str) -> bool {
    prefix
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
}
