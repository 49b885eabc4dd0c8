"""A loopback HTTP(S) reverse proxy in front of vcsim that counts the API requests through it.

Used by the vSphere integration tests (round trips must not grow with the number of VMs)
and by bench/bench_vsphere_*.py (request counts of ours vs the community collections).
The front side speaks plain HTTP, or HTTPS with `certfile`/`keyfile`; the back side
verifies vcsim's certificate against the lab CA. With `preserve_host` the client's Host
header goes to the backend unchanged, for servers that build their URLs from it (Pebble's
ACME directory then points every request back through the proxy).
"""

from __future__ import annotations

import http.client
import http.server
import ssl
import threading
import time

HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host",
               "content-length"}


class CountingProxy:
    def __init__(self, backend_host: str, backend_port: int, ca_file: str, certfile: str | None = None,
                 keyfile: str | None = None, preserve_host: bool = False):
        self.count = 0
        self.by_method: dict[str, int] = {}
        self.events: list[tuple[float, str]] = []  # (time, key) of every request, for per-stage counts
        self._lock = threading.Lock()
        proxy = self
        context = ssl.create_default_context(cafile=ca_file)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body leave in two writes: with Nagle's algorithm and the client's delayed
            # ACK each keep-alive request waited ~40 ms (Vault reads took 47 ms through the proxy, 2 direct)
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _backend(self):
                if getattr(self, "_conn", None) is None:
                    self._conn = http.client.HTTPSConnection(backend_host, backend_port, context=context,
                                                             timeout=120)
                return self._conn

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy._lock:
                    proxy.count += 1
                    key = "%s %s" % (self.command, self.path.split("?")[0])
                    if body and b"<soapenv:Body>" in body:
                        start = body.index(b"<soapenv:Body>") + len(b"<soapenv:Body><")
                        key = body[start:start + 60].split(b" ")[0].split(b">")[0].decode(errors="replace")
                    proxy.by_method[key] = proxy.by_method.get(key, 0) + 1
                    proxy.events.append((time.time(), key))
                headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in HOP_HEADERS)
                headers["Host"] = self.headers["Host"] if preserve_host else "%s:%s" % (backend_host, backend_port)
                for attempt in (1, 2):
                    conn = self._backend()
                    try:
                        conn.request(self.command, self.path, body=body, headers=headers)
                        response = conn.getresponse()
                        payload = response.read()
                        break
                    except (http.client.HTTPException, OSError):
                        conn.close()
                        self._conn = None
                        if attempt == 2:
                            self.send_error(502)
                            return
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            # LIST: the Vault API lists with it (hvac list_secrets, list_roles)
            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_LIST = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if certfile:
            front = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            front.load_cert_chain(certfile, keyfile)
            self.server.socket = front.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.count = 0
            self.by_method = {}
            self.events = []
