#!/usr/bin/python3
"""A Kubernetes API server substitute for the lab (no kube-apiserver runs here).

Speaks the documented API, as much as pgconn and `kubectl get` use:
  GET /version, /api, /apis, /apis/{group}, /api/v1, /apis/{group}/{version}   discovery
  GET /api/v1[/namespaces/{ns}]/{plural}[/{name}]                              core kinds
  GET /apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}]              the others
      lists across namespaces without /namespaces/{ns}; `labelSelector=` (=, ==, !=, in,
      notin, exists, !exists); JSON, or kubectl's Table when asked `as=Table`
  errors as metav1 Status objects: 401 Unauthorized, 403 Forbidden, 404 NotFound
The kinds are KINDS (a generic store: any group/version/plural, namespaced or not); the
objects come from state.json, which `setup` writes from lab/kubeapi_seed.py.
Bearer-token auth: tokens in the state map to a user, the namespaces it may read and
the resources denied to it (403).
TLS with a leaf from the lab CA (SANs: kube.DOMAIN, 127.0.0.1).

  kubeapi.py setup DIR/kube SECRETS_DIR CA_CERT CA_KEY LISTEN EXEC_PLUGIN   state, cert, kubeconfigs
  kubeapi.py serve DIR/kube LISTEN [GROUP,…]                                serve until killed (without GROUPs)
  kubeapi.py generate DIR/kube DST COUNT LISTEN                             a second server: COUNT generated
                                                                            clusters (bench), 0: the lab's

Runs with Debian's python3 and python3-cryptography (no pip).
Tunnels (`--via kube`): `GET /api/v1/namespaces/{ns}/pods/{name}/portforward` is a WebSocket
port-forward (`kubeapi_portforward.py`); pods, Services, Endpoints and EndpointSlices of
DIR/kube/core.json (re-read when it changes) are laid over the store by name, and a name
dropped from it is gone (tests take a pod away that way).
"""
import datetime
import http.server
import ipaddress
import json
import os
import secrets as pysecrets
import socket
import ssl
import sys
import urllib.parse
import uuid

import kubeapi_portforward
import kubeapi_seed

DOMAIN = "lab.pgconn.test"


def write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data)


def make_cert(kdir, ca_cert_path, ca_key_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    with open(ca_cert_path, "rb") as f:
        ca_cert = x509.load_pem_x509_certificate(f.read())
    with open(ca_key_path, "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube." + DOMAIN)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=90))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("kube." + DOMAIN), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    with open(os.path.join(kdir, "server.crt"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    write_private(
        os.path.join(kdir, "server.key"),
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )


def setup(kdir, secrets_dir, ca_cert, ca_key, listen, exec_plugin):
    os.makedirs(kdir, exist_ok=True)
    make_cert(kdir, ca_cert, ca_key)
    with open(ca_cert) as f:
        ca_pem = f.read()

    tokens = {
        "admin": pysecrets.token_hex(16),
        "limited": pysecrets.token_hex(16),
        "exec": pysecrets.token_hex(16),
        "partial": pysecrets.token_hex(16),
        "viewer": pysecrets.token_hex(16),
    }
    state = {
        # a user reads the namespaces listed ("*": all, and cluster-wide lists), minus `deny`
        # ("plural.group" or "plural" for the core group): those answer 403
        "tokens": {
            tokens["admin"]: {"user": "lab-admin", "namespaces": "*"},
            tokens["exec"]: {"user": "lab-exec", "namespaces": "*"},
            tokens["limited"]: {"user": "limited", "namespaces": ["platform"]},
            tokens["partial"]: {"user": "partial", "namespaces": "*", "deny": ["poolers.postgresql.cnpg.io"]},
            # reads pods, Services and Endpoints, but lacks `create` on pods/portforward
            tokens["viewer"]: {"user": "viewer", "namespaces": "*", "portforward": False},
        },
        "objects": kubeapi_seed.lab_objects(secrets_dir, DOMAIN, ca_pem),
    }
    write_private(os.path.join(kdir, "state.json"), json.dumps(state, indent=1))
    write_private(os.path.join(kdir, "core.json"), json.dumps(core_objects(), indent=1))
    write_private(os.path.join(kdir, "exec-token"), tokens["exec"])
    server = "https://" + listen
    cluster = {"name": "lab", "cluster": {"server": server, "certificate-authority": ca_cert}}

    def ctx(name, user, ns="temporal"):
        return {"name": name, "context": {"cluster": "lab", "user": user, "namespace": ns}}

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [
            {"name": "admin", "user": {"token": tokens["admin"]}},
            {"name": "limited", "user": {"token": tokens["limited"]}},
            {"name": "partial", "user": {"token": tokens["partial"]}},
            {"name": "viewer", "user": {"token": tokens["viewer"]}},
            {"name": "expired", "user": {"token": "expired-" + pysecrets.token_hex(8)}},
        ],
        "contexts": [
            ctx("lab", "admin"),
            ctx("lab-limited", "limited"),
            ctx("lab-partial", "partial"),
            ctx("lab-viewer", "viewer"),
            ctx("lab-expired", "expired"),
        ],
        "current-context": "lab",
        "preferences": {},
    }
    # kubeconfig files are YAML; JSON is YAML, and kubectl and kube read it as such
    write_private(os.path.join(kdir, "config"), json.dumps(config, indent=1) + "\n")
    exec_config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [
            {
                "name": "exec",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": exec_plugin,
                        "args": [kdir],
                        "interactiveMode": "Never",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
        "contexts": [ctx("lab-exec", "exec")],
        "current-context": "lab-exec",
        "preferences": {},
    }
    write_private(os.path.join(kdir, "config-exec"), json.dumps(exec_config, indent=1) + "\n")
    return 0


def status(code, reason, message, details=None):
    obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        obj["details"] = details
    return code, obj


# ------------------------------------------------------------------ the kinds served

class Kind:
    """One resource: where it lives in the API and how kubectl's Table shows it."""

    def __init__(self, group, version, plural, kind, namespaced=True, short=(), columns=()):
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        self.namespaced = namespaced
        self.singular = kind.lower()
        self.short = list(short)
        self.columns = list(columns)  # (title, fn(obj) -> cell)

    @property
    def group_version(self):
        return self.group + "/" + self.version if self.group else self.version

    @property
    def resource(self):
        """`plural.group` (RBAC's spelling; `plural` in the core group)."""
        return self.plural + "." + self.group if self.group else self.plural

    def discovery(self):
        return {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": ["get", "list"],
            "shortNames": self.short,
        }


def _ports(o):
    return ",".join(
        "%s/%s" % (p["port"], p.get("protocol", "TCP")) for p in o.get("spec", {}).get("ports", [])
    )


def _external_ip(o):
    ingress = o.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    if ingress:
        return ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
    return "<pending>" if o["spec"].get("type") == "LoadBalancer" else "<none>"


def _ready(o):
    statuses = o.get("status", {}).get("containerStatuses") or []
    return "%d/%d" % (sum(1 for s in statuses if s.get("ready")), len(o.get("spec", {}).get("containers", [])))


def _endpoints(o):
    addrs = [
        "%s:%s" % (a["ip"], p["port"])
        for s in o.get("subsets") or []
        for a in s.get("addresses") or []
        for p in s.get("ports") or []
    ]
    return ",".join(addrs) or "<none>"


def _spec(*path):
    def get(o):
        v = o.get("spec", {})
        for p in path:
            v = v.get(p, {}) if isinstance(v, dict) else {}
        return "" if v == {} else v
    return get


KINDS = [
    Kind("", "v1", "namespaces", "Namespace", False, ["ns"], [("Status", lambda o: o["status"]["phase"])]),
    Kind("", "v1", "secrets", "Secret", columns=[
        ("Type", lambda o: o.get("type", "")), ("Data", lambda o: len(o.get("data") or {}))]),
    Kind("", "v1", "configmaps", "ConfigMap", short=["cm"], columns=[("Data", lambda o: len(o.get("data") or {}))]),
    Kind("", "v1", "services", "Service", short=["svc"], columns=[
        ("Type", lambda o: o["spec"].get("type", "ClusterIP")),
        ("Cluster-IP", lambda o: o["spec"].get("clusterIP", "")),
        ("External-IP", _external_ip),
        ("Port(s)", _ports),
    ]),
    Kind("", "v1", "endpoints", "Endpoints", short=["ep"], columns=[("Endpoints", _endpoints)]),
    Kind("", "v1", "pods", "Pod", short=["po"], columns=[
        ("Ready", _ready),
        ("Status", lambda o: o.get("status", {}).get("phase", "")),
        ("IP", lambda o: o.get("status", {}).get("podIP", "")),
    ]),
    Kind("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", columns=[
        ("AddressType", lambda o: o.get("addressType", "")),
        ("Endpoints", lambda o: ",".join(a for e in o.get("endpoints") or [] for a in e.get("addresses", []))),
    ]),
    Kind("postgresql.cnpg.io", "v1", "clusters", "Cluster", columns=[
        ("Instances", _spec("instances")), ("Status", lambda o: o.get("status", {}).get("phase", ""))]),
    Kind("postgresql.cnpg.io", "v1", "poolers", "Pooler", columns=[
        ("Cluster", _spec("cluster", "name")), ("Type", _spec("type"))]),
    Kind("acid.zalan.do", "v1", "postgresqls", "postgresql", short=["pg"], columns=[
        ("Team", _spec("teamId")), ("Instances", _spec("numberOfInstances")),
        ("Status", lambda o: o.get("status", {}).get("PostgresClusterStatus", ""))]),
]


# ------------------------------------------------------------------ label selectors

def split_requirements(text):
    """`a=b,c in (x,y),!d` -> requirements, commas inside parentheses kept."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def parse_selector(text):
    """A label selector as a list of (key, op, values); ValueError when malformed."""
    reqs = []
    for r in split_requirements(text or ""):
        words = r.split(None, 1)
        if len(words) == 2 and words[1].split("(", 1)[0].strip() in ("in", "notin"):
            op, rest = words[1].split("(", 1)
            if not rest.endswith(")"):
                raise ValueError("unbalanced parentheses in %r" % r)
            values = [v.strip() for v in rest[:-1].split(",") if v.strip()]
            reqs.append((words[0], op.strip(), values))
        elif "!=" in r:
            k, v = r.split("!=", 1)
            reqs.append((k.strip(), "!=", [v.strip()]))
        elif "==" in r or "=" in r:
            k, v = r.split("==", 1) if "==" in r else r.split("=", 1)
            reqs.append((k.strip(), "=", [v.strip()]))
        elif r.startswith("!"):
            reqs.append((r[1:].strip(), "!exists", []))
        elif r and all(c.isalnum() or c in "-_./" for c in r):
            reqs.append((r, "exists", []))
        else:
            raise ValueError("unable to parse requirement %r" % r)
    return reqs


def matches(reqs, labels):
    for key, op, values in reqs:
        present = key in labels
        value = labels.get(key)
        ok = {
            "=": present and value == values[0],
            "!=": not present or value != values[0],
            "in": present and value in values,
            "notin": not present or value not in values,
            "exists": present,
            "!exists": not present,
        }[op]
        if not ok:
            return False
    return True


# ------------------------------------------------------------------ the object store

class Store:
    """Every object the lab serves, by kind; loaded once from state.json."""

    def __init__(self, objects):
        self.by_kind = {}
        for o in objects:
            kind = self.kind_of(o)
            if kind is None:
                raise SystemExit("kubeapi: no kind serves %s %s" % (o.get("apiVersion"), o.get("kind")))
            m = o["metadata"]
            m["uid"] = m.get("uid") or str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%s/%s" % (
                kind.resource, m.get("namespace", ""), m["name"])))
            self.by_kind.setdefault(kind.resource, []).append(o)
        for items in self.by_kind.values():
            items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    @staticmethod
    def kind_of(o):
        for k in KINDS:
            if k.group_version == o.get("apiVersion") and k.kind == o.get("kind"):
                return k
        return None

    def namespaces(self):
        return {o["metadata"]["name"] for o in self.by_kind.get("namespaces", [])}

    def select(self, kind, namespace=None, name=None, selector=None):
        out = []
        for o in self.by_kind.get(kind.resource, []):
            m = o["metadata"]
            if namespace is not None and m.get("namespace") != namespace:
                continue
            if name is not None and m["name"] != name:
                continue
            if selector and not matches(selector, m.get("labels") or {}):
                continue
            out.append(o)
        return out


def table(kind, objs):
    columns = [("Name", lambda o: o["metadata"]["name"])] + kind.columns + [("Age", lambda o: "1m")]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "1"},
        "columnDefinitions": [
            {"name": title, "type": "string", "format": "name" if i == 0 else "", "description": title,
             "priority": 0}
            for i, (title, _) in enumerate(columns)
        ],
        "rows": [
            {
                "cells": [fn(o) for _, fn in columns],
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                           "metadata": o["metadata"]},
            }
            for o in objs
        ],
    }


def discovery_groups():
    groups = {}
    for k in KINDS:
        if k.group:
            groups.setdefault(k.group, []).append(k.version)
    return {
        g: {
            "name": g,
            "versions": [{"groupVersion": g + "/" + v, "version": v} for v in sorted(set(vs))],
            "preferredVersion": {"groupVersion": g + "/" + vs[0], "version": vs[0]},
        }
        for g, vs in groups.items()
    }


def resource_list(group_version):
    kinds = [k for k in KINDS if k.group_version == group_version]
    if not kinds:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [k.discovery() for k in kinds]}


def parse_path(parts):
    """(group_version, namespace, plural, name) of a resource path, or None.

    Subresources (`.../pods/{name}/portforward`) are None here: whatever serves them
    hooks into Handler.do_GET before route() and reads objects through Handler.store."""
    if parts[:2] == ["api", "v1"]:
        gv, rest = "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        gv, rest = parts[1] + "/" + parts[2], parts[3:]
    else:
        return None
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    if len(rest) not in (1, 2):
        return None
    return gv, ns, rest[0], rest[1] if len(rest) == 2 else None


# ---------------------------------------------------------------- core objects (--via kube tunnels)
# Pods, Services and Endpoints as the operators leave them, in DIR/kube/core.json (re-read when it
# changes, so tests can take a pod away). Kept apart so that a generic object store can absorb it.

def pod_obj(ns, name, ip, port, port_name, labels, ready=True):
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, ns + "/" + name)),
                     "resourceVersion": "1", "labels": labels},
        "spec": {"containers": [{"name": "postgres", "image": "postgres:15",
                                 "ports": [{"name": port_name, "containerPort": port, "protocol": "TCP"}]}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def service_obj(ns, name, port, target_port, port_name, selector=None):
    spec = {"type": "ClusterIP", "ports": [{"name": port_name, "port": port, "targetPort": target_port, "protocol": "TCP"}]}
    if selector:
        spec["selector"] = selector
    return {"kind": "Service", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, "svc/" + ns + "/" + name)),
                         "resourceVersion": "1"},
            "spec": spec}


def endpoints_obj(ns, name, pods, port, port_name):
    subsets = []
    if pods:
        subsets.append({
            "addresses": [{"ip": p["status"]["podIP"],
                           "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                         "uid": p["metadata"]["uid"]}} for p in pods],
            "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
        })
    return {"kind": "Endpoints", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": "1"}, "subsets": subsets}


def slice_obj(ns, service, pods, port, port_name):
    return {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
            "metadata": {"name": service + "-x7k2p", "namespace": ns, "resourceVersion": "1",
                         "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [p["status"]["podIP"]], "conditions": {"ready": True},
                           "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"]}} for p in pods],
            "ports": [{"name": port_name, "port": port, "protocol": "TCP"}]}


def core_objects():
    """temporal: Zalando (master Service without a selector, its Endpoints written by Patroni;
    -repl without a selector and with EndpointSlices only; -config with no endpoints at all; the
    read pooler's pod is the lab's read PgBouncer). platform: CloudNativePG (-rw by selector with a
    named targetPort, no Endpoints stored: resolved through the selector)."""
    spilo = {"application": "spilo", "cluster-name": "temporal-db"}
    t0 = pod_obj("temporal", "temporal-db-0", "127.21.1.1", 5432, "postgresql", dict(spilo, **{"spilo-role": "master"}))
    t1 = pod_obj("temporal", "temporal-db-1", "127.21.1.2", 5432, "postgresql", dict(spilo, **{"spilo-role": "replica"}))
    pooler = {"application": "db-connection-pooler", "connection-pooler": "temporal-db-pooler-repl"}
    tr = pod_obj("temporal", "temporal-db-pooler-repl-0", "127.20.0.2", 5432, "postgresql", pooler)
    cnpg = {"cnpg.io/cluster": "platform-db", "cnpg.io/instanceRole": "primary"}
    p1 = pod_obj("platform", "platform-db-1", "127.21.2.1", 5433, "postgres", cnpg)
    return {
        "temporal": {
            "pods": {"temporal-db-0": t0, "temporal-db-1": t1, "temporal-db-pooler-repl-0": tr},
            "services": {
                "temporal-db": service_obj("temporal", "temporal-db", 5432, 5432, "postgresql"),
                "temporal-db-repl": service_obj("temporal", "temporal-db-repl", 5432, 5432, "postgresql"),
                "temporal-db-config": service_obj("temporal", "temporal-db-config", 5432, 5432, "postgresql"),
                "temporal-db-pooler-repl": service_obj("temporal", "temporal-db-pooler-repl", 5432, 5432,
                                                       "postgresql", pooler),
            },
            "endpoints": {
                "temporal-db": endpoints_obj("temporal", "temporal-db", [t0], 5432, "postgresql"),
                "temporal-db-config": endpoints_obj("temporal", "temporal-db-config", [], 5432, "postgresql"),
                "temporal-db-pooler-repl": endpoints_obj("temporal", "temporal-db-pooler-repl", [tr], 5432,
                                                         "postgresql"),
            },
            "endpointslices": {
                "temporal-db-repl-x7k2p": slice_obj("temporal", "temporal-db-repl", [t1], 5432, "postgresql"),
            },
        },
        "platform": {
            "pods": {"platform-db-1": p1},
            "services": {"platform-db-rw": service_obj("platform", "platform-db-rw", 5433, "postgres", "postgres", cnpg)},
            "endpoints": {},
        },
    }


class CoreStore:
    """core.json, re-read when its mtime changes."""

    def __init__(self, path):
        self.path = path
        self.mtime = None
        self.data = {}
        self.initial = None

    def get(self):
        try:
            m = os.stat(self.path).st_mtime_ns
        except OSError:
            return {}
        if m != self.mtime:
            with open(self.path) as f:
                self.data = json.load(f)
            self.mtime = m
        return self.data

    def overlay(self, resource, ns, name, selector, items):
        """`items` of the store with core.json laid over them by name: its objects
        replace or add, and a name it had at first but dropped since is gone."""
        data = self.get()
        if self.initial is None:
            self.initial = {(n, r, nm) for n, kinds in data.items() for r, objs in kinds.items() for nm in objs}
        current = {}
        for n, kinds in data.items():
            if ns is None or n == ns:
                for nm, o in kinds.get(resource, {}).items():
                    current[(n, nm)] = o
        gone = {(n, nm) for (n, r, nm) in self.initial if r == resource and (ns is None or n == ns)}
        gone -= set(current)

        def key(o):
            return (o["metadata"].get("namespace", ""), o["metadata"]["name"])

        out = [o for o in items if key(o) not in current and key(o) not in gone]
        for (n, nm), o in current.items():
            if name is not None and nm != name:
                continue
            if selector and not matches(selector, o["metadata"].get("labels") or {}):
                continue
            out.append(o)
        out.sort(key=key)
        return out



CORE_RESOURCES = ("pods", "services", "endpoints", "endpointslices")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    store = None
    core = None
    tokens = {}
    listen = ""

    def setup(self):
        super().setup()
        # as Go's net/http (the real API server): no Nagle delay between a response's
        # header and body writes, which the client's delayed ACK would otherwise cost
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def send_json(self, code, obj, ctype="application/json"):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if kubeapi_portforward.is_portforward(parts):
            user = self.authenticate()
            if user is None:
                return self.send_json(*status(401, "Unauthorized", "Unauthorized"))
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            refused = kubeapi_portforward.handle(self, parts, query, user, self.find_pod)
            if refused:
                self.send_json(*refused)
            return None
        code, obj = self.route()
        ctype = "application/json"
        if obj.get("kind") == "Table":
            ctype = "application/json;as=Table;v=v1;g=meta.k8s.io"
        self.send_json(code, obj, ctype)

    def find_pod(self, ns, name):
        """A pod as the API would answer it (core.json laid over the store)."""
        kind = next(k for k in KINDS if k.group_version == "v1" and k.plural == "pods")
        items = self.core.overlay("pods", ns, name, None, self.store.select(kind, ns, name))
        return items[0] if items else None

    def do_POST(self):
        self.send_json(*status(405, "MethodNotAllowed", "the lab API server only reads"))

    def query(self):
        q = urllib.parse.urlsplit(self.path).query
        return {k: v[-1] for k, v in urllib.parse.parse_qs(q, keep_blank_values=True).items()}

    def route(self):
        path = urllib.parse.urlsplit(self.path).path.rstrip("/")
        if path == "/version":
            return 200, VERSION
        user = self.authenticate()
        if user is None:
            return status(401, "Unauthorized", "Unauthorized")
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")] if path else []
        found = self.discovery(parts)
        if found is not None:
            return found
        where = parse_path(parts)
        if where is None:
            return status(404, "NotFound", "the server could not find the requested resource")
        return self.resources(user, *where)

    def discovery(self, parts):
        if parts == ["api"]:
            return 200, {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.listen}],
            }
        if parts == ["apis"]:
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": list(discovery_groups().values())}
        if len(parts) == 2 and parts[0] == "apis":
            group = discovery_groups().get(parts[1])
            if group is None:
                return status(404, "NotFound", "the server could not find the requested resource")
            return 200, dict(group, kind="APIGroup", apiVersion="v1")
        if parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis"):
            listing = resource_list("v1" if parts[0] == "api" else parts[1] + "/" + parts[2])
            if listing is None:
                return status(404, "NotFound", "the server could not find the requested resource")
            return 200, listing
        return None

    def resources(self, user, group_version, ns, plural, name):
        kind = next((k for k in KINDS if k.group_version == group_version and k.plural == plural), None)
        if kind is None or (ns is not None and not kind.namespaced):
            return status(404, "NotFound", "the server could not find the requested resource")
        verb = "get" if name else "list"
        denied = self.denied(user, kind, ns)
        if denied:
            what = '%s "%s"' % (kind.resource, name) if name else kind.resource
            scope = ' in the namespace "%s"' % ns if ns is not None else " at the cluster scope"
            return status(
                403, "Forbidden",
                '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s"%s'
                % (what, user["user"], verb, kind.plural, kind.group, scope),
                {"name": name or "", "group": kind.group, "kind": kind.plural},
            )
        try:
            selector = parse_selector(self.query().get("labelSelector"))
        except ValueError as e:
            return status(400, "BadRequest", "unable to parse requirement: %s" % e)
        if kind.plural == "namespaces" and name is None and ns is None:
            items = self.store.select(kind, selector=selector)
        else:
            items = self.store.select(kind, ns, name, selector)
        if kind.plural in CORE_RESOURCES and self.core is not None:
            items = self.core.overlay(kind.plural, ns, name, selector, items)
        want_table = "as=Table" in self.headers.get("Accept", "")
        if name is not None:
            if not items:
                return status(404, "NotFound", '%s "%s" not found' % (kind.resource, name),
                              {"name": name, "group": kind.group, "kind": kind.plural})
            return 200, table(kind, items) if want_table else items[0]
        if want_table:
            return 200, table(kind, items)
        return 200, {"kind": kind.kind + "List", "apiVersion": group_version,
                     "metadata": {"resourceVersion": "1"}, "items": items}

    @staticmethod
    def denied(user, kind, ns):
        if kind.resource in user.get("deny", []):
            return True
        allowed = user["namespaces"]
        if allowed == "*":
            return False
        if not kind.namespaced:
            # every user may read the namespaces it works in (kubectl looks them up)
            return False
        return ns is None or ns not in allowed

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        return self.tokens.get(auth[len("Bearer ") :].strip())


VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-pgconn-lab",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def serve(kdir, listen, without=""):
    """Serves until killed; `without`: API groups (comma-separated) left out, as on a
    cluster where that operator is not installed."""
    global KINDS
    missing = set(g for g in without.split(",") if g)
    KINDS = [k for k in KINDS if k.group not in missing]
    with open(os.path.join(kdir, "state.json")) as f:
        state = json.load(f)
    objects = [o for o in state["objects"] if o["apiVersion"].split("/")[0] not in missing]
    Handler.store = Store(objects)
    Handler.core = CoreStore(os.path.join(kdir, "core.json"))
    Handler.tokens = state["tokens"]
    Handler.listen = listen
    host, port = listen.rsplit(":", 1)
    httpd = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(kdir, "server.crt"), os.path.join(kdir, "server.key"))
    ctx.set_alpn_protocols(["http/1.1"])
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    sys.stderr.write("kubeapi: serving https://%s\n" % listen)
    sys.stderr.flush()
    httpd.serve_forever()


def generate(src, dst, count, listen):
    """A second API server's directory (benchmarks, tests): SRC's certificate and tokens,
    COUNT generated clusters (kubeapi_seed.generated; 0: SRC's own objects), a kubeconfig
    pointing at LISTEN."""
    os.makedirs(dst, exist_ok=True)
    for name in ("server.crt", "server.key"):
        with open(os.path.join(src, name)) as f:
            write_private(os.path.join(dst, name), f.read())
    with open(os.path.join(src, "state.json")) as f:
        state = json.load(f)
    tokens = state["tokens"]
    objects = kubeapi_seed.generated(int(count), DOMAIN) if int(count) else state["objects"]
    write_private(os.path.join(dst, "state.json"), json.dumps({"tokens": tokens, "objects": objects}))
    with open(os.path.join(src, "config")) as f:
        config = json.load(f)
    for c in config["clusters"]:
        c["cluster"]["server"] = "https://" + listen
    write_private(os.path.join(dst, "config"), json.dumps(config, indent=1) + "\n")
    return 0


def main(argv):
    if len(argv) >= 8 and argv[1] == "setup":
        return setup(*argv[2:8])
    if len(argv) == 6 and argv[1] == "generate":
        return generate(*argv[2:6])
    if len(argv) in (4, 5) and argv[1] == "serve":
        return serve(*argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
