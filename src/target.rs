//! Resolution: a cluster name (or unique prefix), a role and overrides become
//! the one [`Target`] every command works on.

use crate::catalog::{Catalog, Cluster, Endpoint, Role, SourceSpec};
use crate::suggest::did_you_mean;

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// Cluster name or unique prefix.
    pub cluster: String,
    /// Endpoint role; write when absent.
    pub role: Option<Role>,
    /// `--user` override.
    pub user: Option<String>,
    /// `--db` override.
    pub database: Option<String>,
}

/// A resolved endpoint with the user and database to connect as.
#[derive(Debug, Clone)]
pub struct Target<'c> {
    /// The cluster.
    pub cluster: &'c Cluster,
    /// The endpoint.
    pub endpoint: &'c Endpoint,
    /// The PostgreSQL user.
    pub user: String,
    /// The database, when one is known.
    pub database: Option<String>,
    /// Credential sources from the catalog; `None` means the default chain.
    pub sources: Option<&'c [SourceSpec]>,
}

/// Why a selector does not name exactly one endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No cluster has that name or prefix.
    #[error("no cluster named `{name}` in the catalog")]
    UnknownCluster {
        /// What was asked for.
        name: String,
        /// A likely intended name.
        suggestion: Option<String>,
        /// All names, for the hint when nothing is close.
        known: Vec<String>,
    },
    /// The prefix fits several clusters.
    #[error("`{prefix}` matches several clusters: {}", .matches.join(", "))]
    Ambiguous {
        /// What was asked for.
        prefix: String,
        /// The clusters it fits.
        matches: Vec<String>,
    },
    /// The cluster has no endpoint for that role.
    #[error("cluster `{cluster}` has no {role} endpoint")]
    NoSuchRole {
        /// The cluster.
        cluster: String,
        /// The role asked for.
        role: Role,
        /// The roles it does have.
        available: Vec<Role>,
    },
    /// No `--user` and no default user for the role.
    #[error("cluster `{cluster}` names no default user for the {role} endpoint")]
    NoUser {
        /// The cluster.
        cluster: String,
        /// The role.
        role: Role,
    },
}

impl ResolveError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ResolveError::UnknownCluster {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            ResolveError::UnknownCluster { known, .. } => {
                format!("clusters in the catalog: {}", known.join(", "))
            }
            ResolveError::Ambiguous { .. } => "type more of the name".into(),
            ResolveError::NoSuchRole { available, .. } => format!(
                "it has: {}",
                available
                    .iter()
                    .map(|r| format!("--{r}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ResolveError::NoUser { .. } => {
                "pass --user NAME, or give a user this role in the catalog".into()
            }
        })
    }
}

/// Finds a cluster by exact name, else by unique prefix.
pub fn find_cluster<'c>(catalog: &'c Catalog, name: &str) -> Result<&'c Cluster, ResolveError> {
    if let Some(c) = catalog.clusters.iter().find(|c| c.name == name) {
        return Ok(c);
    }
    let matches: Vec<&Cluster> = catalog
        .clusters
        .iter()
        .filter(|c| c.name.starts_with(name))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(ResolveError::UnknownCluster {
            name: name.to_string(),
            suggestion: did_you_mean(name, catalog.clusters.iter().map(|c| c.name.as_str()))
                .map(str::to_string),
            known: catalog.clusters.iter().map(|c| c.name.clone()).collect(),
        }),
        many => Err(ResolveError::Ambiguous {
            prefix: name.to_string(),
            matches: many.iter().map(|c| c.name.clone()).collect(),
        }),
    }
}

/// Resolves a selector to a target.
pub fn resolve<'c>(catalog: &'c Catalog, selector: &Selector) -> Result<Target<'c>, ResolveError> {
    let cluster = find_cluster(catalog, &selector.cluster)?;
    let role = selector.role.unwrap_or(Role::Write);
    let endpoint = cluster
        .endpoint(role)
        .ok_or_else(|| ResolveError::NoSuchRole {
            cluster: cluster.name.clone(),
            role,
            available: cluster.endpoints.iter().map(|e| e.role).collect(),
        })?;
    let user = match &selector.user {
        Some(name) => cluster
            .user(name)
            .map_or_else(|| name.clone(), |u| u.name.clone()),
        None => cluster
            .default_user(role)
            .map(|u| u.name.clone())
            .ok_or_else(|| ResolveError::NoUser {
                cluster: cluster.name.clone(),
                role,
            })?,
    };
    let sources = cluster.user(&user).and_then(|u| u.credentials.as_deref());
    Ok(Target {
        cluster,
        endpoint,
        user,
        database: selector
            .database
            .clone()
            .or_else(|| cluster.database.clone()),
        sources,
    })
}
