//! Catalogs from elsewhere, so one catalog can serve a whole organisation:
//! `https://…` (TLS verified against the OS roots plus
//! `$PGCONN_CATALOG_CACERT`), optionally pinned with `#sha256=<hex>`, and
//! `k8s:NAMESPACE/NAME[/KEY]`, a `ConfigMap` read with the user's kubeconfig
//! (`--context`, else the current context).
//!
//! Every answer is kept in the user cache dir and revalidated (`ETag`,
//! `Last-Modified`) at most every `refresh`; `pgconn catalog refresh` forces
//! it. When the source cannot be reached, the last good copy is used and one
//! stderr line says how old it is; with no copy it is an error naming the
//! source. A pin that does not match is an error, never a fallback.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::CatalogError;
use super::trust::digest;
use crate::atomic_file::{self, Mode, Symlinks};

/// How often a cached copy is revalidated unless the catalog says otherwise.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(600);

/// Bound on one fetch (connect, TLS, answer).
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest catalog accepted from the network.
const MAX_BYTES: usize = 8 << 20;

/// How remote sources are fetched in this run.
#[derive(Debug, Clone, Default)]
pub struct Fetching {
    /// Refetch now, whatever the age of the cached copy (`catalog refresh`).
    pub force: bool,
    /// `--context`: the kubeconfig context for `k8s:` sources.
    pub kube_context: Option<String>,
    /// Never reach the network (a catalog the user has not trusted is only
    /// described): a cached copy or an error saying why.
    pub offline: bool,
}

/// A catalog source that is not a local file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// The URL without its fragment (or the `k8s:` source as written).
    pub url: String,
    /// `#sha256=<hex>`: the content must hash to this.
    pub pin: Option<String>,
    /// For `k8s:`: the `ConfigMap`'s namespace, name and key.
    pub config_map: Option<(String, String, String)>,
}

/// The key a `k8s:` source reads when it names none.
const DEFAULT_KEY: &str = "catalog.yaml";

impl Remote {
    /// The source `text` names, if it is remote; an error for `http://`
    /// (a catalog decides where passwords go: it is never read in cleartext).
    pub fn parse(text: &str) -> Option<Result<Remote, CatalogError>> {
        if text.starts_with("http://") {
            return Some(Err(CatalogError::Remote {
                source_name: text.to_string(),
                reason: "a catalog is only fetched over https://".into(),
            }));
        }
        if let Some(rest) = text.strip_prefix("k8s:") {
            return Some(config_map(text, rest));
        }
        if !text.starts_with("https://") {
            return None;
        }
        let (url, fragment) = text.split_once('#').unwrap_or((text, ""));
        let pin = fragment
            .strip_prefix("sha256=")
            .map(str::to_ascii_lowercase);
        if !fragment.is_empty() && pin.as_ref().is_none_or(|p| p.len() != 64) {
            return Some(Err(CatalogError::Remote {
                source_name: text.to_string(),
                reason: "the only fragment understood is #sha256=<64 hex digits>".into(),
            }));
        }
        Some(Ok(Remote {
            url: url.to_string(),
            pin,
            config_map: None,
        }))
    }
}

fn config_map(text: &str, rest: &str) -> Result<Remote, CatalogError> {
    let parts: Vec<&str> = rest.split('/').collect();
    let (ns, name, key) = match parts.as_slice() {
        [ns, name] => (*ns, *name, DEFAULT_KEY),
        [ns, name, key] => (*ns, *name, *key),
        _ => ("", "", ""),
    };
    if ns.is_empty() || name.is_empty() || key.is_empty() {
        return Err(CatalogError::Remote {
            source_name: text.to_string(),
            reason: "a ConfigMap source is k8s:NAMESPACE/NAME or k8s:NAMESPACE/NAME/KEY".into(),
        });
    }
    Ok(Remote {
        url: text.to_string(),
        pin: None,
        config_map: Some((ns.into(), name.into(), key.into())),
    })
}

/// A fetched catalog text and what the user should know about it.
#[derive(Debug)]
pub struct Fetched {
    /// The catalog text.
    pub text: String,
    /// One line for stderr when a stale copy was used.
    pub note: Option<String>,
    /// When the copy in use was last confirmed by the source (Unix seconds).
    pub confirmed_at: u64,
}

/// The cached copy of one source.
#[derive(Debug, Serialize, Deserialize)]
struct Cached {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    confirmed_at: u64,
    body: String,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn cache_file(url: &str) -> Option<PathBuf> {
    let name = &digest(url.as_bytes())[..32];
    Some(
        dirs::cache_dir()?
            .join("pgconn")
            .join("remote")
            .join(format!("{name}.json")),
    )
}

fn read_cached(url: &str) -> Option<Cached> {
    let bytes = std::fs::read(cache_file(url)?).ok()?;
    serde_json::from_slice::<Cached>(&bytes)
        .ok()
        .filter(|c| c.url == url)
}

/// Best effort: a cache that cannot be written only costs a fetch.
fn write_cached(cached: &Cached) {
    let Some(file) = cache_file(&cached.url) else {
        return;
    };
    let Some(dir) = file.parent() else {
        return;
    };
    let Ok(json) = serde_json::to_vec(cached) else {
        return;
    };
    if std::fs::create_dir_all(dir).is_ok() {
        let _ = atomic_file::write(&file, &json, Mode::Exactly(0o600), Symlinks::Refuse);
    }
}

/// Checks the pin, if any.
fn pinned(remote: &Remote, body: &str) -> Result<(), CatalogError> {
    match &remote.pin {
        Some(pin) if *pin != digest(body.as_bytes()) => Err(CatalogError::Remote {
            source_name: remote.url.clone(),
            reason: format!(
                "its content has sha256 {}, not the pinned {pin}",
                digest(body.as_bytes())
            ),
        }),
        _ => Ok(()),
    }
}

/// The catalog text of `remote`: the cached copy while younger than
/// `refresh` (unless `force`), else revalidated or fetched; the last good
/// copy with a note when the source cannot be reached.
pub fn fetch(
    remote: &Remote,
    refresh: Duration,
    fetching: &Fetching,
) -> Result<Fetched, CatalogError> {
    let force = fetching.force;
    let key = cache_key(remote, fetching);
    let cached = read_cached(&key);
    if fetching.offline {
        return match cached {
            Some(c) => {
                pinned(remote, &c.body)?;
                Ok(Fetched {
                    text: c.body,
                    note: None,
                    confirmed_at: c.confirmed_at,
                })
            }
            None => Err(CatalogError::Remote {
                source_name: remote.url.clone(),
                reason: "not fetched: the catalog that includes it is not trusted \
                         (`pgconn catalog trust` allows it)"
                    .into(),
            }),
        };
    }
    if let Some(c) = &cached
        && !force
        && now().saturating_sub(c.confirmed_at) < refresh.as_secs()
    {
        pinned(remote, &c.body)?;
        return Ok(Fetched {
            text: c.body.clone(),
            note: None,
            confirmed_at: c.confirmed_at,
        });
    }
    match get(remote, cached.as_ref(), fetching) {
        Ok(Answer::NotModified) if let Some(mut c) = cached => {
            c.confirmed_at = now();
            pinned(remote, &c.body)?;
            write_cached(&c);
            Ok(Fetched {
                text: c.body,
                note: None,
                confirmed_at: c.confirmed_at,
            })
        }
        Ok(Answer::Body {
            body,
            etag,
            last_modified,
        }) => {
            pinned(remote, &body)?;
            let c = Cached {
                url: key,
                etag,
                last_modified,
                confirmed_at: now(),
                body,
            };
            write_cached(&c);
            Ok(Fetched {
                text: c.body,
                note: None,
                confirmed_at: c.confirmed_at,
            })
        }
        Ok(Answer::NotModified) => Err(CatalogError::Remote {
            source_name: remote.url.clone(),
            reason: "answered 304 Not Modified to a request that had no copy".into(),
        }),
        Err(reason) => match cached {
            Some(c) => {
                pinned(remote, &c.body)?;
                let age = now().saturating_sub(c.confirmed_at);
                Ok(Fetched {
                    note: Some(format!(
                        "{} cannot be reached ({reason}); using the copy confirmed {} ago",
                        remote.url,
                        human_age(age)
                    )),
                    text: c.body,
                    confirmed_at: c.confirmed_at,
                })
            }
            None => Err(CatalogError::Remote {
                source_name: remote.url.clone(),
                reason,
            }),
        },
    }
}

/// What names a source's cached copy: its URL; a `ConfigMap` is per cluster,
/// so the kubeconfig context is part of its name.
fn cache_key(remote: &Remote, fetching: &Fetching) -> String {
    match &remote.config_map {
        Some(_) => {
            let context = (fetching.kube_context.clone())
                .or_else(crate::kube_client::current_context_cheap)
                .unwrap_or_default();
            format!("{}@{context}", remote.url)
        }
        None => remote.url.clone(),
    }
}

/// How long ago the source `name` (a URL or `k8s:` source) was last
/// confirmed, from its cached copy; `None` when it is not remote or has none.
pub fn confirmed_ago(name: &str, fetching: &Fetching) -> Option<u64> {
    let remote = Remote::parse(name)?.ok()?;
    let cached = read_cached(&cache_key(&remote, fetching))?;
    Some(now().saturating_sub(cached.confirmed_at))
}

/// `90 s`, `12 min`, `3 h`, `2 days`.
pub fn human_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

enum Answer {
    NotModified,
    Body {
        body: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

fn client() -> Result<reqwest::Client, String> {
    crate::net::runtime::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(FETCH_TIMEOUT)
        .timeout(FETCH_TIMEOUT)
        .https_only(true)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            // never leave https, never loop
            if attempt.url().scheme() != "https" || attempt.previous().len() > 5 {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .user_agent(concat!("pgconn/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = std::env::var_os("PGCONN_CATALOG_CACERT").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        let pem = std::fs::read(&path)
            .map_err(|e| format!("cannot read PGCONN_CATALOG_CACERT {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            format!(
                "PGCONN_CATALOG_CACERT {} is not a PEM bundle: {e}",
                path.display()
            )
        })?;
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

/// One GET, conditional when a copy exists.
fn get(remote: &Remote, cached: Option<&Cached>, fetching: &Fetching) -> Result<Answer, String> {
    if let Some((ns, name, key)) = &remote.config_map {
        return read_config_map(ns, name, key, fetching.kube_context.clone());
    }
    let client = client()?;
    let mut request = client.get(&remote.url);
    if let Some(c) = cached {
        if let Some(etag) = &c.etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &c.last_modified {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
        }
    }
    crate::net::runtime::block_on("the catalog server", FETCH_TIMEOUT, async {
        let response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED && cached.is_some() {
            return Ok(Answer::NotModified);
        }
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = header(reqwest::header::ETAG);
        let last_modified = header(reqwest::header::LAST_MODIFIED);
        let bytes = response.bytes().await.map_err(|e| describe(&e))?;
        if bytes.len() > MAX_BYTES {
            return Err(format!("the answer is larger than {} MiB", MAX_BYTES >> 20));
        }
        let body = String::from_utf8(bytes.to_vec()).map_err(|_| "the answer is not UTF-8")?;
        Ok(Answer::Body {
            body,
            etag,
            last_modified,
        })
    })?
}

/// The `ConfigMap`'s key, read with the user's kubeconfig.
fn read_config_map(
    ns: &str,
    name: &str,
    key: &str,
    context: Option<String>,
) -> Result<Answer, String> {
    use k8s_openapi::api::core::v1::ConfigMap;
    crate::net::runtime::block_on("the Kubernetes API server", FETCH_TIMEOUT * 2, async {
        let Some((client, context, _)) =
            crate::kube_client::connect(context, FETCH_TIMEOUT).await?
        else {
            return Err("no kubeconfig (KUBECONFIG, ~/.kube/config) to read it with".to_string());
        };
        let api: kube::Api<ConfigMap> = kube::Api::namespaced(client, ns);
        let map = api.get(name).await.map_err(|e| match e {
            kube::Error::Api(status) => format!("{} ({context}): {}", status.code, status.message),
            other => format!("{other} ({context})"),
        })?;
        let body = map
            .data
            .and_then(|mut data| data.remove(key))
            .ok_or_else(|| format!("ConfigMap {ns}/{name} has no key `{key}`"))?;
        Ok(Answer::Body {
            body,
            etag: None,
            last_modified: None,
        })
    })?
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = crate::net::error_chain(e);
    // rendered through the one sanitiser with every error
    if text.contains("UnknownIssuer") {
        text.push_str(
            " (set PGCONN_CATALOG_CACERT to the CA that signed the server's certificate)",
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_https_with_an_optional_pin() {
        assert!(Remote::parse("./pgconn.yaml").is_none());
        assert!(Remote::parse("http://x/c.yaml").unwrap().is_err());
        let r = Remote::parse("https://x/c.yaml").unwrap().unwrap();
        assert_eq!((r.url.as_str(), r.pin), ("https://x/c.yaml", None));
        let pin = "a".repeat(64);
        let r = Remote::parse(&format!("https://x/c.yaml#sha256={pin}"))
            .unwrap()
            .unwrap();
        assert_eq!(r.pin.as_deref(), Some(pin.as_str()));
        assert!(
            Remote::parse("https://x/c.yaml#sha256=abc")
                .unwrap()
                .is_err()
        );
        assert!(Remote::parse("https://x/c.yaml#top").unwrap().is_err());
    }
}
