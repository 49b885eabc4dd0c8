"""Loopback proxies that count the requests a run sends to each lab backend, with the time of
each (so bench_scale.py can split them by stage). Every proxy sees only our traffic, so the
counts are exact even while other runs use the same servers.

- vcsim, OpenBao, Pebble: tests/integration/counting_proxy.py (one HTTPS request = one request)
- slapd: LdapProxy, LDAPS terminated here, one LDAPMessage from the client = one request
- BIND: DnsProxy, UDP and TCP on one port, one DNS message from the client = one request
  (an AXFR is one request, however many messages answer it)
- Docker: DockerSocketProxy, HTTP over a unix socket, one API call = one request

The TLS front sides present a certificate for 127.0.0.1 signed by the lab CA (.lab/ca), so the
collection's clients keep verifying certificates against the lab CA as in a normal run.
"""

from __future__ import annotations

import datetime
import http.client
import http.server
import ipaddress
import select
import socket
import socketserver
import ssl
import threading
import time
from pathlib import Path

LDAP_OPS = {0: "bind", 2: "unbind", 3: "search", 6: "modify", 8: "add", 10: "delete", 12: "modrdn",
            14: "compare", 16: "abandon", 23: "extended"}
DNS_OPCODES = {0: "QUERY", 4: "NOTIFY", 5: "UPDATE"}
DNS_TYPES = {1: "A", 2: "NS", 6: "SOA", 12: "PTR", 16: "TXT", 28: "AAAA", 251: "IXFR", 252: "AXFR", 255: "ANY"}


class Counts:
    """(time, key) of every request, thread-safe."""

    def __init__(self):
        self.events: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def record(self, key: str) -> None:
        with self._lock:
            self.events.append((time.time(), key))

    def reset(self) -> None:
        with self._lock:
            self.events = []


def proxy_cert(workdir: Path, ca_dir: Path | None = None) -> tuple[str, str]:
    """A server certificate for 127.0.0.1 and localhost: (cert, key) files in workdir, signed by
    the CA in ca_dir (ca.crt, ca.key: the lab CA, so clients keep verifying), else self-signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "s2p bench counting proxy")])
    issuer, issuer_key = subject, key
    if ca_dir is not None:
        issuer = x509.load_pem_x509_certificate((ca_dir / "ca.crt").read_bytes()).subject
        issuer_key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), password=None)
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .sign(issuer_key, hashes.SHA256()))
    cert_path, key_path = workdir / "proxy.crt", workdir / "proxy.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def _relay(client: socket.socket, upstream: socket.socket, on_client_data) -> None:
    """Copy both directions in ONE thread until either side closes; on_client_data(bytes) sees what
    the client sends. One thread per connection, not one per direction: an SSLSocket read in one
    thread while written in another breaks its TLS state (LDAP sessions ended at 4x)."""
    sides = {client: upstream, upstream: client}
    try:
        while True:
            ready = [s for s in sides if getattr(s, "pending", lambda: 0)()]
            ready = ready or select.select(list(sides), [], [], 600)[0]
            if not ready:
                return
            for source in ready:
                data = source.recv(65536)
                if not data:
                    return
                if source is client:
                    on_client_data(data)
                sides[source].sendall(data)
    except OSError:
        pass
    finally:
        for sock in sides:
            try:
                sock.close()
            except OSError:
                pass


class _Frames:
    """Cuts a byte stream into messages with `length(buffer) -> total length or None` and
    calls on_message(message) for each."""

    def __init__(self, length, on_message):
        self.buffer = b""
        self.length, self.on_message = length, on_message

    def __call__(self, data: bytes) -> None:
        self.buffer += data
        while True:
            total = self.length(self.buffer)
            if total is None or len(self.buffer) < total:
                return
            message, self.buffer = self.buffer[:total], self.buffer[total:]
            self.on_message(message)


def _ber_length(buffer: bytes) -> int | None:
    """Total length of the BER element at the start of buffer, None while incomplete."""
    if len(buffer) < 2:
        return None
    first = buffer[1]
    if first < 0x80:
        return 2 + first
    size = first & 0x7F
    if len(buffer) < 2 + size:
        return None
    return 2 + size + int.from_bytes(buffer[2:2 + size], "big")


def ldap_operation(message: bytes) -> str:
    """The operation of one LDAPMessage (SEQUENCE { messageID INTEGER, protocolOp [APPLICATION n] })."""
    pos = 2 + (message[1] & 0x7F if message[1] & 0x80 else 0)  # past the SEQUENCE header
    pos += 2 + message[pos + 1]  # past the messageID INTEGER
    return LDAP_OPS.get(message[pos] & 0x1F, f"op{message[pos] & 0x1F}")


def _dns_length(buffer: bytes) -> int | None:
    return 2 + int.from_bytes(buffer[:2], "big") if len(buffer) >= 2 else None


def dns_request(wire: bytes) -> str:
    """'QUERY SOA', 'QUERY AXFR', 'UPDATE' ... of one DNS message."""
    opcode = DNS_OPCODES.get((wire[2] >> 3) & 0xF, f"opcode{(wire[2] >> 3) & 0xF}")
    if opcode != "QUERY" or int.from_bytes(wire[4:6], "big") == 0:
        return opcode
    pos = 12
    while pos < len(wire) and wire[pos]:
        pos += 1 + wire[pos]
    qtype = int.from_bytes(wire[pos + 1:pos + 3], "big")
    return f"QUERY {DNS_TYPES.get(qtype, qtype)}"


class _TcpProxy:
    """Accepts on a loopback port, connects each client to the backend, counts what clients send."""

    def __init__(self, backend: tuple[str, int], frame_length, key, server_tls=None, client_tls=None,
                 port: int = 0):
        self.counts = Counts()
        self.backend, self.frame_length, self.key = backend, frame_length, key
        self.server_tls, self.client_tls = server_tls, client_tls
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self._stop = False

    def _serve(self) -> None:
        while not self._stop:
            try:
                client = self.listener.accept()[0]
            except OSError:
                return
            threading.Thread(target=self._connection, args=(client,), daemon=True).start()

    def _connection(self, client: socket.socket) -> None:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle/delayed-ACK stalls
        try:
            if self.server_tls:
                client = self.server_tls.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(self.backend, timeout=300)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.client_tls:
                upstream = self.client_tls.wrap_socket(upstream, server_hostname=self.backend[0])
        except OSError:
            client.close()
            return
        _relay(client, upstream, _Frames(self.frame_length, lambda message: self.counts.record(self.key(message))))

    def __enter__(self):
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self.listener.close()


class LdapProxy(_TcpProxy):
    """LDAPS in front of slapd's LDAPS port."""

    def __init__(self, backend: tuple[str, int], ca_file: str, cert: tuple[str, str]):
        front = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        front.load_cert_chain(*cert)
        super().__init__(backend, _ber_length, ldap_operation, server_tls=front,
                         client_tls=ssl.create_default_context(cafile=ca_file))


class DnsProxy(_TcpProxy):
    """DNS over UDP and TCP on the same loopback port, in front of BIND."""

    def __init__(self, backend: tuple[str, int]):
        super().__init__(backend, _dns_length, lambda message: dns_request(message[2:]))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))

    def _serve_udp(self) -> None:
        while not self._stop:
            try:
                wire, client = self.udp.recvfrom(65535)
            except OSError:
                return
            self.counts.record(dns_request(wire))
            threading.Thread(target=self._udp_exchange, args=(wire, client), daemon=True).start()

    def _udp_exchange(self, wire: bytes, client) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
            upstream.settimeout(30)
            try:
                upstream.sendto(wire, self.backend)
                self.udp.sendto(upstream.recv(65535), client)
            except OSError:
                pass

    def __enter__(self):
        threading.Thread(target=self._serve_udp, daemon=True).start()
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self.udp.close()


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=300)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def docker_call(method: str, path: str) -> str:
    """'GET /services', 'POST /services/*/update' ...: the API version and object names left out."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts and parts[0].startswith("v1."):
        parts = parts[1:]
    if len(parts) > 2:
        parts = [parts[0], "*", parts[-1]]
    elif len(parts) == 2 and parts[1] not in ("create", "json", "init", "join", "leave", "update", "prune"):
        parts = [parts[0], "*"]
    return f"{method} /{'/'.join(parts)}"


class DockerSocketProxy:
    """The Docker API over a unix socket of ours, forwarded to the engine's socket."""

    def __init__(self, backend_path: str, path: str):
        self.counts = Counts()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.counts.record(docker_call(self.command, self.path))
                conn = _UnixHTTPConnection(backend_path)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in ("connection", "content-length", "transfer-encoding")}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                finally:
                    conn.close()
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in ("connection", "content-length", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _forward

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

            def get_request(self):
                request = super().get_request()[0]
                return request, ("unix", 0)

        self.path = path
        self.server = Server(path, Handler)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        Path(self.path).unlink(missing_ok=True)
