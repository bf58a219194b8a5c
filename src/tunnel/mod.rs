//! `--via kube`: a local TCP listener on 127.0.0.1 whose every accepted
//! connection becomes its own port-forward stream to a ready pod behind the
//! endpoint's in-cluster Service, through the API server's pod
//! `portforward` subresource (WebSocket, `v4.channel.k8s.io`). One failed
//! connection never ends the tunnel; the Service is resolved again for each
//! connection, so a pod that goes away is replaced by another ready one.
//!
//! The tunnel runs on a thread of its own with a current-thread runtime, so
//! the commands that hold it (`psql`, `run`, `tunnel`, `doctor`) stay
//! synchronous. TLS is not touched here: clients keep verifying the
//! endpoint's real name and only dial the local address.

mod forward;
mod resolve;

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::catalog::ServiceRef;
use crate::knowledge::sanitize;
use crate::kube_client::{self, KubeClient};
use crate::net::error_chain;

pub use resolve::PodPort;

/// Where a line about the tunnel goes (already sanitised).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// What to tunnel to.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The endpoint, for messages (`temporal-db admin`).
    pub label: String,
    /// The in-cluster Service behind it.
    pub service: ServiceRef,
    /// The endpoint's port (chooses the Service port).
    pub endpoint_port: u16,
    /// kubeconfig context; the current one when absent.
    pub context: Option<String>,
    /// Bound of each API call and of the first stream.
    pub timeout: Duration,
    /// The local port; 0 picks a free one.
    pub local_port: u16,
}

/// Why a tunnel cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    /// The catalog names no Service for the endpoint.
    #[error(
        "{0}: the catalog names no in-cluster Service for this endpoint, so there is nothing to tunnel to"
    )]
    NoService(String),
    /// No kubeconfig and not in a pod.
    #[error(
        "no kubeconfig (KUBECONFIG, ~/.kube/config) and not in a pod: --via kube needs access to the Kubernetes API"
    )]
    NoKubeconfig,
    /// The kubeconfig or client could not be set up.
    #[error("{0}")]
    Kube(String),
    /// The API server rejected the credentials.
    #[error("the API server rejected the credentials of {context} (401 Unauthorized)")]
    Unauthorized {
        /// The context.
        context: String,
    },
    /// RBAC forbids a step.
    #[error(
        "forbidden to {verb} {resource} in namespace {namespace} with {context} (403): {message}"
    )]
    Forbidden {
        /// The RBAC verb.
        verb: &'static str,
        /// The resource.
        resource: &'static str,
        /// The namespace.
        namespace: String,
        /// The context.
        context: String,
        /// The API server's message.
        message: String,
    },
    /// The Service does not exist.
    #[error("service {service} not found ({context})")]
    ServiceNotFound {
        /// `NAMESPACE/NAME`.
        service: String,
        /// The context.
        context: String,
    },
    /// The Service has no port for the endpoint.
    #[error("service {service} has no port {port} (and not exactly one port to use instead)")]
    NoServicePort {
        /// `NAMESPACE/NAME`.
        service: String,
        /// The endpoint's port.
        port: u16,
    },
    /// Nothing ready behind the Service.
    #[error(
        "no ready pod behind service {service} (its Endpoints list none, nor does its selector pick a Running and Ready pod)"
    )]
    NoReadyPod {
        /// `NAMESPACE/NAME`.
        service: String,
    },
    /// The pod did not accept a connection on the port.
    #[error("pod {namespace}/{pod} refused port {port}: {message}")]
    PortRefused {
        /// The namespace.
        namespace: String,
        /// The pod.
        pod: String,
        /// The port.
        port: u16,
        /// What the kubelet said.
        message: String,
    },
    /// Another API failure.
    #[error("{0}")]
    Api(String),
    /// The local port cannot be had.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen {
        /// The port asked for.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// Opening took longer than its bound.
    #[error("the tunnel did not open within {0} s")]
    Timeout(u64),
}

impl TunnelError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            TunnelError::NoService(_) => "add `service: NAMESPACE/NAME` (the in-cluster Service) to the endpoint in the catalog; `pgconn catalog import kubernetes` fills it in".into(),
            TunnelError::NoKubeconfig => "set KUBECONFIG or write ~/.kube/config (as kubectl uses it)".into(),
            TunnelError::Unauthorized { .. } => "log in again (an expired token?), then check with `kubectl auth can-i create pods/portforward`".into(),
            TunnelError::Forbidden { resource: "pods/portforward", namespace, .. } => format!(
                "ask for the RBAC verb `create` on `pods/portforward` (and `get` on pods, services, endpoints) in namespace {namespace}; `kubectl auth can-i create pods/portforward -n {namespace}` tells"
            ),
            TunnelError::Forbidden { verb, resource, namespace, .. } => format!(
                "ask for `{verb}` on {resource} (and `create` on `pods/portforward`) in namespace {namespace}"
            ),
            TunnelError::ServiceNotFound { .. } | TunnelError::NoServicePort { .. } => {
                "check the endpoint's `service:` in the catalog against `kubectl get service -n NAMESPACE`".into()
            }
            TunnelError::NoReadyPod { service } => format!(
                "the database may be failing over or down: `kubectl get endpoints,pods -n {}`",
                service.split('/').next().unwrap_or_default()
            ),
            TunnelError::PortRefused { .. } => "nothing listens on that port in the pod: check the Service's targetPort and the pod's state".into(),
            TunnelError::Listen { .. } => "choose another --port, or leave it out for a free one".into(),
            TunnelError::Kube(_) | TunnelError::Api(_) | TunnelError::Timeout(_) => return None,
        })
    }
}

/// What every connection of one tunnel shares.
pub struct Shared {
    kube: KubeClient,
    service: ServiceRef,
    endpoint_port: u16,
    timeout: Duration,
    /// The pod used last: kept while it stays ready.
    current: Mutex<Option<PodPort>>,
    /// Pods whose forward failed: tried last.
    avoid: Mutex<HashSet<String>>,
    log: Log,
}

impl Shared {
    /// The typed error for a failed API call.
    fn api_error(
        &self,
        e: &kube::Error,
        verb: &'static str,
        resource: &'static str,
    ) -> TunnelError {
        let context = self.kube.context.clone();
        match e {
            kube::Error::Api(status) if status.code == 401 => TunnelError::Unauthorized { context },
            kube::Error::Api(status) if status.code == 403 => TunnelError::Forbidden {
                verb,
                resource,
                namespace: self.service.namespace.clone(),
                context,
                message: sanitize(&status.message),
            },
            kube::Error::Api(status) if status.code == 404 && resource == "services" => {
                TunnelError::ServiceNotFound {
                    service: self.service.to_string(),
                    context,
                }
            }
            other => TunnelError::Api(format!(
                "{verb} {resource} in namespace {} ({context}): {}",
                self.service.namespace,
                sanitize(&error_chain(other))
            )),
        }
    }
}

/// An open tunnel; closed (listener and every stream) when dropped.
pub struct Tunnel {
    local: SocketAddr,
    pod: PodPort,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Tunnel {
    /// Opens the tunnel: resolves the Service, proves one stream reaches a
    /// PostgreSQL in a ready pod, then listens. Returns once it accepts
    /// connections.
    pub fn open(spec: Spec, log: Log) -> Result<Tunnel, TunnelError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let bound = spec.timeout * 4;
        let thread = std::thread::Builder::new()
            .name("pgconn-tunnel".into())
            .spawn(move || run(spec, log, ready_tx, stop_rx))
            .map_err(|e| TunnelError::Api(format!("cannot start the tunnel thread: {e}")))?;
        let opened = ready_rx
            .recv_timeout(bound)
            .map_err(|_| TunnelError::Timeout(bound.as_secs()))?;
        let (local, pod) = opened?;
        Ok(Tunnel {
            local,
            pod,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Where clients connect (127.0.0.1:PORT).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The pod the first stream reached.
    pub fn first_pod(&self) -> &PodPort {
        &self.pod
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Ready = std::sync::mpsc::Sender<Result<(SocketAddr, PodPort), TunnelError>>;

/// The tunnel thread: set up, report, serve until told to stop.
fn run(spec: Spec, log: Log, ready: Ready, stop: oneshot::Receiver<()>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(TunnelError::Api(format!(
                "cannot start the async runtime: {e}"
            ))));
            return;
        }
    };
    runtime.block_on(async move {
        let bound = spec.timeout * 3;
        let opened = match tokio::time::timeout(bound, setup(spec, log)).await {
            Ok(r) => r,
            Err(_) => Err(TunnelError::Timeout(bound.as_secs())),
        };
        match opened {
            Ok((listener, shared, pod)) => {
                let local = listener
                    .local_addr()
                    .unwrap_or_else(|_| (Ipv4Addr::LOCALHOST, 0).into());
                let _ = ready.send(Ok((local, pod)));
                let acceptor = tokio::spawn(forward::accept_loop(listener, shared));
                let _ = stop.await;
                acceptor.abort();
            }
            Err(e) => {
                let _ = ready.send(Err(e));
            }
        }
    });
    // dropping the runtime ends every stream still open
}

async fn setup(spec: Spec, log: Log) -> Result<(TcpListener, Arc<Shared>, PodPort), TunnelError> {
    let kube = kube_client::client(spec.context.clone(), spec.timeout)
        .await
        .map_err(TunnelError::Kube)?
        .ok_or(TunnelError::NoKubeconfig)?;
    let shared = Arc::new(Shared {
        kube,
        service: spec.service,
        endpoint_port: spec.endpoint_port,
        timeout: spec.timeout,
        current: Mutex::new(None),
        avoid: Mutex::new(HashSet::new()),
        log,
    });
    let pod = forward::probe(&shared).await?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, spec.local_port))
        .await
        .map_err(|source| TunnelError::Listen {
            port: spec.local_port,
            source,
        })?;
    Ok((listener, shared, pod))
}
