//! The `kubernetes` source: a key of a Secret, read with kube from the
//! user's kubeconfig (the `KUBECONFIG` list, else `~/.kube/config`; the
//! context from `--context`, else the source's `context`, else the current
//! context; exec credential plugins included) or, in a pod without a
//! kubeconfig, with its service account. One API round trip per read.
//!
//! Without `secret`, the operator conventions name it, tried in this order:
//! Zalando `{user}.{cluster}.credentials.postgresql.acid.zalan.do` (`_` in
//! the user becomes `-`; keys `username`, `password`), then CloudNativePG
//! `{cluster}-app` and `{cluster}-superuser` (basic-auth). A derived Secret
//! whose `username` is another user is passed over. The namespace is the
//! source's, else the cluster's, else the context's.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::Client;
use kube::core::Status;

use super::runtime::block_on;
use super::{Found, Outcome, Secret, Settings, Source};
use crate::knowledge::sanitize_redacted;
use crate::kube_client::{connect, current_context_cheap};
use crate::target::Target;

/// How long answers are kept in the cache.
const CACHE_TTL: Duration = Duration::from_secs(8 * 3600);

/// The catalog fields of a `kubernetes` source.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// Secret name; derived from the operator conventions when absent.
    pub secret: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
    /// Data key of the password (`password`).
    pub key: Option<String>,
    /// Data key of the user name.
    pub username_key: Option<String>,
    /// kubeconfig context.
    pub context: Option<String>,
}

/// One Secret to try.
#[derive(Debug, Clone)]
struct Candidate {
    name: String,
    convention: Option<&'static str>,
    key: String,
    username_key: Option<String>,
}

/// Reads a Kubernetes Secret.
#[derive(Debug)]
pub struct KubernetesSource {
    spec: Spec,
    cluster: String,
    user: String,
    cluster_namespace: Option<String>,
    /// `--context`, which wins over the source's own.
    forced_context: Option<String>,
    timeout: Duration,
}

impl KubernetesSource {
    /// The source for `target`.
    pub fn new(spec: Spec, target: &Target<'_>, settings: &Settings) -> Self {
        KubernetesSource {
            spec,
            cluster: target.cluster.name.clone(),
            user: target.user.clone(),
            cluster_namespace: target.cluster.namespace.clone(),
            forced_context: settings.kube_context.clone(),
            timeout: settings.timeout,
        }
    }

    fn candidates(&self) -> Vec<Candidate> {
        let key = self.spec.key.clone().unwrap_or_else(|| "password".into());
        if let Some(name) = &self.spec.secret {
            return vec![Candidate {
                name: name.clone(),
                convention: None,
                key,
                username_key: self.spec.username_key.clone(),
            }];
        }
        let username_key = Some(
            self.spec
                .username_key
                .clone()
                .unwrap_or_else(|| "username".into()),
        );
        let c = &self.cluster;
        vec![
            Candidate {
                name: format!(
                    "{}.{c}.credentials.postgresql.acid.zalan.do",
                    self.user.replace('_', "-")
                ),
                convention: Some("Zalando"),
                key: key.clone(),
                username_key: username_key.clone(),
            },
            Candidate {
                name: format!("{c}-app"),
                convention: Some("CloudNativePG"),
                key: key.clone(),
                username_key: username_key.clone(),
            },
            Candidate {
                name: format!("{c}-superuser"),
                convention: Some("CloudNativePG"),
                key,
                username_key,
            },
        ]
    }

    fn context(&self) -> Option<String> {
        self.forced_context
            .clone()
            .or_else(|| self.spec.context.clone())
    }

    fn namespace(&self) -> Option<&str> {
        self.spec
            .namespace
            .as_deref()
            .or(self.cluster_namespace.as_deref())
    }
}

/// What reading one Secret gave.
enum Read {
    Found(Found),
    /// 404: try the next candidate.
    Missing,
    /// A derived Secret that belongs to someone else.
    OtherUser(String),
}

fn describe_error(e: &kube::Error, ns: &str, name: &str, ctx: &str) -> String {
    match e {
        kube::Error::Api(status) => {
            let msg = sanitize_redacted(&status.message, &[]);
            match status.code {
                401 => format!(
                    "the API server rejected the credentials of {ctx} (401 Unauthorized): \
                     log in again (expired token?), then check with `kubectl get secret {name} -n {ns}`"
                ),
                403 => format!(
                    "forbidden to read secret {ns}/{name} with {ctx} (403): {msg}; \
                     ask for `get` on secrets in namespace {ns}"
                ),
                404 => format!("secret {ns}/{name} not found ({ctx})"),
                300..=399 => format!(
                    "the API server of {ctx} answered {} with a redirect to {msg}, which pgconn \
                     (like kubectl) does not follow, so the credentials were not sent there: \
                     check the kubeconfig's server URL",
                    status.code
                ),
                code => format!(
                    "reading secret {ns}/{name} with {ctx}: {code} {}: {msg}",
                    sanitize_redacted(&status.reason, &[])
                ),
            }
        }
        kube::Error::Auth(inner) => format!(
            "authentication of {ctx} failed (exec plugin or token file?): {}",
            sanitize_redacted(&inner.to_string(), &[])
        ),
        other => format!(
            "cannot read secret {ns}/{name} with {ctx}: {}",
            sanitize_redacted(&crate::net::error_chain(&other), &[])
        ),
    }
}

/// GETs a Secret like `Api::get`, but looks at the HTTP status first:
/// kube-client follows no redirect (good: the bearer token stays with the
/// API server) but would read a 3xx's body as an empty Secret.
async fn get_secret(client: &Client, ns: &str, name: &str) -> Result<KubeSecret, kube::Error> {
    let request = kube::core::Request::new(format!("/api/v1/namespaces/{ns}/secrets"))
        .get(name, &kube::api::GetParams::default())
        .map_err(kube::Error::BuildRequest)?;
    let response = client.send(request.map(kube::client::Body::from)).await?;
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or("nowhere");
        let refused = Status::failure(location, "Redirect").with_code(status.as_u16());
        return Err(kube::Error::Api(refused.boxed()));
    }
    let body = response.into_body().collect_bytes().await?;
    let text = String::from_utf8_lossy(&body);
    if status.is_client_error() || status.is_server_error() {
        let answer = serde_json::from_str::<Status>(&text).unwrap_or_else(|_| {
            Status::failure(&text, status.canonical_reason().unwrap_or_default())
                .with_code(status.as_u16())
        });
        return Err(kube::Error::Api(answer.boxed()));
    }
    serde_json::from_str(&text).map_err(kube::Error::SerdeError)
}

async fn read_one(
    client: &Client,
    c: &Candidate,
    ns: &str,
    ctx: &str,
    user: &str,
) -> Result<Read, String> {
    let secret = match get_secret(client, ns, &c.name).await {
        Ok(s) => s,
        Err(kube::Error::Api(status)) if status.code == 404 && c.convention.is_some() => {
            return Ok(Read::Missing);
        }
        Err(e) => return Err(describe_error(&e, ns, &c.name, ctx)),
    };
    let data = secret.data.unwrap_or_default();
    let text = |key: &str| {
        data.get(key).map(|b| {
            String::from_utf8(b.0.clone())
                .map_err(|_| format!("key `{key}` of secret {ns}/{} is not UTF-8", c.name))
        })
    };
    let username = match &c.username_key {
        Some(k) => match text(k) {
            Some(Ok(u)) => Some(u),
            Some(Err(e)) => return Err(e),
            // a derived name need not carry a user; an explicit username_key must
            None if c.convention.is_some() => None,
            None => {
                return Err(format!(
                    "secret {ns}/{} has no key `{k}` (username_key); its keys: {}",
                    c.name,
                    data.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        },
        None => None,
    };
    if c.convention.is_some()
        && let Some(u) = username.as_deref().filter(|u| *u != user)
    {
        return Ok(Read::OtherUser(format!(
            "{ns}/{} belongs to user {u}",
            c.name
        )));
    }
    match text(&c.key) {
        Some(Ok(pw)) if !pw.is_empty() => {
            let mut found = Found::password(Secret::new(pw));
            found.user = username;
            found.ttl = Some(CACHE_TTL);
            found.via = Some(format!(
                "kubernetes secret {ns}/{} key {} ({ctx}{})",
                c.name,
                c.key,
                c.convention.map_or_else(String::new, |conv| format!(
                    ", name derived by the {conv} convention"
                ))
            ));
            Ok(Read::Found(found))
        }
        Some(Ok(_)) => Err(format!(
            "key `{}` of secret {ns}/{} is empty",
            c.key, c.name
        )),
        Some(Err(e)) => Err(e),
        None => Err(format!(
            "secret {ns}/{} ({ctx}) has no key `{}`; its keys: {}",
            c.name,
            c.key,
            if data.is_empty() {
                "none".into()
            } else {
                data.keys().cloned().collect::<Vec<_>>().join(", ")
            }
        )),
    }
}

async fn read(source: &KubernetesSource, timeout: Duration) -> Outcome {
    let (client, ctx, default_ns) = match connect(source.context(), timeout).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Outcome::Skipped(
                "no kubeconfig (KUBECONFIG, ~/.kube/config) and not in a pod".into(),
            );
        }
        Err(e) => return Outcome::Failed(e),
    };
    let ns = source.namespace().map_or(default_ns, str::to_string);
    let mut passed = Vec::new();
    for c in source.candidates() {
        match read_one(&client, &c, &ns, &ctx, &source.user).await {
            Ok(Read::Found(found)) => return Outcome::Found(found),
            Ok(Read::Missing) => passed.push(format!("{ns}/{} not found", c.name)),
            Ok(Read::OtherUser(why)) => passed.push(why),
            Err(e) => return Outcome::Failed(e),
        }
    }
    Outcome::Failed(format!(
        "no Secret by the operator conventions ({ctx}): {}; name it with `secret:`",
        passed.join(", ")
    ))
}

impl Source for KubernetesSource {
    fn label(&self) -> String {
        let ns = self.namespace().unwrap_or("<context namespace>");
        let names: Vec<String> = self.candidates().into_iter().map(|c| c.name).collect();
        let ctx = self
            .context()
            .map_or_else(String::new, |c| format!(" (context {c})"));
        let key = self.spec.key.as_deref().unwrap_or("password");
        if self.spec.secret.is_some() {
            format!("kubernetes secret {ns}/{} key {key}{ctx}", names[0])
        } else {
            format!(
                "kubernetes secret {ns}/{} key {key}, else {}, else {} (derived: Zalando, then CloudNativePG){ctx}",
                names[0], names[1], names[2]
            )
        }
    }

    fn cached(&self) -> bool {
        true
    }

    fn cache_key(&self) -> String {
        let ctx = self
            .context()
            .or_else(current_context_cheap)
            .unwrap_or_default();
        format!("{} [{ctx}]", self.label())
    }

    fn fetch(&self) -> Outcome {
        let timeout = self.timeout;
        match block_on(
            "the Kubernetes API server",
            timeout * 3,
            read(self, timeout),
        ) {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Failed(e),
        }
    }
}
