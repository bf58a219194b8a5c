//! The global flags, resolved once in dispatch and handed to every command:
//! output styles for stdout and stderr, verbosity, where the catalog comes
//! from, and the settings of the credential sources. Nothing below the
//! command layer sees the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::catalog::trust::{self, TrustStore};
use crate::catalog::{self as cat, Catalog, Discovery, Opened, Purpose};
use crate::cli::Cli;
use crate::credentials;
use crate::error::Error;
use crate::output::{self, ColorWhen, Style};

/// What every command receives.
#[derive(Debug, Clone)]
pub struct Context {
    /// Colour for results on stdout.
    pub out: Style,
    /// Colour for notes, warnings and errors on stderr.
    pub err: Style,
    /// `-v` count.
    pub verbose: u8,
    catalog_flag: Option<PathBuf>,
    kube_context_name: Option<String>,
}

impl Context {
    /// Resolves the global flags of a parsed command line.
    pub fn from_cli(cli: &Cli) -> Self {
        Self::new(
            cli.color.into(),
            cli.verbose,
            cli.catalog.clone(),
            cli.context.clone(),
        )
    }

    /// A context from its parts (the global flags, already parsed).
    pub fn new(
        color: ColorWhen,
        verbose: u8,
        catalog_flag: Option<PathBuf>,
        kube_context_name: Option<String>,
    ) -> Self {
        Context {
            out: Style::stdout(color),
            err: Style::stderr(color),
            verbose,
            catalog_flag,
            kube_context_name,
        }
    }

    /// `--context`: the kubeconfig context to use, when given.
    pub fn kube_context(&self) -> Option<&str> {
        self.kube_context_name.as_deref()
    }

    /// Whether `-v` was given.
    pub fn verbose(&self) -> bool {
        self.verbose > 0
    }

    /// Where the catalog is: `--catalog`, `$PGCONN_CATALOG`, then the usual places.
    pub fn discover(&self) -> Result<Discovery, Error> {
        discover(self.catalog_flag.as_deref())
    }

    /// The catalog, for a command that fetches credentials, runs commands,
    /// connects or writes files: an untrusted one is an error (exit 2) before
    /// anything of it is used.
    pub fn catalog(&self) -> Result<Catalog, Error> {
        Ok(self.open(Purpose::Use)?.catalog)
    }

    /// The catalog, for a command that only describes it: an untrusted one
    /// is read, with a note on stderr saying so and how to trust it.
    pub fn catalog_to_describe(&self) -> Result<Catalog, Error> {
        let opened = self.open(Purpose::Describe)?;
        self.note_if_untrusted(&opened);
        Ok(opened.catalog)
    }

    /// Says on stderr that a catalog is untrusted, and how to trust it.
    pub fn note_if_untrusted(&self, opened: &Opened) {
        if !opened.trust.allows_use() {
            output::note(
                self.err,
                &format!(
                    "{} is not trusted: only describing commands work; `pgconn catalog trust {}` allows the rest",
                    opened.found.path.display(),
                    trust::shell_quote(&opened.found.path)
                ),
            );
        }
    }

    /// The catalog for a connection that `needs`: only described when no
    /// password is fetched (`url`/`env --no-password`), else used.
    pub fn catalog_for(&self, needs: super::Needs) -> Result<Catalog, Error> {
        if needs.password {
            self.catalog()
        } else {
            self.catalog_to_describe()
        }
    }

    /// How remote catalog sources are fetched in this run (`--context`).
    pub fn fetching(&self) -> cat::remote::Fetching {
        cat::remote::Fetching {
            force: false,
            kube_context: self.kube_context_name.clone(),
            offline: false,
        }
    }

    /// The catalog with where it was found and how far it is trusted.
    pub fn open(&self, purpose: Purpose) -> Result<Opened, Error> {
        self.open_refreshing(purpose, false)
    }

    /// Like [`Context::open`]; with `refresh`, remote sources are refetched now.
    pub fn open_refreshing(&self, purpose: Purpose, refresh: bool) -> Result<Opened, Error> {
        let found = self.discover()?;
        let fetching = cat::remote::Fetching {
            force: refresh,
            ..self.fetching()
        };
        let opened = cat::open(found, TrustStore::user().as_ref(), purpose, &fetching)?;
        for note in &opened.notes {
            output::warning(self.err, note);
        }
        Ok(opened)
    }

    /// The settings of the credential sources for endpoints of `catalog`:
    /// `--context`, and the catalog's `connect_timeout` as the bound on every
    /// network step.
    pub fn credentials(&self, catalog: &Catalog) -> credentials::Settings {
        credentials::Settings {
            kube_context: self.kube_context_name.clone(),
            timeout: Duration::from_secs(u64::from(catalog.connect_timeout.max(1))),
        }
    }
}

/// Where the catalog is, given the `--catalog` flag (completions call this
/// before a full command line exists).
pub fn discover(flag: Option<&Path>) -> Result<Discovery, Error> {
    let env = std::env::var_os("PGCONN_CATALOG").map(PathBuf::from);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    Ok(cat::discover(
        flag,
        env.as_deref(),
        &cwd,
        dirs::config_dir().as_deref(),
    )?)
}
