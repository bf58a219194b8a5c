//! The Kubernetes API client both the `kubernetes` credential source and
//! `--via kube` tunnels use: the user's kubeconfig (the `KUBECONFIG` list,
//! else `~/.kube/config`; a chosen context, else the current one; exec
//! credential plugins included) or, in a pod without a kubeconfig, its
//! service account; every request bounded by a timeout.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// A connected client.
#[derive(Clone)]
pub struct KubeClient {
    /// The client.
    pub client: Client,
    /// The context's name (for messages), e.g. `context lab`.
    pub context: String,
    /// The context's default namespace.
    pub namespace: String,
}

/// Makes sure rustls has a process-level crypto provider (ring); the HTTP
/// clients here are built without one of their own.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either way a provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

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

/// A client for `context` (else the current one); `Ok(None)` when there is
/// no kubeconfig and no pod service account.
pub async fn connect(
    context: Option<String>,
    timeout: Duration,
) -> Result<Option<KubeClient>, String> {
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
        from_kubeconfig(&paths, context).await?
    };
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    let namespace = config.default_namespace.clone();
    let url = config.cluster_url.to_string();
    let client = Client::try_from(config)
        .map_err(|e| format!("cannot set up a client for {url} ({name}): {e}"))?;
    Ok(Some(KubeClient {
        client,
        context: name,
        namespace,
    }))
}

/// The merged kubeconfig files and the chosen context's configuration.
async fn from_kubeconfig(
    paths: &[PathBuf],
    context: Option<String>,
) -> Result<(Config, String), String> {
    let mut merged = Kubeconfig::default();
    for p in paths {
        let kc = Kubeconfig::read_from(p)
            .map_err(|e| format!("cannot read kubeconfig {}: {e}", p.display()))?;
        merged = merged
            .merge(kc)
            .map_err(|e| format!("cannot merge kubeconfig {}: {e}", p.display()))?;
    }
    let ctx = context
        .or_else(|| merged.current_context.clone())
        .ok_or_else(|| {
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
    Ok((config, format!("context {ctx}")))
}

/// An error with its chain of causes, one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut detail = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    detail
}
