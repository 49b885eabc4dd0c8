"""The swarm modules over TLS with client certificates, to the lab's real loopback dockerd behind a
TLS listener that requires a client certificate (what dockerd --tlsverify does; the lab's daemons
listen on unix sockets only). The TLS trust is the one given: ca_path (or DOCKER_CERT_PATH) wins over
a wrong REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment, and a wrong CA or a missing client
certificate is refused."""

from __future__ import annotations

import datetime
import ipaddress
import selectors
import socket
import socketserver
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TASK = "health"


def _issue(folder: Path, name: str, issuer=None, server=False):
    """(cert path, key path, cert, key): a CA when issuer is None, else a leaf signed by issuer=(cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1)))
    if issuer is None:
        builder = builder.issuer_name(subject).add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        signer = key
    else:
        builder = builder.issuer_name(issuer[0].subject).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            False)
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        signer = issuer[1]
    cert = builder.sign(signer, hashes.SHA256())
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, cert, key


def _pump(tls: ssl.SSLSocket, upstream: socket.socket) -> None:
    """Copy bytes both ways until one side closes (one thread: an SSL socket is not shared)."""
    with selectors.DefaultSelector() as selector:
        selector.register(tls, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, tls)
        while True:
            for key, _events in selector.select(timeout=60):
                try:
                    data = key.fileobj.recv(65536)
                except ssl.SSLWantReadError:
                    continue
                if not data:
                    return
                key.data.sendall(data)


@pytest.fixture(scope="module")
def tls_daemon(lab, tmp_path_factory):
    """{docker_host, ca, cert, key, cert_path}: the loopback dockerd behind TLS with client authentication."""
    folder = tmp_path_factory.mktemp("docker-tls")
    ca_cert, _ca_key, ca, ca_key = _issue(folder, "ca")
    server_cert, server_key = _issue(folder, "server", (ca, ca_key), server=True)[:2]
    client_cert, client_key = _issue(folder, "client", (ca, ca_key))[:2]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_cert, server_key)
    context.load_verify_locations(ca_cert)
    context.verify_mode = ssl.CERT_REQUIRED
    daemon_socket = lab["dockerd"]["docker_host"].replace("unix://", "")

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            try:
                tls = context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # refused handshake: no CA match or no client certificate
            with tls, socket.socket(socket.AF_UNIX) as upstream:
                upstream.connect(daemon_socket)
                try:
                    _pump(tls, upstream)
                except OSError:
                    pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cert_path = folder / "docker-cert-path"  # the docker CLI's layout for DOCKER_CERT_PATH
    cert_path.mkdir()
    for source, name in ((ca_cert, "ca.pem"), (client_cert, "cert.pem"), (client_key, "key.pem")):
        (cert_path / name).write_bytes(source.read_bytes())
    yield {"docker_host": "tcp://127.0.0.1:%d" % server.server_address[1], "ca": str(ca_cert),
           "cert": str(client_cert), "key": str(client_key), "cert_path": str(cert_path)}
    server.shutdown()
    server.server_close()


def _play(**options):
    return [{"name": "tls", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": TASK, "esa.s2p.swarm_health": options}]}]


def _answered(run):
    result = run.result(TASK)
    assert run.rc == 0, run.stdout[-3000:]
    daemon = result["checks"][0]
    assert daemon["name"] == "daemon answers" and daemon["ok"], result["checks"]
    return result


def test_ca_path_and_client_cert_options_win_over_a_wrong_requests_bundle(tls_daemon, other_ca, run_playbook):
    wrong = {"REQUESTS_CA_BUNDLE": other_ca, "CURL_CA_BUNDLE": other_ca}
    run = run_playbook(_play(docker_host=tls_daemon["docker_host"], validate_certs=True, ca_path=tls_daemon["ca"],
                             client_cert=tls_daemon["cert"], client_key=tls_daemon["key"]), envvars=wrong)
    assert _answered(run)["docker_host"] == tls_daemon["docker_host"]


def test_docker_cert_path_and_the_docker_environment(tls_daemon, other_ca, run_playbook):
    env = {"DOCKER_HOST": tls_daemon["docker_host"], "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": tls_daemon["cert_path"], "REQUESTS_CA_BUNDLE": other_ca}
    _answered(run_playbook(_play(), envvars=env))


@pytest.mark.parametrize("case", ["wrong CA", "no client certificate"])
def test_a_wrong_ca_or_a_missing_client_certificate_is_refused(tls_daemon, other_ca, run_playbook, case):
    options = dict(docker_host=tls_daemon["docker_host"], validate_certs=True, ca_path=tls_daemon["ca"],
                   client_cert=tls_daemon["cert"], client_key=tls_daemon["key"], timeout=10)
    if case == "wrong CA":
        options["ca_path"] = other_ca
    else:
        del options["client_cert"], options["client_key"]
    result = run_playbook(_play(**options), envvars={"REQUESTS_CA_BUNDLE": tls_daemon["ca"]}).result(TASK)
    daemon = result["checks"][0]
    assert result["healthy"] is False and daemon["ok"] is False, result
    assert "Docker daemon unreachable at %s" % tls_daemon["docker_host"] in daemon["msg"], daemon["msg"]
