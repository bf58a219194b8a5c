"""The pod port-forward of the lab's Kubernetes API substitute (lab/kubeapi.py).

  GET /api/v1/namespaces/{ns}/pods/{name}/portforward?ports=P[,P...]   (WebSocket upgrade)

WebSocket (RFC 6455) by hand with the stdlib, subprotocol `v4.channel.k8s.io` (binary), as
the kubelet speaks it (k8s.io/kubelet/pkg/cri/streaming/portforward/websocket.go):
  - for the i-th requested port, channel 2i carries data and 2i+1 errors;
  - the server's first message on each channel is the port, 2 bytes little-endian;
  - every binary message is one channel byte followed by payload (client frames are masked);
  - when the pod does not accept the connection, the error channel carries the reason as text
    ("error forwarding port 5432 to pod NAME, uid UID: ...") and the connection closes.
Each stream connects to the pod's address from the cluster's inside (INSIDE_ADDR), so the lab
fault `admin-outside` (only that address gets in) shows what a tunnel adds.

Authorization as the real API server: `create` on `pods/portforward` (403 otherwise), the pod
must exist (404) and be Running (400).
"""
import base64
import hashlib
import select
import socket
import struct
import threading

SUBPROTOCOL = "v4.channel.k8s.io"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
INSIDE_ADDR = "127.21.0.100"  # the "in-cluster" source address of every forwarded stream
DIAL_TIMEOUT = 5.0
IDLE_LIMIT = 3600.0  # a forwarded stream with no traffic at all for an hour is closed

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def is_portforward(parts):
    """api v1 namespaces NS pods NAME portforward"""
    return len(parts) == 7 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods" and parts[6] == "portforward"


def forbidden(user, ns, name):
    return 403, {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "%s" is forbidden: User "%s" cannot create resource "pods/portforward" in API group "" in the namespace "%s"'
        % (name, user["user"], ns),
        "reason": "Forbidden",
        "details": {"name": name, "kind": "pods"},
        "code": 403,
    }


def failure(code, reason, message, details=None):
    obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code}
    if details:
        obj["details"] = details
    return code, obj


def may_forward(user, ns):
    if user.get("portforward") is False:
        return False
    return user["namespaces"] == "*" or ns in user["namespaces"]


def handle(handler, parts, query, user, find_pod):
    """Serve one port-forward request on `handler` (a BaseHTTPRequestHandler whose user is
    authenticated). Returns (code, Status) when the request is refused before the upgrade,
    else None after the stream has ended."""
    ns, name = parts[3], parts[5]
    if not may_forward(user, ns):
        return forbidden(user, ns, name)
    pod = find_pod(ns, name)
    if pod is None:
        return failure(404, "NotFound", 'pods "%s" not found' % name, {"name": name, "kind": "pods"})
    if pod.get("status", {}).get("phase") != "Running":
        return failure(400, "BadRequest", "pod %s is not running and cannot be forwarded" % name)
    ports = []
    for p in ",".join(query.get("ports", [])).split(","):
        if not p.strip():
            continue
        if not p.strip().isdigit() or not 0 < int(p) < 65536:
            return failure(400, "BadRequest", 'invalid port "%s"' % p)
        ports.append(int(p))
    if not ports:
        return failure(400, "BadRequest", 'query parameter "ports" is required')
    if handler.headers.get("Upgrade", "").lower() != "websocket" or not handler.headers.get("Sec-WebSocket-Key"):
        return failure(400, "BadRequest", "Upgrade request required (WebSocket, %s)" % SUBPROTOCOL)
    offered = [p.strip() for p in handler.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    if SUBPROTOCOL not in offered:
        return failure(400, "BadRequest", "unsupported WebSocket subprotocols %s; this server speaks %s" % (offered, SUBPROTOCOL))
    accept = base64.b64encode(hashlib.sha1((handler.headers["Sec-WebSocket-Key"].strip() + WS_GUID).encode()).digest()).decode()
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept)
    handler.send_header("Sec-WebSocket-Protocol", SUBPROTOCOL)
    handler.end_headers()
    handler.wfile.flush()
    handler.close_connection = True
    # a forwarded stream is interactive: no Nagle delay on its frames
    handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Forward(handler.connection, pod, ports, handler.log_message).run()
    return None


def frame(opcode, payload):
    """A server frame (unmasked, FIN set)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


class Frames:
    """Incremental parser of client frames (masked, possibly fragmented)."""

    def __init__(self):
        self.buf = b""
        self.fragments = None  # (opcode, [payloads]) while a fragmented message is open

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            parsed = self._one()
            if parsed is None:
                return out
            fin, opcode, payload = parsed
            if opcode >= 0x8:  # control frames are never fragmented
                out.append((opcode, payload))
            elif opcode == OP_CONT:
                if self.fragments is None:
                    raise ValueError("continuation frame without a start")
                self.fragments[1].append(payload)
                if fin:
                    out.append((self.fragments[0], b"".join(self.fragments[1])))
                    self.fragments = None
            elif fin:
                out.append((opcode, payload))
            else:
                self.fragments = (opcode, [payload])

    def _one(self):
        b = self.buf
        if len(b) < 2:
            return None
        fin, opcode = b[0] & 0x80, b[0] & 0x0F
        masked, n = b[1] & 0x80, b[1] & 0x7F
        pos = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack("!H", b[2:4])[0]
            pos = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack("!Q", b[2:10])[0]
            pos = 10
        if not masked:
            raise ValueError("client frames must be masked (RFC 6455 5.3)")
        if len(b) < pos + 4 + n:
            return None
        mask = b[pos : pos + 4]
        data = bytes(c ^ mask[i % 4] for i, c in enumerate(b[pos + 4 : pos + 4 + n]))
        self.buf = b[pos + 4 + n :]
        return fin, opcode, data


class Forward:
    """One WebSocket connection: its ports, each a TCP connection to the pod."""

    def __init__(self, ws, pod, ports, log):
        self.ws = ws
        self.pod = pod
        self.ports = ports
        self.log = log
        self.lock = threading.Lock()

    def send(self, opcode, payload):
        with self.lock:
            self.ws.sendall(frame(opcode, payload))

    def send_channel(self, channel, payload):
        self.send(OP_BINARY, bytes([channel]) + payload)

    def dial(self, port):
        ip = self.pod["status"]["podIP"]
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(DIAL_TIMEOUT)
        try:
            s.bind((INSIDE_ADDR, 0))
            s.connect((ip, port))
        except OSError:
            s.close()
            raise
        s.settimeout(None)
        return s

    def run(self):
        meta = self.pod["metadata"]
        conns = {}
        for i, port in enumerate(self.ports):
            # the kubelet's first message on both channels of a port: the port, little-endian
            self.send_channel(2 * i, struct.pack("<H", port))
            self.send_channel(2 * i + 1, struct.pack("<H", port))
        for i, port in enumerate(self.ports):
            try:
                conns[i] = self.dial(port)
            except OSError as e:
                msg = "error forwarding port %d to pod %s, uid %s: failed to connect to %s:%d inside namespace: %s" % (
                    port, meta["name"], meta.get("uid", ""), self.pod["status"]["podIP"], port,
                    e.strerror or e)
                self.log("portforward %s", msg)
                self.send_channel(2 * i + 1, msg.encode())
        if not conns:
            self.close()
            return
        self.pump(conns)

    def close(self, code=1000):
        try:
            self.send(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass

    def pump(self, conns):
        """Moves bytes both ways until the client closes or every pod connection ends."""
        frames = Frames()
        by_sock = {s: i for i, s in conns.items()}
        ws = self.ws
        try:
            while by_sock:
                pending = ws.pending() if hasattr(ws, "pending") else 0
                if pending:
                    readable = [ws]
                else:
                    readable, _, _ = select.select([ws] + list(by_sock), [], [], IDLE_LIMIT)
                    if not readable:
                        break
                for s in readable:
                    if s is ws:
                        data = ws.recv(65536)
                        if not data:
                            return
                        for opcode, payload in frames.feed(data):
                            if opcode == OP_CLOSE:
                                self.close()
                                return
                            if opcode == OP_PING:
                                self.send(OP_PONG, payload)
                            elif opcode == OP_BINARY and payload:
                                i = payload[0] // 2
                                if payload[0] % 2 == 0 and i in conns and len(payload) > 1:
                                    conns[i].sendall(payload[1:])
                    else:
                        i = by_sock[s]
                        try:
                            data = s.recv(65536)
                        except OSError:
                            data = b""
                        if data:
                            self.send_channel(2 * i, data)
                        else:
                            del by_sock[s]
            self.close()
        except (OSError, ValueError) as e:
            self.log("portforward ended: %s", e)
        finally:
            for s in conns.values():
                s.close()
