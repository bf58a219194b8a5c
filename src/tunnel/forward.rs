//! Streams: one port-forward per accepted connection, to the pod used last
//! while it stays ready, else to another ready pod (a pod that is gone, 404,
//! or whose forward failed is passed over).

use std::sync::Arc;

use futures_util::FutureExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::Portforwarder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::resolve::{PodPort, ready_pods};
use super::{Shared, TunnelError};
use crate::knowledge::sanitize;

/// PostgreSQL's `SSLRequest`: length 8, code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// How many times the Service is resolved again for one connection.
const ATTEMPTS: usize = 3;

/// Accepts connections until the task is aborted; each gets its own stream.
pub async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                // interactive traffic: no Nagle delay between the small messages of a login
                let _ = client.set_nodelay(true);
                let shared = shared.clone();
                tokio::spawn(async move { serve(client, &shared).await });
            }
            Err(e) => {
                (shared.log)(&format!("accepting a connection failed: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// One client connection, start to end.
async fn serve(mut client: TcpStream, shared: &Shared) {
    let (pod, mut forwarder) = match open(shared).await {
        Ok(opened) => opened,
        Err(e) => {
            (shared.log)(&format!("a connection could not be forwarded: {e}"));
            return;
        }
    };
    let (Some(mut upstream), Some(error)) = (
        forwarder.take_stream(pod.port),
        forwarder.take_error(pod.port),
    ) else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    // the kubelet's error text arrives before the stream closes
    if let Some(Some(message)) = error.now_or_never() {
        refused(shared, &pod, &message);
    }
}

/// Remembers a pod that failed a forward and says so.
fn refused(shared: &Shared, pod: &PodPort, message: &str) {
    (shared.log)(&format!(
        "pod {}/{} refused a stream: {}",
        shared.service.namespace,
        pod.pod,
        sanitize(message)
    ));
    lock(&shared.avoid).insert(pod.pod.clone());
    let mut current = lock(&shared.current);
    if current.as_ref() == Some(pod) {
        *current = None;
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A port-forward to a ready pod behind the Service.
async fn open(shared: &Shared) -> Result<(PodPort, Portforwarder), TunnelError> {
    let api: Api<Pod> = Api::namespaced(shared.kube.client.clone(), &shared.service.namespace);
    for _ in 0..ATTEMPTS {
        let ready = ready_pods(shared).await?;
        if ready.is_empty() {
            break;
        }
        for pod in candidates(shared, ready) {
            match api.portforward(&pod.pod, &[pod.port]).await {
                Ok(forwarder) => {
                    chosen(shared, &pod);
                    return Ok((pod, forwarder));
                }
                Err(kube::Error::Api(status)) if status.code == 404 => {
                    (shared.log)(&format!(
                        "pod {}/{} is gone; trying another ready pod",
                        shared.service.namespace, pod.pod
                    ));
                    lock(&shared.avoid).insert(pod.pod.clone());
                }
                Err(e) => return Err(shared.api_error(&e, "create", "pods/portforward")),
            }
        }
    }
    Err(TunnelError::NoReadyPod {
        service: shared.service.to_string(),
    })
}

/// The ready pods in the order to try: the current one, the others, then
/// those that failed before.
fn candidates(shared: &Shared, ready: Vec<PodPort>) -> Vec<PodPort> {
    let current = lock(&shared.current).clone();
    let avoid = lock(&shared.avoid).clone();
    let mut ordered: Vec<PodPort> = ready;
    ordered.sort_by_key(|p| (Some(p) != current.as_ref(), avoid.contains(&p.pod)));
    ordered
}

/// Notes the pod in use; says so when it changed.
fn chosen(shared: &Shared, pod: &PodPort) {
    let mut current = lock(&shared.current);
    if let Some(before) = current.as_ref().filter(|c| *c != pod) {
        (shared.log)(&format!(
            "now via pod {}/{} (was {})",
            shared.service.namespace, pod.pod, before.pod
        ));
    }
    *current = Some(pod.clone());
    lock(&shared.avoid).remove(&pod.pod);
}

/// Proves a stream reaches PostgreSQL: an `SSLRequest` through it must be
/// answered `S` or `N`. Returns the pod.
pub async fn probe(shared: &Shared) -> Result<PodPort, TunnelError> {
    let (pod, mut forwarder) = open(shared).await?;
    let (Some(mut stream), Some(error)) = (
        forwarder.take_stream(pod.port),
        forwarder.take_error(pod.port),
    ) else {
        return Err(TunnelError::Api("the port-forward gave no stream".into()));
    };
    let refused_with = |message: String| TunnelError::PortRefused {
        namespace: shared.service.namespace.clone(),
        pod: pod.pod.clone(),
        port: pod.port,
        message: sanitize(&message),
    };
    let answer = tokio::time::timeout(shared.timeout, async {
        stream.write_all(&SSL_REQUEST).await?;
        let mut byte = [0u8; 1];
        let n = stream.read(&mut byte).await?;
        Ok::<_, std::io::Error>((n, byte[0]))
    })
    .await;
    match answer {
        Ok(Ok((1, b'S' | b'N'))) => Ok(pod),
        Ok(Ok((1, other))) => Err(refused_with(format!(
            "what answers there is not PostgreSQL (it answered an SSLRequest with byte {other:#04x})"
        ))),
        Ok(Ok(_) | Err(_)) => {
            let said = tokio::time::timeout(shared.timeout, error).await;
            Err(refused_with(said.ok().flatten().unwrap_or_else(|| {
                "the stream closed without a word".into()
            })))
        }
        Err(_) => Err(refused_with(format!(
            "no answer to an SSLRequest within {} s",
            shared.timeout.as_secs()
        ))),
    }
}
