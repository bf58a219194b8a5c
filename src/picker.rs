//! The interactive picker shown when no cluster is named on a terminal.

use std::io::IsTerminal;

use crate::catalog::{Catalog, Role};
use crate::error::Error;

/// Whether a picker can be shown (stdin and stderr are terminals).
pub fn available() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Lets the user pick a cluster endpoint (restricted to `role` when given).
/// Returns the cluster name and role.
pub fn pick_endpoint(catalog: &Catalog, role: Option<Role>) -> Result<(String, Role), Error> {
    let choices: Vec<(String, Role, String)> = catalog
        .clusters
        .iter()
        .flat_map(|c| {
            c.endpoints
                .iter()
                .filter(move |e| role.is_none_or(|r| r == e.role))
                .map(move |e| {
                    let label = format!("{:<24} {:<6} {}:{}", c.name, e.role, e.host, e.port);
                    (c.name.clone(), e.role, label)
                })
        })
        .collect();
    pick(
        &choices.iter().map(|c| c.2.as_str()).collect::<Vec<_>>(),
        "Endpoint",
    )
    .map(|i| (choices[i].0.clone(), choices[i].1))
}

/// Lets the user pick a cluster.
pub fn pick_cluster(catalog: &Catalog) -> Result<String, Error> {
    let names: Vec<&str> = catalog.clusters.iter().map(|c| c.name.as_str()).collect();
    pick(&names, "Cluster").map(|i| names[i].to_string())
}

fn pick(items: &[&str], prompt: &str) -> Result<usize, Error> {
    if items.is_empty() {
        return Err(Error::usage(
            "nothing to pick from",
            "check the catalog and the role asked for",
        ));
    }
    dialoguer::FuzzySelect::new()
        .with_prompt(prompt)
        .items(items)
        .default(0)
        .interact_opt()
        .map_err(|dialoguer::Error::IO(e)| match e.kind() {
            std::io::ErrorKind::Interrupted => {
                let _ = dialoguer::console::Term::stderr().show_cursor();
                Error::Interrupted
            }
            _ => Error::Io {
                context: "showing the picker".into(),
                source: e,
            },
        })?
        .ok_or_else(|| Error::usage("nothing picked", "name the cluster on the command line"))
}
