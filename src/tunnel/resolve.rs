//! Service → ready pods: the Service's port for the endpoint, then its
//! Endpoints (which Patroni writes for a Service without a selector), else
//! its `EndpointSlices` (where Endpoints are no longer served), else the pods
//! its selector picks that are Running and Ready.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Endpoints, ObjectReference, Pod, Service, ServicePort};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Api;
use kube::api::ListParams;

use super::{Shared, TunnelError};

/// A pod to forward to, and the port on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodPort {
    /// The pod's name (in the Service's namespace).
    pub pod: String,
    /// The container port.
    pub port: u16,
}

/// The ready pods behind the Service, in a stable order.
pub async fn ready_pods(shared: &Shared) -> Result<Vec<PodPort>, TunnelError> {
    let ns = &shared.service.namespace;
    let name = &shared.service.name;
    let services: Api<Service> = Api::namespaced(shared.kube.client.clone(), ns);
    let endpoints: Api<Endpoints> = Api::namespaced(shared.kube.client.clone(), ns);
    // both at once: one round trip to the API server per connection, not two
    let (service, endpoints) = futures_util::join!(services.get(name), endpoints.get_opt(name));
    let service = service.map_err(|e| shared.api_error(&e, "get", "services"))?;
    let endpoints = endpoints.map_err(|e| shared.api_error(&e, "get", "endpoints"))?;
    let svc_port =
        service_port(&service, shared.endpoint_port).ok_or_else(|| TunnelError::NoServicePort {
            service: shared.service.to_string(),
            port: shared.endpoint_port,
        })?;
    let mut pods = from_endpoints(endpoints, &svc_port);
    if pods.is_empty() {
        pods = from_slices(shared, &svc_port).await?;
    }
    if pods.is_empty() {
        pods = from_selector(shared, &service, &svc_port).await?;
    }
    pods.sort_by(|a, b| a.pod.cmp(&b.pod));
    pods.dedup();
    Ok(pods)
}

/// The Service port the endpoint's port maps to: the one with that port,
/// else the only one.
fn service_port(service: &Service, endpoint_port: u16) -> Option<ServicePort> {
    let ports = service.spec.as_ref()?.ports.as_ref()?;
    ports
        .iter()
        .find(|p| u16::try_from(p.port).ok() == Some(endpoint_port))
        .or_else(|| (ports.len() == 1).then(|| &ports[0]))
        .cloned()
}

/// The ready addresses of the Service's Endpoints that name a pod.
fn from_endpoints(endpoints: Option<Endpoints>, svc_port: &ServicePort) -> Vec<PodPort> {
    let Some(endpoints) = endpoints else {
        return Vec::new();
    };
    let mut pods = Vec::new();
    for subset in endpoints.subsets.unwrap_or_default() {
        let ports = subset.ports.unwrap_or_default();
        let port = same_port(&ports, svc_port, |p| p.name.as_ref())
            .and_then(|p| u16::try_from(p.port).ok());
        let Some(port) = port else { continue };
        for address in subset.addresses.unwrap_or_default() {
            if let Some(pod) = pod_name(address.target_ref) {
                pods.push(PodPort { pod, port });
            }
        }
    }
    pods
}

/// The ready endpoints of the Service's `EndpointSlices` that name a pod. A
/// server without the discovery group (404) or RBAC without `list` on them
/// (403) leaves the selector to answer.
async fn from_slices(shared: &Shared, svc_port: &ServicePort) -> Result<Vec<PodPort>, TunnelError> {
    let api: Api<EndpointSlice> =
        Api::namespaced(shared.kube.client.clone(), &shared.service.namespace);
    let label = format!("kubernetes.io/service-name={}", shared.service.name);
    let slices = match api.list(&ListParams::default().labels(&label)).await {
        Ok(list) => list.items,
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 403 => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(shared.api_error(&e, "list", "endpointslices")),
    };
    let mut pods = Vec::new();
    for slice in slices {
        let ports = slice.ports.unwrap_or_default();
        let port = same_port(&ports, svc_port, |p| p.name.as_ref())
            .and_then(|p| p.port)
            .and_then(|p| u16::try_from(p).ok());
        let Some(port) = port else { continue };
        for endpoint in slice.endpoints {
            // `ready` absent means ready (discovery.k8s.io/v1)
            let ready = endpoint
                .conditions
                .as_ref()
                .and_then(|c| c.ready)
                .unwrap_or(true);
            if let Some(pod) = pod_name(endpoint.target_ref).filter(|_| ready) {
                pods.push(PodPort { pod, port });
            }
        }
    }
    Ok(pods)
}

/// The port of an Endpoints subset or `EndpointSlice` that carries the
/// Service port: the one with its name, else the only one.
fn same_port<'p, T>(
    ports: &'p [T],
    svc_port: &ServicePort,
    name: impl Fn(&T) -> Option<&String>,
) -> Option<&'p T> {
    ports
        .iter()
        .find(|p| name(p).is_some() && name(p) == svc_port.name.as_ref())
        .or_else(|| (ports.len() == 1).then(|| &ports[0]))
}

/// The pod an address names, if it names one.
fn pod_name(target: Option<ObjectReference>) -> Option<String> {
    target.filter(|t| t.kind.as_deref() == Some("Pod"))?.name
}

/// The Running and Ready pods of the Service's selector.
async fn from_selector(
    shared: &Shared,
    service: &Service,
    svc_port: &ServicePort,
) -> Result<Vec<PodPort>, TunnelError> {
    let Some(selector) = service
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
    else {
        return Ok(Vec::new());
    };
    let api: Api<Pod> = Api::namespaced(shared.kube.client.clone(), &shared.service.namespace);
    let list = api
        .list(&ListParams::default().labels(&label_selector(selector)))
        .await
        .map_err(|e| shared.api_error(&e, "list", "pods"))?;
    Ok(list
        .items
        .iter()
        .filter(|p| is_ready(p))
        .filter_map(|p| {
            Some(PodPort {
                pod: p.metadata.name.clone()?,
                port: target_port(p, svc_port)?,
            })
        })
        .collect())
}

fn label_selector(selector: &BTreeMap<String, String>) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Running, with the Ready condition true.
fn is_ready(pod: &Pod) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    status.phase.as_deref() == Some("Running")
        && status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// The Service port's `targetPort` on this pod: a number, or a container
/// port's name; the Service port itself when absent.
fn target_port(pod: &Pod, svc_port: &ServicePort) -> Option<u16> {
    match &svc_port.target_port {
        Some(IntOrString::Int(n)) => u16::try_from(*n).ok(),
        Some(IntOrString::String(name)) => pod
            .spec
            .as_ref()?
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok()),
        None => u16::try_from(svc_port.port).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc_port(port: i32, target: Option<IntOrString>) -> ServicePort {
        ServicePort {
            port,
            target_port: target,
            ..ServicePort::default()
        }
    }

    #[test]
    fn the_endpoint_port_picks_the_service_port() {
        let service = Service {
            spec: Some(k8s_openapi::api::core::v1::ServiceSpec {
                ports: Some(vec![svc_port(5432, None), svc_port(8008, None)]),
                ..Default::default()
            }),
            ..Service::default()
        };
        assert_eq!(service_port(&service, 5432).map(|p| p.port), Some(5432));
        assert_eq!(
            service_port(&service, 6000),
            None,
            "two ports, none matching"
        );
    }

    #[test]
    fn a_named_target_port_is_found_on_the_container() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "spec": {"containers": [{"name": "postgres", "ports": [{"name": "postgres", "containerPort": 5433}]}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap();
        assert!(is_ready(&pod));
        let named = svc_port(5432, Some(IntOrString::String("postgres".into())));
        assert_eq!(target_port(&pod, &named), Some(5433));
        let numbered = svc_port(5432, Some(IntOrString::Int(6432)));
        assert_eq!(target_port(&pod, &numbered), Some(6432));
        assert_eq!(target_port(&pod, &svc_port(5432, None)), Some(5432));
    }
}
