"""Proves the lab's pod port-forward with an independent client: the official Python
Kubernetes client (`kubernetes.stream.portforward`, PyPI, pinned in lab/lab install).

  kube_portforward_check.py KUBECONFIG CONTEXT NAMESPACE POD PORT CAFILE TLS_NAME USER

Opens the forward, sends a PostgreSQL SSLRequest through it (the server answers `S`), then
completes a verified TLS handshake with the server (CAFILE, TLS_NAME: verify-full) and sends a
StartupMessage for USER; prints what came back, e.g. `S TLSv1.3 R10` (R10: the server asks for
SASL, i.e. SCRAM). Exit 0 when all three happened, 1 otherwise (the error channel's text on
stderr).
"""
import ssl
import struct
import sys

from kubernetes import client, config
from kubernetes.stream import portforward


def startup(sock, user):
    """Sends a StartupMessage and returns the first message's type and auth code, e.g. R10."""
    body = struct.pack("!I", 196608) + b"user\0" + user.encode() + b"\0database\0postgres\0\0"
    sock.sendall(struct.pack("!I", len(body) + 4) + body)
    head = b""
    while len(head) < 9:
        chunk = sock.recv(9 - len(head))
        if not chunk:
            break
        head += chunk
    if len(head) < 9:
        return "(short answer %r)" % head
    return "%s%d" % (chr(head[0]), struct.unpack("!I", head[5:9])[0])


def main(kubeconfig, context, namespace, pod, port, cafile, tls_name, user):
    config.load_kube_config(config_file=kubeconfig, context=context)
    api = client.CoreV1Api()
    port = int(port)
    pf = portforward(api.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
    sock = pf.socket(port)
    sock.settimeout(10)
    # SSLRequest: length 8, code 80877103
    sock.sendall(struct.pack("!II", 8, 80877103))
    said = []
    try:
        answer = sock.recv(1)
        said.append(answer.decode("latin-1") or "(nothing)")
        if answer == b"S":
            ctx = ssl.create_default_context(cafile=cafile)  # verify-full: chain and name
            tls = ctx.wrap_socket(sock, server_hostname=tls_name)
            said.append(tls.version())
            said.append(startup(tls, user))
            tls.close()
    except (OSError, ssl.SSLError) as e:
        sys.stderr.write("through the forward: %s\n" % e)
    sock.close()
    error = pf.error(port)
    if error:
        sys.stderr.write("error channel: %s\n" % error)
    print(" ".join(said))
    return 0 if len(said) == 3 and said[0] == "S" and said[2].startswith("R") else 1


if __name__ == "__main__":
    if len(sys.argv) != 9:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
