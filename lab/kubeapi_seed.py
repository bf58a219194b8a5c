"""The lab's Kubernetes objects, as the operators and the platform chart would have made them.

Every host, port and IP matches a real lab endpoint (lab/README.md, Topology), so a catalog
imported from these objects connects:

  temporal/temporal-db   Zalando `postgresql` with both connection poolers; PostgreSQL ta1
                         (127.21.1.1, primary) and ta2 (127.21.1.2, replica) on 5432;
                         PgBouncer tw (127.20.0.1:5432) and tr (127.20.0.2:5432)
  platform/platform-db   CloudNativePG `Cluster` with Poolers rw and ro; PostgreSQL pb1
                         (127.21.2.1) on 5433; PgBouncer pw (127.20.0.1:5433); the ro Pooler
                         has no external Service (internal only: no read endpoint)

External access follows the platform chart: LoadBalancer Services `{cluster}-external-{role}`
with external-dns and MetalLB annotations, loadBalancerSourceRanges and a status ingress IP.
Secrets follow the operators' conventions, with the lab's real passwords.
"""
import base64
import os
import zlib

ZALANDO = "{}.{}.credentials.postgresql.acid.zalan.do"
CREATED = "2026-01-01T00:00:00Z"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def meta(ns, name, labels=None, annotations=None):
    m = {"name": name, "uid": "", "resourceVersion": "1", "creationTimestamp": CREATED}
    if ns is not None:
        m["namespace"] = ns
    if labels:
        m["labels"] = dict(labels)
    if annotations:
        m["annotations"] = dict(annotations)
    return m


def obj(api_version, kind, ns, name, labels=None, annotations=None, **fields):
    o = {"apiVersion": api_version, "kind": kind, "metadata": meta(ns, name, labels, annotations)}
    o.update(fields)
    return o


def namespace(name):
    return obj("v1", "Namespace", None, name, {"kubernetes.io/metadata.name": name},
               spec={"finalizers": ["kubernetes"]}, status={"phase": "Active"})


def secret(ns, name, data, typ="Opaque", labels=None):
    return obj("v1", "Secret", ns, name, labels, type=typ, data={k: b64(v) for k, v in data.items()})


def configmap(ns, name, data):
    return obj("v1", "ConfigMap", ns, name, data=dict(data))


def port(name, number, target):
    return {"name": name, "protocol": "TCP", "port": number, "targetPort": target}


def service(ns, name, ports, selector=None, labels=None, annotations=None, lb=None):
    """A ClusterIP Service, or a LoadBalancer one when `lb` = {ip, ingress, ranges, spec_ip}."""
    spec = {"type": "ClusterIP", "ports": ports, "sessionAffinity": "None"}
    if selector:
        spec["selector"] = dict(selector)
    status = {"loadBalancer": {}}
    digest = zlib.crc32(("%s/%s" % (ns, name)).encode())
    spec["clusterIP"] = "10.96.%d.%d" % (digest % 250 + 1, digest // 250 % 250 + 1)
    if lb is not None:
        spec["type"] = "LoadBalancer"
        spec["externalTrafficPolicy"] = "Cluster"
        if lb.get("ranges"):
            spec["loadBalancerSourceRanges"] = lb["ranges"]
        if lb.get("spec_ip"):
            spec["loadBalancerIP"] = lb["spec_ip"]
        if lb.get("affinity"):
            spec["sessionAffinity"] = lb["affinity"]
        if lb.get("ingress"):
            status["loadBalancer"]["ingress"] = [{"ip": lb["ingress"], "ipMode": "VIP"}]
    spec["clusterIPs"] = [spec["clusterIP"]]
    return obj("v1", "Service", ns, name, labels, annotations, spec=spec, status=status)


def pod(ns, name, labels, ip, container_port, ready=True):
    cond = "True" if ready else "False"
    return obj(
        "v1", "Pod", ns, name, labels,
        spec={"containers": [{"name": "postgres", "image": "lab",
                              "ports": [{"name": "postgresql", "containerPort": container_port, "protocol": "TCP"}]}]},
        status={
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": t, "status": cond} for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "containerStatuses": [{"name": "postgres", "ready": ready, "restartCount": 0, "image": "lab", "imageID": "",
                                   "started": True, "state": {"running": {"startedAt": CREATED}}}],
        },
    )


def endpoints_for(svc, pods):
    """The Endpoints and EndpointSlice the control plane (or Patroni) keeps for `svc`."""
    ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
    target = svc["spec"]["ports"][0]["targetPort"]
    ports = [{"name": svc["spec"]["ports"][0]["name"], "port": target, "protocol": "TCP"}]
    addresses = [
        {"ip": p["status"]["podIP"], "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"]}}
        for p in pods
    ]
    ep = obj("v1", "Endpoints", ns, name, svc["metadata"].get("labels"),
             subsets=[{"addresses": addresses, "ports": ports}] if addresses else [])
    slice_labels = dict(svc["metadata"].get("labels") or {})
    slice_labels["kubernetes.io/service-name"] = name
    es = obj("discovery.k8s.io/v1", "EndpointSlice", ns, name + "-lab", slice_labels, addressType="IPv4",
             endpoints=[{"addresses": [a["ip"]], "conditions": {"ready": True}, "targetRef": a["targetRef"]}
                        for a in addresses],
             ports=ports)
    return [ep, es]


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def with_endpoints(services, pods, manual=None):
    """Endpoints for every in-cluster Service: its selector's pods, or `manual[name]` (no selector)."""
    out = []
    for svc in services:
        sel = svc["spec"].get("selector")
        name = svc["metadata"]["name"]
        chosen = [p for p in pods if selects(sel, p["metadata"].get("labels") or {})] if sel else (manual or {}).get(name, [])
        out += endpoints_for(svc, chosen)
    return out


def external(ns, cluster, role, host, ip, port_spec, selector, labels=None, ranges=None, metallb="metallb.universe.tf",
             ingress=True, spec_ip=False, extra_hosts=()):
    """A LoadBalancer Service of the platform chart: `{cluster}-external-{role}`."""
    annotations = {
        "external-dns.alpha.kubernetes.io/hostname": ",".join((host,) + tuple(extra_hosts)),
        metallb + "/allow-shared-ip": "pg-" + role,
    }
    if not spec_ip:
        annotations[metallb + "/loadBalancerIPs"] = ip
    lb = {"ranges": ranges, "ingress": ip if ingress else None, "spec_ip": ip if spec_ip else None,
          "affinity": "ClientIP" if role == "admin" else None}
    return service(ns, "%s-external-%s" % (cluster, role), [port_spec], selector, labels, annotations, lb)


def zalando(secrets_dir, domain):
    ns, c = "temporal", "temporal-db"
    spilo = {"application": "spilo", "cluster-name": c}
    pods = [
        pod(ns, c + "-0", dict(spilo, **{"spilo-role": "master"}), "127.21.1.1", 5432),
        pod(ns, c + "-1", dict(spilo, **{"spilo-role": "replica"}), "127.21.1.2", 5432),
        pod(ns, c + "-pooler-6d9f7c8b5-x2k4p", {"application": "db-connection-pooler", "connection-pooler": c + "-pooler"},
            "127.20.0.1", 5432),
        pod(ns, c + "-pooler-repl-7b8c9d6f4-q8w2e",
            {"application": "db-connection-pooler", "connection-pooler": c + "-pooler-repl"}, "127.20.0.2", 5432),
    ]
    pg = port("postgresql", 5432, 5432)
    inside = [
        service(ns, c, [pg], None, spilo),  # master: no selector, Patroni writes its Endpoints
        service(ns, c + "-repl", [pg], dict(spilo, **{"spilo-role": "replica"}), spilo),
        service(ns, c + "-pooler", [port("postgresql", 5432, 5432)],
                {"application": "db-connection-pooler", "connection-pooler": c + "-pooler"}, spilo),
        service(ns, c + "-pooler-repl", [port("postgresql", 5432, 5432)],
                {"application": "db-connection-pooler", "connection-pooler": c + "-pooler-repl"}, spilo),
    ]
    lbl = {"cluster-name": c, "app.kubernetes.io/managed-by": "Helm"}
    outside = [
        external(ns, c, "write", "%s-write.%s" % (c, domain), "127.20.0.1", pg,
                 {"application": "db-connection-pooler", "connection-pooler": c + "-pooler"}, lbl, ["0.0.0.0/0"]),
        external(ns, c, "read", "%s-read.%s" % (c, domain), "127.20.0.2", pg,
                 {"application": "db-connection-pooler", "connection-pooler": c + "-pooler-repl"}, lbl, ["0.0.0.0/0"]),
        external(ns, c, "admin", "%s-admin.%s" % (c, domain), "127.20.0.3", pg,
                 dict(spilo, **{"spilo-role": "master"}), lbl, ["127.0.0.0/8"]),
    ]
    cr = obj("acid.zalan.do/v1", "postgresql", ns, c, {"team": "temporal"}, spec={
        "teamId": "temporal",
        "numberOfInstances": 2,
        "postgresql": {"version": "15"},
        "volume": {"size": "10Gi"},
        "users": {"temporal": ["createdb"], "temporal_ro": [], "platform_admin": ["superuser", "createdb"]},
        "databases": {"temporal": "temporal"},
        "enableConnectionPooler": True,
        "enableReplicaConnectionPooler": True,
        "connectionPooler": {"mode": "transaction", "numberOfInstances": 1},
    }, status={"PostgresClusterStatus": "Running"})
    return [cr] + pods + inside + outside + with_endpoints(inside + outside, pods, {c: pods[:1]})


def cloudnativepg(domain):
    ns, c = "platform", "platform-db"
    inst = {"cnpg.io/cluster": c}
    pods = [
        pod(ns, c + "-1", dict(inst, **{"cnpg.io/instanceRole": "primary", "role": "primary", "cnpg.io/podRole": "instance"}),
            "127.21.2.1", 5433),
        pod(ns, c + "-pooler-rw-5f6d7c9b8-m3n4b", {"cnpg.io/poolerName": c + "-pooler-rw", "cnpg.io/podRole": "pooler"},
            "127.20.0.1", 5433),
        pod(ns, c + "-pooler-ro-5f6d7c9b8-r7t6y", {"cnpg.io/poolerName": c + "-pooler-ro", "cnpg.io/podRole": "pooler"},
            "127.20.0.2", 5433),
    ]
    pg = port("postgres", 5432, 5433)  # CloudNativePG's in-cluster port 5432; the lab's instance listens on 5433
    inside = [
        service(ns, c + "-rw", [pg], dict(inst, **{"cnpg.io/instanceRole": "primary"}), inst),
        service(ns, c + "-ro", [pg], dict(inst, **{"cnpg.io/instanceRole": "replica"}), inst),
        service(ns, c + "-r", [pg], dict(inst, **{"cnpg.io/podRole": "instance"}), inst),
        service(ns, c + "-pooler-rw", [port("pgbouncer", 5432, 5433)], {"cnpg.io/poolerName": c + "-pooler-rw"}, inst),
        service(ns, c + "-pooler-ro", [port("pgbouncer", 5432, 5433)], {"cnpg.io/poolerName": c + "-pooler-ro"}, inst),
    ]
    outside = [
        external(ns, c, "write", "%s-write.%s" % (c, domain), "127.20.0.1", port("pgbouncer", 5433, 5433),
                 {"cnpg.io/poolerName": c + "-pooler-rw"}, metallb="metallb.io", extra_hosts=(c + "." + domain,)),
        external(ns, c, "admin", "%s-admin.%s" % (c, domain), "127.20.0.3", port("postgres", 5433, 5433),
                 dict(inst, **{"cnpg.io/instanceRole": "primary"}), ranges=["127.0.0.0/8"], ingress=False,
                 spec_ip=True),
    ]
    cluster = obj("postgresql.cnpg.io/v1", "Cluster", ns, c, spec={
        "instances": 1,
        "imageName": "ghcr.io/cloudnative-pg/postgresql:15",
        "bootstrap": {"initdb": {"database": "platform", "owner": "platform"}},
        "enableSuperuserAccess": True,
        "storage": {"size": "10Gi"},
        # a managed role logging in with a Secret of its own (basic-auth keys username, password)
        "managed": {"roles": [{"name": "platform_ro", "ensure": "present", "login": True,
                               "inRoles": ["pg_read_all_data"],
                               "passwordSecret": {"name": "platform-db-platform-ro"}}]},
    }, status={"phase": "Cluster in healthy state", "instances": 1, "readyInstances": 1})
    poolers = [
        obj("postgresql.cnpg.io/v1", "Pooler", ns, "%s-pooler-%s" % (c, t), spec={
            "cluster": {"name": c}, "type": t, "instances": 1,
            "pgbouncer": {"poolMode": "transaction", "parameters": {"max_client_conn": "1000"}},
        })
        for t in ("rw", "ro")
    ]
    return [cluster] + poolers + pods + inside + outside + with_endpoints(inside + outside, pods)


def lab_secrets(secrets_dir):
    def pw(cluster, user):
        with open(os.path.join(secrets_dir, cluster, user)) as f:
            return f.read()

    out = []
    zl = {"application": "spilo", "cluster-name": "temporal-db", "team": "temporal"}
    for user in ("temporal", "temporal_ro", "platform_admin"):
        name = ZALANDO.format(user.replace("_", "-"), "temporal-db")
        out.append(secret("temporal", name, {"username": user, "password": pw("temporal-db", user)}, labels=zl))
    out.append(secret("temporal", "pgconn-custom", {"user": "temporal", "pw": pw("temporal-db", "temporal")}))
    out.append(secret("temporal", "no-password-key", {"username": "temporal", "token": "x"}))
    # CloudNativePG conventions (basic-auth): an app secret of the *other* user, passed over
    out.append(secret("temporal", "temporal-db-app", {"username": "app", "password": "not-this-one"},
                      "kubernetes.io/basic-auth"))
    cn = {"cnpg.io/cluster": "platform-db", "cnpg.io/reload": "true"}
    out.append(secret("platform", "platform-db-app", {"username": "platform", "password": pw("platform-db", "platform")},
                      "kubernetes.io/basic-auth", cn))
    # the lab's superuser is platform_admin (CloudNativePG's would be postgres): the Secret says which
    out.append(secret("platform", "platform-db-superuser",
                      {"username": "platform_admin", "password": pw("platform-db", "platform_admin")},
                      "kubernetes.io/basic-auth", cn))
    out.append(secret("platform", "platform-db-platform-ro",
                      {"username": "platform_ro", "password": pw("platform-db", "platform_ro")},
                      "kubernetes.io/basic-auth", cn))
    for user in ("platform_ro", "platform_admin"):
        name = ZALANDO.format(user.replace("_", "-"), "platform-db")
        out.append(secret("platform", name, {"username": user, "password": pw("platform-db", user)}))
    return out


# The organisation's shared catalog, published as a ConfigMap (`--catalog
# k8s:platform/pgconn-catalog`): the lab's clusters with no credential
# preferences, which each user's overlay adds.
ORG_CATALOG = """version: 1
domain: {domain}
shared_ips: {{ write: 127.20.0.1, read: 127.20.0.2, admin: 127.20.0.3 }}
pooler: {{ kind: pgbouncer, mode: transaction }}
clusters:
  temporal-db:
    namespace: temporal
    port: 5432
    database: temporal
    endpoints: {{ write: {{}}, read: {{}}, admin: {{ allowed_source_ranges: [127.0.0.0/8] }} }}
    users:
      temporal: {{ roles: [write, read] }}
      platform_admin: {{ roles: [admin] }}
"""


def lab_objects(secrets_dir, domain, ca_pem):
    objs = [namespace(n) for n in ("default", "temporal", "platform")]
    objs += [configmap(n, "kube-root-ca.crt", {"ca.crt": ca_pem}) for n in ("default", "temporal", "platform")]
    objs.append(configmap("platform", "pgconn-catalog", {"catalog.yaml": ORG_CATALOG.format(domain=domain)}))
    objs += lab_secrets(secrets_dir)
    objs += zalando(secrets_dir, domain)
    objs += cloudnativepg(domain)
    return objs


def generated(n, domain):
    """`n` clusters in namespace `bench` (alternately Zalando and CloudNativePG), each with
    the chart's three LoadBalancer Services on its own port of the shared IPs, in-cluster
    Services, Pods and Endpoints: the benchmark's stand-in for a large platform."""
    ns = "bench"
    objs = [namespace(ns)]
    for i in range(n):
        c = "db-%04d" % i
        p = 6000 + i
        if i % 2 == 0:
            spilo = {"application": "spilo", "cluster-name": c}
            master = dict(spilo, **{"spilo-role": "master"})
            pooler = {"application": "db-connection-pooler", "connection-pooler": c + "-pooler"}
            objs.append(obj("acid.zalan.do/v1", "postgresql", ns, c, spec={
                "teamId": "bench", "users": {"app": [], "admin": ["superuser"]}, "databases": {"app": "app"},
                "enableConnectionPooler": True, "connectionPooler": {"mode": "transaction"}}))
            pods = [pod(ns, c + "-0", master, "10.1.%d.%d" % (i // 250, i % 250 + 1), 5432),
                    pod(ns, c + "-pooler-0", pooler, "10.2.%d.%d" % (i // 250, i % 250 + 1), 5432)]
            inside = [service(ns, c, [port("postgresql", 5432, 5432)], None, spilo),
                      service(ns, c + "-pooler", [port("postgresql", 5432, 5432)], pooler, spilo)]
            manual = {c: pods[:1]}
            write_sel, admin_sel = pooler, master
        else:
            inst = {"cnpg.io/cluster": c}
            primary = dict(inst, **{"cnpg.io/instanceRole": "primary"})
            pooler = {"cnpg.io/poolerName": c + "-pooler-rw"}
            objs.append(obj("postgresql.cnpg.io/v1", "Cluster", ns, c, spec={
                "instances": 1, "bootstrap": {"initdb": {"database": "app", "owner": "app"}}}))
            objs.append(obj("postgresql.cnpg.io/v1", "Pooler", ns, c + "-pooler-rw", spec={
                "cluster": {"name": c}, "type": "rw", "pgbouncer": {"poolMode": "transaction"}}))
            pods = [pod(ns, c + "-1", primary, "10.1.%d.%d" % (i // 250, i % 250 + 1), 5432),
                    pod(ns, c + "-pooler-rw-0", pooler, "10.2.%d.%d" % (i // 250, i % 250 + 1), 5432)]
            inside = [service(ns, c + "-rw", [port("postgres", 5432, 5432)], primary, inst),
                      service(ns, c + "-pooler-rw", [port("pgbouncer", 5432, 5432)], pooler, inst)]
            manual = None
            write_sel, admin_sel = pooler, primary
        lb_port = port("postgresql", p, 5432)
        outside = [
            external(ns, c, "write", "%s-write.%s" % (c, domain), "192.0.2.1", lb_port, write_sel, ranges=["0.0.0.0/0"]),
            external(ns, c, "read", "%s-read.%s" % (c, domain), "192.0.2.2", lb_port, write_sel),
            external(ns, c, "admin", "%s-admin.%s" % (c, domain), "192.0.2.3", lb_port, admin_sel,
                     ranges=["198.51.100.0/24"]),
        ]
        objs += pods + inside + outside + with_endpoints(inside + outside, pods, manual)
    return objs
