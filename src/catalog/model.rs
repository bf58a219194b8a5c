//! The validated catalog: clusters, their endpoints with every default
//! already derived, users and their credential sources.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::node::Pos;

crate::vocabulary! {
    /// An endpoint role.
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        /// Pooled, to the primary.
        Write => "write",
        /// Pooled, to the replicas.
        Read => "read",
        /// Direct to the primary, allowlisted.
        Admin => "admin",
    }
}

crate::vocabulary! {
    /// libpq's `sslmode` values.
    #[derive(PartialOrd, Ord)]
    pub enum SslMode {
        /// No TLS.
        Disable => "disable",
        /// Plaintext first, TLS if the server insists.
        Allow => "allow",
        /// TLS if the server offers it, unverified.
        Prefer => "prefer",
        /// TLS, unverified.
        Require => "require",
        /// TLS, chain verified, name not checked.
        VerifyCa => "verify-ca",
        /// TLS, chain and host name verified.
        VerifyFull => "verify-full",
    }
}

impl SslMode {
    /// Whether the server certificate's chain is checked.
    pub fn verifies_chain(self) -> bool {
        self >= SslMode::VerifyCa
    }
}

/// Where trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RootCert {
    /// The OS trust store (and webpki roots), as for public CAs.
    System,
    /// A PEM file, resolved relative to the catalog's directory.
    File(PathBuf),
}

impl fmt::Display for RootCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootCert::System => f.write_str("system"),
            RootCert::File(path) => write!(f, "{}", path.display()),
        }
    }
}

crate::vocabulary! {
    /// Which pooler sits in front of the write and read endpoints.
    pub enum PoolerKind {
        /// PgBouncer.
        Pgbouncer => "pgbouncer",
        /// No pooler: every endpoint is direct.
        None => "none",
    }
}

crate::vocabulary! {
    /// PgBouncer's `pool_mode`.
    pub enum PoolMode {
        /// A server connection per client session.
        Session => "session",
        /// A server connection per transaction.
        Transaction => "transaction",
        /// A server connection per statement.
        Statement => "statement",
    }
}

/// The pooler settings of one cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pooler {
    /// What kind of pooler.
    pub kind: PoolerKind,
    /// Its pool mode.
    pub mode: PoolMode,
    /// PgBouncer's `max_prepared_statements`; > 0 keeps protocol-level prepares working.
    pub max_prepared_statements: u32,
}

impl Pooler {
    /// Whether clients must avoid named prepared statements and session state.
    pub fn needs_pool_safety(&self) -> bool {
        self.kind != PoolerKind::None
            && self.mode != PoolMode::Session
            && self.max_prepared_statements == 0
    }
}

/// One endpoint of a cluster, every field derived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    /// The role this endpoint serves.
    pub role: Role,
    /// The DNS name clients use and the TLS name checked.
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// The address `host` should resolve to, when known.
    pub ip: Option<IpAddr>,
    /// Whether a pooler sits in front.
    pub pooled: bool,
    /// TLS mode.
    pub sslmode: SslMode,
    /// Trusted roots.
    pub sslrootcert: RootCert,
    /// Who may connect, when known.
    pub allowed_source_ranges: Option<Vec<IpNet>>,
    /// The in-cluster Service behind the endpoint, when known (`--via kube`).
    pub service: Option<ServiceRef>,
}

/// A Kubernetes Service, `NAMESPACE/NAME` (also in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ServiceRef {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl From<ServiceRef> for String {
    fn from(service: ServiceRef) -> String {
        service.to_string()
    }
}

impl TryFrom<String> for ServiceRef {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.split_once('/') {
            Some((namespace, name)) if !namespace.is_empty() && !name.is_empty() => {
                Ok(ServiceRef {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                })
            }
            _ => Err(format!("`{text}` is not NAMESPACE/NAME")),
        }
    }
}

impl std::fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A credential source, as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SourceSpec {
    /// An environment variable.
    Env {
        /// Its name.
        var: String,
    },
    /// A file's content, trailing newline stripped.
    File {
        /// Its path.
        path: PathBuf,
    },
    /// A `.pgpass` line.
    Pgpass {
        /// The passfile; libpq's default when absent.
        path: Option<PathBuf>,
    },
    /// The OS keyring.
    Keyring {
        /// Keyring service name.
        service: Option<String>,
        /// Keyring account name.
        account: Option<String>,
    },
    /// A Kubernetes Secret.
    Kubernetes {
        /// Secret name; derived from operator conventions when absent.
        secret: Option<String>,
        /// Namespace; the cluster's when absent.
        namespace: Option<String>,
        /// Data key of the password.
        key: Option<String>,
        /// Data key of the user name, if the Secret carries it.
        username_key: Option<String>,
        /// kubeconfig context.
        context: Option<String>,
    },
    /// A Vault KV secret.
    Vault {
        /// Secret path.
        path: String,
        /// Field holding the password.
        field: Option<String>,
        /// KV mount.
        mount: Option<String>,
        /// KV version; detected when absent.
        kv_version: Option<u8>,
    },
    /// Vault database engine dynamic credentials.
    VaultDatabase {
        /// Database engine role.
        role: String,
        /// Engine mount; `database` when absent.
        mount: Option<String>,
    },
    /// A command's stdout.
    Command {
        /// The command and its arguments.
        argv: Vec<String>,
    },
    /// Ask on the terminal.
    Prompt,
}

/// A database user of a cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// The role name in PostgreSQL.
    pub name: String,
    /// The endpoint roles this user is the default for.
    pub roles: Vec<Role>,
    /// Credential sources in order; `None` means the default chain.
    pub credentials: Option<Vec<SourceSpec>>,
    /// Where its credential sources were written (its `credentials` list,
    /// else the user itself): with includes, the document that decided them.
    #[serde(default)]
    pub pos: Pos,
}

/// One PostgreSQL cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    /// Its catalog name.
    pub name: String,
    /// Kubernetes namespace of its secrets.
    pub namespace: Option<String>,
    /// Port on every shared IP.
    pub port: u16,
    /// Default database.
    pub database: Option<String>,
    /// The pooler in front of write and read.
    pub pooler: Pooler,
    /// Its endpoints in role order.
    pub endpoints: Vec<Endpoint>,
    /// Its users in file order.
    pub users: Vec<User>,
    /// Where the cluster is defined.
    #[serde(skip)]
    pub pos: Pos,
}

impl Cluster {
    /// The endpoint for a role, if the cluster has one.
    pub fn endpoint(&self, role: Role) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.role == role)
    }

    /// The user whose `roles` include `role`.
    pub fn default_user(&self, role: Role) -> Option<&User> {
        self.users.iter().find(|u| u.roles.contains(&role))
    }

    /// A user by name.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }
}

/// A validated catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    /// The file it was read from.
    pub path: PathBuf,
    /// DNS suffix.
    pub domain: Option<String>,
    /// Connect timeout in seconds.
    pub connect_timeout: u32,
    /// Clusters in file order.
    pub clusters: Vec<Cluster>,
    /// Every document it was assembled from, indexed by `Pos::src`: the
    /// catalog itself, then the files and URLs it includes.
    #[serde(default)]
    pub sources: Vec<String>,
}

impl Catalog {
    /// `FILE:LINE` of a position, naming the included document it is in.
    pub fn origin(&self, pos: Pos) -> String {
        let doc = self
            .sources
            .get(usize::from(pos.src))
            .cloned()
            .unwrap_or_else(|| self.path.display().to_string());
        format!("{doc}:{}", pos.line)
    }
}
