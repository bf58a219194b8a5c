//! The command line: every clap type lives here, and nothing else does.
#![allow(clippy::doc_markdown)] // doc comments here are user-facing help text, not rustdoc
//! Help texts double as the man page and the completions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCompleter;

use crate::catalog::Role;
use crate::commands::completions::complete_cluster;
use crate::connstr::Format;
use crate::shellenv::EnvFormat;

/// From a cluster catalog to a working, verified PostgreSQL connection.
///
/// pgconn reads a catalog of clusters (see `pgconn catalog schema`), resolves
/// their write, read and admin endpoints, fetches credentials and prints
/// connection strings that are correct for each driver, with TLS verify-full.
#[derive(Debug, Parser)]
#[command(name = "pgconn", version, max_term_width = 100)]
#[command(
    after_help = "Exit status: 0 success, 1 operation failed, 2 usage or catalog error, \
                        3 doctor found a failure or catalog diff found drift, 130 interrupted."
)]
pub struct Cli {
    /// Catalog file [default: $PGCONN_CATALOG, ./pgconn.{yaml,yml,toml,json},
    /// ~/.config/pgconn/catalog.*, /etc/pgconn/catalog.yaml]
    #[arg(long, global = true, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub catalog: Option<PathBuf>,

    /// Say more on stderr: which source answered, which roots were chosen
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to colour output [default: auto, honouring NO_COLOR]
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, hide_default_value = true)]
    pub color: ColorChoice,

    /// kubeconfig context for Kubernetes credential sources, `k8s:` catalogs, `catalog
    /// import|diff kubernetes` and --via kube [default: the source's `context`, else the
    /// kubeconfig's current-context]
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl From<ColorChoice> for crate::output::ColorWhen {
    fn from(choice: ColorChoice) -> Self {
        match choice {
            ColorChoice::Auto => Self::Auto,
            ColorChoice::Always => Self::Always,
            ColorChoice::Never => Self::Never,
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every cluster × endpoint: host:port, expected IP, pooled, allowlist
    Ls(LsArgs),
    /// Everything known about one cluster, including credential sources (never values)
    Show(ShowArgs),
    /// Print a connection string for one endpoint, correct for the chosen driver
    Url(UrlArgs),
    /// Print the endpoint's environment (PG* variables, DATABASE_URL) for a shell, .env or CI
    Env(EnvArgs),
    /// Run the real psql connected to the endpoint (TLS verified, password never in argv)
    Psql(PsqlArgs),
    /// Run any command with the endpoint's environment injected
    Run(RunArgs),
    /// Hold a tunnel to the endpoint through the Kubernetes API; print its connection string
    Tunnel(TunnelArgs),
    /// Write the catalog's endpoints into pg_service.conf (and .pgpass), or remove them
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Which credential source answers for an endpoint, and with which user (the value only with --reveal)
    Creds(CredsArgs),
    /// Store the endpoint user's password in the OS keyring (prompt, or --password-stdin)
    Login(LoginArgs),
    /// Remove the stored password and cached credentials; revoke dynamic Vault leases
    Logout(LogoutArgs),
    /// Diagnose endpoints layer by layer (DNS, TCP, allowlist, TLS, login, routing, pooler, lag)
    // mut_arg re-adds the argument: re-add ROLE after it so CLUSTER stays the first positional
    #[command(mut_arg("cluster", |a| a.help("Cluster name or unique prefix [default: every cluster; never a picker]")))]
    #[command(mut_arg("role_arg", |a| a))]
    Doctor(DoctorArgs),
    /// Explain an error message from any PostgreSQL client: cause and fix
    Explain(ExplainArgs),
    /// Block until the endpoint accepts a verified login where its role says (for CI)
    Wait(WaitArgs),
    /// Check, locate or describe the catalog
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Print a shell completion script (source it from your shell's rc file)
    Completions(CompletionsArgs),
    /// Print a man page (roff) to stdout: pgconn's, or a command's
    Man(ManArgs),
}

/// `pgconn ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

/// `pgconn show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Cluster name or unique prefix (a picker opens when omitted on a terminal)
    #[arg(add = ArgValueCompleter::new(complete_cluster))]
    pub cluster: Option<String>,

    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

/// Which endpoint of which cluster, as whom.
#[derive(Debug, Args, Clone, Default)]
pub struct TargetArgs {
    /// Cluster name or unique prefix (a picker opens when omitted on a terminal)
    #[arg(add = ArgValueCompleter::new(complete_cluster))]
    pub cluster: Option<String>,

    /// Endpoint role, as an alternative to --write/--read/--admin
    #[arg(value_enum, value_name = "ROLE")]
    pub role_arg: Option<Role>,

    /// The pooled write endpoint (primary) [default]
    #[arg(long, group = "role_choice")]
    pub write: bool,

    /// The pooled read endpoint (replicas)
    #[arg(long, group = "role_choice")]
    pub read: bool,

    /// The direct admin endpoint (primary, allowlisted)
    #[arg(long, group = "role_choice")]
    pub admin: bool,

    /// Endpoint role by name
    #[arg(long = "role", value_enum, value_name = "ROLE", group = "role_choice")]
    pub role_flag: Option<Role>,

    /// Connect as this user instead of the role's default user
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Connect to this database instead of the cluster's default
    #[arg(long, value_name = "NAME")]
    pub db: Option<String>,
}

impl ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        Role::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            Role::Write => "Pooled, to the primary",
            Role::Read => "Pooled, to the replicas",
            Role::Admin => "Direct, to the primary",
        };
        Some(clap::builder::PossibleValue::new(self.as_str()).help(help))
    }
}

/// `pgconn url`.
#[derive(Debug, Args)]
pub struct UrlArgs {
    /// Which endpoint.
    #[command(flatten)]
    pub target: TargetArgs,

    /// The driver the string is for
    #[arg(short, long, value_enum, default_value = "uri")]
    pub format: Format,

    /// Leave the password out (for config files that take it separately)
    #[arg(long)]
    pub no_password: bool,

    /// Connect to the catalog's IP while verifying the host name (libpq hostaddr)
    #[arg(long)]
    pub pin_ip: bool,
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        Format::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()).help(self.description()))
    }
}

/// `pgconn env`.
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Which endpoint.
    #[command(flatten)]
    pub target: TargetArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value = "sh")]
    pub format: EnvFormat,

    /// Also set PREFIXHOST, PREFIXPORT, PREFIXNAME, PREFIXUSER, PREFIXPASSWORD, PREFIXURL
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,

    /// Leave PGPASSWORD out (and the password out of DATABASE_URL)
    #[arg(long)]
    pub no_password: bool,

    /// Also set PGHOSTADDR to the catalog's IP (the certificate is still checked against PGHOST)
    #[arg(long)]
    pub pin_ip: bool,
}

impl ValueEnum for EnvFormat {
    fn value_variants<'a>() -> &'a [Self] {
        EnvFormat::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()).help(self.description()))
    }
}

/// `pgconn psql`.
#[derive(Debug, Args)]
pub struct PsqlArgs {
    /// Which endpoint.
    #[command(flatten)]
    pub target: TargetArgs,

    /// Connect to the catalog's IP while verifying the host name (libpq hostaddr)
    #[arg(long)]
    pub pin_ip: bool,

    /// Reach the endpoint through a Kubernetes port-forward to its in-cluster Service
    /// (TLS still verified against the endpoint's name)
    #[arg(long, value_enum, value_name = "HOW", conflicts_with = "pin_ip")]
    pub via: Option<ViaArg>,

    /// Arguments passed to psql as they are (after `--`)
    #[arg(last = true, value_name = "PSQL_ARGS")]
    pub psql_args: Vec<String>,
}

/// `pgconn run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Which endpoint.
    #[command(flatten)]
    pub target: TargetArgs,

    /// Also set PREFIXHOST … PREFIXURL for the command
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,

    /// Do not warn when a session-level tool (pg_dump, flyway, …) targets a pooled endpoint
    #[arg(long)]
    pub no_guard: bool,

    /// Also set PGHOSTADDR to the catalog's IP
    #[arg(long)]
    pub pin_ip: bool,

    /// Reach the endpoint through a Kubernetes port-forward held while the command runs
    /// (PGHOST stays the endpoint's name, PGHOSTADDR/PGPORT point at the tunnel)
    #[arg(long, value_enum, value_name = "HOW", conflicts_with = "pin_ip")]
    pub via: Option<ViaArg>,

    /// The command and its arguments (after `--`)
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// How to reach an endpoint other than directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViaArg {
    /// A port-forward through the Kubernetes API (kubeconfig; RBAC `create` on pods/portforward)
    Kube,
}

/// `pgconn tunnel`.
#[derive(Debug, Args)]
pub struct TunnelArgs {
    /// Which endpoint.
    #[command(flatten)]
    pub target: TargetArgs,

    /// Local port on 127.0.0.1 [default: a free one]
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// The driver the printed string is for (only those that can dial 127.0.0.1 while
    /// verifying the endpoint's name: uri, keyword, sqlalchemy)
    #[arg(short, long, value_enum, default_value = "uri")]
    pub format: Format,

    /// Leave the password out of the printed string
    #[arg(long)]
    pub no_password: bool,
}

/// `pgconn creds`.
#[derive(Debug, Args)]
pub struct CredsArgs {
    /// Which endpoint.
    #[command(flatten)]
    pub target: TargetArgs,

    /// Print the password too (on stdout; not with --json)
    #[arg(long)]
    pub reveal: bool,

    /// Print JSON for scripts (never with the password: --reveal --json is an error)
    #[arg(long)]
    pub json: bool,

    /// Ask the sources afresh instead of answering from the cache
    #[arg(long)]
    pub refresh: bool,
}

/// `pgconn login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Which endpoint.
    #[command(flatten)]
    pub target: TargetArgs,

    /// Read the password from stdin (one line) instead of prompting
    #[arg(long)]
    pub password_stdin: bool,
}

/// `pgconn logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Which endpoint.
    #[command(flatten)]
    pub target: TargetArgs,
}

/// `pgconn service …`.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write (or refresh) pgconn's block of [cluster-role] entries in pg_service.conf
    Sync {
        /// Also write .pgpass lines for every endpoint whose credential can be fetched now
        #[arg(long)]
        pgpass: bool,
        /// Write through a symlinked pg_service.conf or .pgpass into the file it points to (refused otherwise)
        #[arg(long)]
        follow_symlinks: bool,
    },
    /// Remove pgconn's blocks, restoring the files as they were
    Rm {
        /// Edit the file a symlinked pg_service.conf or .pgpass points to (refused otherwise)
        #[arg(long)]
        follow_symlinks: bool,
    },
}

/// `pgconn doctor`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when no check failed (warnings allowed), 3 when one did, \
                        2 for usage or catalog errors."
)]
pub struct DoctorArgs {
    /// Which endpoints: without a role, every endpoint of the cluster(s).
    #[command(flatten)]
    pub target: TargetArgs,

    /// Print the report as JSON (schema_version 1); the same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Output format (the exit status is the same for all)
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "human")]
    pub format: DoctorFormat,

    /// Seconds each layer may take (DNS, TCP, TLS, login, each query)
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = positive_seconds)]
    pub timeout: f64,

    /// Your egress IP, for the allowlist check [default: what a direct server reports]
    #[arg(long, value_name = "IP")]
    pub egress_ip: Option<std::net::IpAddr>,

    /// An IP echo service you trust (http://…, answering with your address), asked for the
    /// egress IP when no direct server reports it
    #[arg(long, value_name = "URL", env = "PGCONN_ECHO_URL")]
    pub echo_url: Option<String>,

    /// Also ask this DNS server (IP or IP:PORT), to compare with the system resolver
    #[arg(long, value_name = "IP[:PORT]", value_parser = crate::net::dns::parse_nameserver)]
    pub nameserver: Option<std::net::SocketAddr>,

    /// Replication lag on read endpoints above which to warn
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub max_lag: u64,

    /// Check through a Kubernetes port-forward to each endpoint's Service: TLS, login,
    /// routing, pooler and lag as the server is; dns/tcp/allowlist then concern the tunnel
    #[arg(long, value_enum, value_name = "HOW")]
    pub via: Option<ViaArg>,
}

impl DoctorArgs {
    /// The output format, `--json` included.
    pub fn output_format(&self) -> DoctorFormat {
        if self.json {
            DoctorFormat::Json
        } else {
            self.format
        }
    }
}

/// How doctor prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    /// One block per endpoint, failures first, with hints.
    Human,
    /// One JSON document (schema_version 1).
    Json,
    /// JUnit XML: a testsuite per endpoint, a testcase per check.
    Junit,
    /// GitHub Actions ::error/::warning commands, then the human report.
    Github,
}

/// `pgconn wait`.
#[derive(Debug, Args)]
#[command(
    after_help = "Retries DNS, TCP, TLS (the catalog's sslmode), the login (credentials fetched \
                  once) and pg_is_in_recovery() until the endpoint answers where its role says: \
                  write and admin on a primary, read on a replica. Pauses start at --interval \
                  and double up to 2 s, with jitter.\n\n\
                  Exit status: 0 when ready, 1 at the timeout (the last failure and a hint on \
                  stderr) or without a credential, 2 for usage or catalog errors."
)]
pub struct WaitArgs {
    /// Which endpoint.
    #[command(flatten)]
    pub target: TargetArgs,

    /// Seconds to wait in all before giving up
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = positive_seconds)]
    pub timeout: f64,

    /// Milliseconds before the first retry
    #[arg(long, value_name = "MS", default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub interval: u64,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err(format!(
            "`{text}` is not a number of seconds between 0 and 3600"
        )),
    }
}

/// `pgconn explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The error message (several words are joined); `-` or none reads stdin
    #[arg(value_name = "TEXT", allow_hyphen_values = true)]
    pub text: Vec<String>,

    /// Print {"category", "summary", "hint"} as JSON
    #[arg(long)]
    pub json: bool,
}

/// `pgconn catalog …`.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Check the catalog and report every problem with file:line:column
    Validate,
    /// Print where the catalog was found
    Path,
    /// Print the catalog's JSON Schema (for editors)
    Schema,
    /// Trust a working-directory catalog (its path and content): it may then fetch
    /// credentials, run its commands and connect; any edit untrusts it
    Trust {
        /// The catalog file [default: the one pgconn finds from here]
        #[arg(value_hint = clap::ValueHint::FilePath)]
        path: Option<PathBuf>,
    },
    /// Refetch the catalog's remote sources (https:// includes or catalog) now
    Refresh,
    /// Forget a catalog trusted with `catalog trust`
    Untrust {
        /// The catalog file [default: the one pgconn finds from here]
        #[arg(value_hint = clap::ValueHint::FilePath)]
        path: Option<PathBuf>,
    },
    /// Write a catalog from what Kubernetes or the platform chart's values say (read-only)
    Import(ImportArgs),
    /// Compare the catalog with what `catalog import` would write; exit 3 on drift
    Diff(DiffArgs),
}

/// `pgconn catalog import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Where the clusters are described.
    #[command(subcommand)]
    pub source: ImportSource,

    /// Write the catalog to FILE instead of stdout
    #[arg(short, long, global = true, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub output: Option<PathBuf>,
}

/// `pgconn catalog diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Where the clusters are described.
    #[command(subcommand)]
    pub source: ImportSource,

    /// Print {"ok", "drift": [{cluster, role, field, catalog, cluster_says}]} as JSON
    #[arg(long, global = true)]
    pub json: bool,
}

/// The sources `catalog import` and `catalog diff` read.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// The cluster: CloudNativePG Cluster/Pooler, Zalando postgresql, LoadBalancer Services
    /// (the kubeconfig context is --context, else the current one)
    Kubernetes(KubernetesSourceArgs),
    /// The platform chart's values files (pgClusters[].externalAccess), merged as helm does
    Helm(HelmSourceArgs),
}

/// `… kubernetes`.
#[derive(Debug, Args)]
pub struct KubernetesSourceArgs {
    /// Read this namespace [default: the context's namespace]
    #[arg(short, long, value_name = "NS", conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,

    /// Read every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// DNS suffix for `domain:` [default: the most common suffix of the host names]
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,

    /// Give clusters without external Services endpoints on their in-cluster names
    /// ({service}.{namespace}.svc)
    #[arg(long)]
    pub internal: bool,

    /// Seconds each request to the API server may take
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = positive_seconds)]
    pub timeout: f64,
}

/// `… helm`.
#[derive(Debug, Args)]
pub struct HelmSourceArgs {
    /// Values files, merged in order as helm merges several -f files (later wins)
    #[arg(value_name = "VALUES.yaml", required = true, value_hint = clap::ValueHint::FilePath)]
    pub values: Vec<PathBuf>,
}

/// `pgconn completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `pgconn man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print, e.g. `url` or `catalog validate`
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// Shells with completion support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// GNU Bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
    /// PowerShell.
    Powershell,
    /// Elvish.
    Elvish,
}

impl Shell {
    /// Every supported shell.
    pub const ALL: [Shell; 5] = [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Powershell,
        Shell::Elvish,
    ];

    /// The shell's name as clap_complete knows it.
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::Powershell => "powershell",
            Shell::Elvish => "elvish",
        }
    }
}

/// The clap command, for completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
