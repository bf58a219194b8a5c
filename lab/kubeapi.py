#!/usr/bin/python3
"""A Kubernetes API server substitute for the lab (no kube-apiserver runs here).

Speaks the documented API, as much as pgconn and `kubectl get secret` use:
  GET /version, /api, /apis, /api/v1                      discovery
  GET /api/v1/namespaces/{ns}/secrets[/{name}]            Secrets (JSON; Table on `as=Table`)
  GET /api/v1/namespaces/{ns}/{pods,services,endpoints}[/{name}]   core objects (route_core_objects)
  GET /apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices      EndpointSlices (labelSelector)
  GET /api/v1/namespaces/{ns}/pods/{name}/portforward      WebSocket port-forward (kubeapi_portforward.py)
  errors as metav1 Status objects: 401 Unauthorized, 403 Forbidden, 404 NotFound
Bearer-token auth: tokens in STATE map to a user and the namespaces it may read.
TLS with a leaf from the lab CA (SANs: kube.DOMAIN, 127.0.0.1).

  kubeapi.py setup DIR/kube SECRETS_DIR CA_CERT CA_KEY LISTEN EXEC_PLUGIN   state, cert, kubeconfigs
  kubeapi.py serve DIR/kube LISTEN                                          serve until killed

Runs with Debian's python3 and python3-cryptography (no pip).
"""
import base64
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

DOMAIN = "lab.pgconn.test"


def b64(text):
    return base64.b64encode(text.encode()).decode()


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


def secret_obj(ns, name, data, typ="Opaque", uid=None):
    return {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": uid or str(uuid.uuid4()),
            "resourceVersion": "1",
            "creationTimestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "type": typ,
        "data": {k: b64(v) for k, v in data.items()},
    }


def setup(kdir, secrets_dir, ca_cert, ca_key, listen, exec_plugin):
    os.makedirs(kdir, exist_ok=True)
    make_cert(kdir, ca_cert, ca_key)

    def pw(cluster, user):
        with open(os.path.join(secrets_dir, cluster, user)) as f:
            return f.read()

    zalando = "{}.{}.credentials.postgresql.acid.zalan.do"
    secrets = {"temporal": {}, "platform": {}}
    t = secrets["temporal"]
    for user in ("temporal", "temporal_ro", "platform_admin"):
        name = zalando.format(user.replace("_", "-"), "temporal-db")
        t[name] = secret_obj("temporal", name, {"username": user, "password": pw("temporal-db", user)})
    t["pgconn-custom"] = secret_obj("temporal", "pgconn-custom", {"user": "temporal", "pw": pw("temporal-db", "temporal")})
    t["no-password-key"] = secret_obj("temporal", "no-password-key", {"username": "temporal", "token": "x"})
    # CloudNativePG conventions (basic-auth): an app secret of the *other* user, passed over
    t["temporal-db-app"] = secret_obj(
        "temporal", "temporal-db-app", {"username": "app", "password": "not-this-one"}, "kubernetes.io/basic-auth"
    )
    p = secrets["platform"]
    # platform-db: no Zalando secret for the app user: CloudNativePG's {cluster}-app answers
    p["platform-db-app"] = secret_obj(
        "platform", "platform-db-app", {"username": "platform", "password": pw("platform-db", "platform")},
        "kubernetes.io/basic-auth",
    )
    for user in ("platform_ro", "platform_admin"):
        name = zalando.format(user.replace("_", "-"), "platform-db")
        p[name] = secret_obj("platform", name, {"username": user, "password": pw("platform-db", user)})

    tokens = {
        "admin": pysecrets.token_hex(16),
        "limited": pysecrets.token_hex(16),
        "exec": pysecrets.token_hex(16),
        "viewer": pysecrets.token_hex(16),
    }
    state = {
        "tokens": {
            tokens["admin"]: {"user": "lab-admin", "namespaces": "*"},
            tokens["exec"]: {"user": "lab-exec", "namespaces": "*"},
            tokens["limited"]: {"user": "limited", "namespaces": ["platform"]},
            # reads pods, Services and Endpoints, but lacks `create` on pods/portforward
            tokens["viewer"]: {"user": "viewer", "namespaces": "*", "portforward": False},
        },
        "secrets": secrets,
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
            {"name": "expired", "user": {"token": "expired-" + pysecrets.token_hex(8)}},
            {"name": "viewer", "user": {"token": tokens["viewer"]}},
        ],
        "contexts": [
            ctx("lab", "admin"), ctx("lab-limited", "limited"), ctx("lab-expired", "expired"),
            ctx("lab-viewer", "viewer"),
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


def table(objs):
    rows = []
    for o in objs:
        rows.append(
            {
                "cells": [o["metadata"]["name"], o.get("type", ""), len(o.get("data") or {}), "1m"],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o["metadata"],
                },
            }
        )
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "1"},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0},
            {"name": "Type", "type": "string", "format": "", "description": "Type", "priority": 0},
            {"name": "Data", "type": "string", "format": "", "description": "Data", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0},
        ],
        "rows": rows,
    }


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

    def pod(self, ns, name):
        return self.get().get(ns, {}).get("pods", {}).get(name)


def matches(labels, selector):
    for term in [t for t in selector.split(",") if t]:
        k, _, v = term.partition("=")
        if (labels or {}).get(k) != v:
            return False
    return True


KINDS = {"pods": ("Pod", "PodList"), "services": ("Service", "ServiceList"), "endpoints": ("Endpoints", "EndpointsList"),
         "endpointslices": ("EndpointSlice", "EndpointSliceList")}


def route_core_objects(parts, query, user, store):
    """GET/list pods, services and endpoints in a namespace (and list EndpointSlices of
    discovery.k8s.io/v1); None when the path is not one of them."""
    if parts[:4] == ["apis", "discovery.k8s.io", "v1", "namespaces"] and len(parts) == 6 and parts[5] == "endpointslices":
        parts = ["api", "v1", "namespaces", parts[4], "endpointslices"]
    if len(parts) not in (5, 6) or parts[:3] != ["api", "v1", "namespaces"] or parts[4] not in KINDS:
        return None
    ns, resource = parts[3], parts[4]
    name = parts[5] if len(parts) == 6 else None
    if not (user["namespaces"] == "*" or ns in user["namespaces"]):
        verb = "get" if name else "list"
        what = '%s "%s"' % (resource, name) if name else resource
        return status(403, "Forbidden",
                      '%s is forbidden: User "%s" cannot %s resource "%s" in API group "" in the namespace "%s"'
                      % (what, user["user"], verb, resource, ns), {"name": name or "", "kind": resource})
    objs = store.get().get(ns, {}).get(resource, {})
    kind, list_kind = KINDS[resource]
    if name is None:
        selector = ",".join(query.get("labelSelector", []))
        items = [objs[k] for k in sorted(objs) if matches(objs[k]["metadata"].get("labels"), selector)]
        api_version = "discovery.k8s.io/v1" if resource == "endpointslices" else "v1"
        return 200, {"kind": list_kind, "apiVersion": api_version, "metadata": {"resourceVersion": "1"}, "items": items}
    if name not in objs:
        return status(404, "NotFound", '%s "%s" not found' % (resource, name), {"name": name, "kind": resource})
    return 200, objs[name]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None
    core = None
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
            refused = kubeapi_portforward.handle(self, parts, query, user, self.core.pod)
            if refused:
                self.send_json(*refused)
            return None
        code, obj = self.route()
        ctype = "application/json"
        if obj.get("kind") == "Table":
            ctype = "application/json;as=Table;v=v1;g=meta.k8s.io"
        self.send_json(code, obj, ctype)

    def do_POST(self):
        self.send_json(*status(405, "MethodNotAllowed", "the lab API server only reads"))

    def route(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/version":
            return 200, {
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
        user = self.authenticate()
        if user is None:
            return status(401, "Unauthorized", "Unauthorized")
        if path == "/api":
            return 200, {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.listen}],
            }
        if path == "/apis":
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
        if path == "/api/v1":
            return 200, {
                "kind": "APIResourceList",
                "groupVersion": "v1",
                "resources": [
                    {
                        "name": "namespaces",
                        "singularName": "namespace",
                        "namespaced": False,
                        "kind": "Namespace",
                        "verbs": ["get"],
                        "shortNames": ["ns"],
                    },
                    {
                        "name": "secrets",
                        "singularName": "secret",
                        "namespaced": True,
                        "kind": "Secret",
                        "verbs": ["get", "list"],
                        "storageVersionHash": "S6u1pOWzb84=",
                    },
                    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
                     "verbs": ["get", "list"], "shortNames": ["po"]},
                    {"name": "pods/portforward", "singularName": "", "namespaced": True,
                     "kind": "PodPortForwardOptions", "verbs": ["create", "get"]},
                    {"name": "services", "singularName": "service", "namespaced": True, "kind": "Service",
                     "verbs": ["get", "list"], "shortNames": ["svc"]},
                    {"name": "endpoints", "singularName": "endpoints", "namespaced": True, "kind": "Endpoints",
                     "verbs": ["get", "list"], "shortNames": ["ep"]},
                ],
            }
        parts = path.strip("/").split("/")
        core = route_core_objects(parts, urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query), user, self.core)
        if core is not None:
            return core
        # kubectl asks for the namespace after a NotFound, to tell which is missing
        if len(parts) == 4 and parts[:3] == ["api", "v1", "namespaces"]:
            ns = parts[3]
            if ns not in self.state["secrets"]:
                return status(404, "NotFound", 'namespaces "%s" not found' % ns, {"name": ns, "kind": "namespaces"})
            return 200, {
                "kind": "Namespace",
                "apiVersion": "v1",
                "metadata": {"name": ns, "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, ns)), "resourceVersion": "1"},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
        # api v1 namespaces NS secrets [NAME]
        if len(parts) in (5, 6) and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "secrets":
            ns = parts[3]
            name = parts[5] if len(parts) == 6 else None
            allowed = user["namespaces"] == "*" or ns in user["namespaces"]
            verb = "get" if name else "list"
            if not allowed:
                what = 'secrets "%s"' % name if name else "secrets"
                return status(
                    403,
                    "Forbidden",
                    '%s is forbidden: User "%s" cannot %s resource "secrets" in API group "" in the namespace "%s"'
                    % (what, user["user"], verb, ns),
                    {"name": name or "", "kind": "secrets"},
                )
            store = self.state["secrets"].get(ns, {})
            want_table = "as=Table" in self.headers.get("Accept", "")
            if name is None:
                items = [store[k] for k in sorted(store)]
                if want_table:
                    return 200, table(items)
                return 200, {"kind": "SecretList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}
            if name not in store:
                return status(404, "NotFound", 'secrets "%s" not found' % name, {"name": name, "kind": "secrets"})
            if want_table:
                return 200, table([store[name]])
            return 200, store[name]
        return status(404, "NotFound", "the server could not find the requested resource")

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        return self.state["tokens"].get(auth[len("Bearer ") :].strip())


def serve(kdir, listen):
    with open(os.path.join(kdir, "state.json")) as f:
        Handler.state = json.load(f)
    Handler.listen = listen
    Handler.core = CoreStore(os.path.join(kdir, "core.json"))
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


def main(argv):
    if len(argv) >= 8 and argv[1] == "setup":
        return setup(*argv[2:8])
    if len(argv) == 4 and argv[1] == "serve":
        return serve(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
