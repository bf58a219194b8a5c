"""Two local HTTP servers for the hardening tests.

`origin` (127.0.0.1) plays Vault or a Kubernetes API server; `other`
(127.0.0.2, another origin) logs every request's headers to LOG as JSON lines
and answers as if it were the real server. Modes:
  redirect   origin answers every request with 307 to the same path on other
  escape     origin answers 403 with an error body full of escape sequences
  downgrade  origin speaks HTTPS (certificate and key in argv[3], argv[4]) and
             answers 307 to http:// on its own host and port; a plaintext
             request reaching it is logged as PLAINTEXT
Prints "ORIGIN_PORT OTHER_PORT" and serves until stdin closes.
"""
import http.server
import json
import ssl
import sys
import threading

LOG, MODE = sys.argv[1], sys.argv[2]
ESCAPES = "\x1b]0;pwned-title\x07\x1b[2J\x1b[31mpermission denied\x1b[0m\rX"


def answer(handler, status, body, headers=()):
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for k, v in headers:
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(data)


class Other(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(LOG, "a") as log:
            log.write(json.dumps({"path": self.path, "headers": dict(self.headers)}) + "\n")
        answer(self, 200, {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"password": "c3RvbGVu", "data": {"password": "stolen"}},
        })

    do_PUT = do_POST = do_GET

    def log_message(self, *args):
        pass


other = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Other)


class Origin(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if MODE == "redirect":
            location = f"http://127.0.0.2:{other.server_port}{self.path}"
            answer(self, 307, {}, [("Location", location)])
        elif MODE == "downgrade":
            location = f"http://127.0.0.1:{origin.server_port}{self.path}"
            answer(self, 307, {}, [("Location", location)])
        else:
            answer(self, 403, {
                "errors": [ESCAPES],
                "kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": ESCAPES, "reason": "Forbidden", "code": 403,
            })

    do_PUT = do_POST = do_GET

    def log_message(self, *args):
        pass


class TlsServer(http.server.ThreadingHTTPServer):
    """Logs a plaintext request (a failed handshake saying so) instead of a traceback."""

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, ssl.SSLError) and "HTTP_REQUEST" in str(error):
            with open(LOG, "a") as log:
                log.write("PLAINTEXT request on the TLS port\n")


if MODE == "downgrade":
    origin = TlsServer(("127.0.0.1", 0), Origin, bind_and_activate=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    origin.socket = context.wrap_socket(
        origin.socket, server_side=True, do_handshake_on_connect=False)

    def finish_request(request, client_address, server=origin):
        try:
            request.do_handshake()
        except ssl.SSLError:
            server.handle_error(request, client_address)
            return
        Origin(request, client_address, server)

    origin.finish_request = finish_request
else:
    origin = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Origin)
for server in (origin, other):
    threading.Thread(target=server.serve_forever, daemon=True).start()
print(origin.server_port, other.server_port, flush=True)
sys.stdin.read()
