//! A Kubernetes API client from the user's kubeconfig, shared by everything
//! that reads the cluster (the `kubernetes` credential source, `catalog
//! import`): the `KUBECONFIG` list (else `~/.kube/config`) merged as kubectl
//! merges it, the context asked for or the current one, exec credential
//! plugins included; in a pod without a kubeconfig, its service account.
//! Connect and read timeouts bound every request.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::net::runtime::install_crypto_provider;

/// The kubeconfig files in effect: the existing entries of `KUBECONFIG`,
/// else `~/.kube/config` when it exists.
pub fn kubeconfig_paths() -> Vec<PathBuf> {
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty() && p.is_file())
            .collect(),
        None => dirs::home_dir()
            .map(|h| h.join(".kube").join("config"))
            .filter(|p| p.is_file())
            .into_iter()
            .collect(),
    }
}

/// The current context without parsing the YAML (for the cache key): the
/// first top-level `current-context:` of the files in order, as kubectl
/// merges them.
pub fn current_context_cheap() -> Option<String> {
    kubeconfig_paths().into_iter().find_map(|p| {
        let text = std::fs::read_to_string(p).ok()?;
        text.lines().find_map(|l| {
            let v = l.strip_prefix("current-context:")?.trim();
            let v = v.trim_matches(|c| c == '"' || c == '\'');
            (!v.is_empty()).then(|| v.to_string())
        })
    })
}

/// A client, the context's name (for messages) and its default namespace;
/// `Ok(None)` when there is no kubeconfig and no pod service account.
pub async fn connect(
    context: Option<String>,
    timeout: Duration,
) -> Result<Option<(Client, String, String)>, String> {
    install_crypto_provider();
    let paths = kubeconfig_paths();
    let (mut config, name) = if paths.is_empty() {
        if let Some(ctx) = context {
            return Err(format!(
                "context `{ctx}` asked for, but there is no kubeconfig (KUBECONFIG, ~/.kube/config)"
            ));
        }
        if std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() {
            return Ok(None);
        }
        let config = Config::incluster()
            .map_err(|e| format!("in a pod, but its service account cannot be used: {e}"))?;
        (config, "in-cluster service account".to_string())
    } else {
        let mut merged = Kubeconfig::default();
        for p in &paths {
            let kc = Kubeconfig::read_from(p)
                .map_err(|e| format!("cannot read kubeconfig {}: {e}", p.display()))?;
            merged = merged
                .merge(kc)
                .map_err(|e| format!("cannot merge kubeconfig {}: {e}", p.display()))?;
        }
        let ctx = context.or_else(|| merged.current_context.clone()).ok_or_else(|| {
            "the kubeconfig has no current-context: pass --context or set `context` in the catalog"
                .to_string()
        })?;
        if !merged.contexts.iter().any(|c| c.name == ctx) {
            let known: Vec<&str> = merged.contexts.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "no context `{ctx}` in the kubeconfig (contexts: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ));
        }
        let options = KubeConfigOptions {
            context: Some(ctx.clone()),
            ..KubeConfigOptions::default()
        };
        let config = Config::from_custom_kubeconfig(merged, &options)
            .await
            .map_err(|e| format!("kubeconfig context `{ctx}`: {e}"))?;
        (config, format!("context {ctx}"))
    };
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    let namespace = config.default_namespace.clone();
    let url = config.cluster_url.to_string();
    let client = Client::try_from(config)
        .map_err(|e| format!("cannot set up a client for {url} ({name}): {e}"))?;
    Ok(Some((client, name, namespace)))
}

/// A connected client with what messages name it by.
#[derive(Clone)]
pub struct KubeClient {
    /// The client.
    pub client: Client,
    /// The context's name (for messages), e.g. `context lab`.
    pub context: String,
    /// The context's default namespace.
    pub namespace: String,
}

/// [`connect`], as a [`KubeClient`].
pub async fn client(
    context: Option<String>,
    timeout: Duration,
) -> Result<Option<KubeClient>, String> {
    Ok(connect(context, timeout)
        .await?
        .map(|(client, context, namespace)| KubeClient {
            client,
            context,
            namespace,
        }))
}
