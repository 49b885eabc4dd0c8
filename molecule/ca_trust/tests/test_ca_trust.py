"""Verify esa.s2p.ca_trust in the container: the trust store holds exactly what converge
asked for, and OpenSSL and Python accept a server certificate signed by the lab CA."""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LAB_DIR = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab"))
WORK_DIR = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "pki"
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

# A TLS server on an ephemeral loopback port with the given certificate, and a client that
# uses Python's default trust store (the system bundle) and checks the host name.
HANDSHAKE = r"""
import socket, ssl, sys, threading
cert, key = sys.argv[1], sys.argv[2]
server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(cert, key)
listener = socket.create_server(("127.0.0.1", 0))
port = listener.getsockname()[1]
def serve():
    conn, _ = listener.accept()
    try:
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)
    except (ssl.SSLError, OSError):
        pass
threading.Thread(target=serve, daemon=True).start()
client_ctx = ssl.create_default_context()
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    try:
        with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            print("verified", tls.version())
    except ssl.SSLCertVerificationError as exc:
        print("refused", exc.verify_message)
        sys.exit(3)
"""


def pem_body(path: Path) -> str:
    """The base64 lines of a PEM certificate, which update-ca-certificates copies verbatim."""
    lines = path.read_text().strip().splitlines()
    return "\n".join(line for line in lines if not line.startswith("-----"))


@pytest.fixture(scope="module")
def lab_ca() -> Path:
    return Path(json.loads((LAB_DIR / "endpoints.json").read_text())["ca_file"])


@pytest.fixture(scope="module")
def bundle(host) -> str:
    return host.file(BUNDLE).content_string


def test_certificate_files(host):
    for name in ("s2p-lab-ca", "s2p-molecule-extra"):
        crt = host.file(f"/usr/local/share/ca-certificates/{name}.crt")
        assert crt.is_file and crt.mode == 0o644 and crt.user == "root"
    assert not host.file("/usr/local/share/ca-certificates/s2p-molecule-retired.crt").exists


def test_bundle_holds_the_trusted_cas(bundle, lab_ca):
    assert pem_body(lab_ca) in bundle
    assert pem_body(WORK_DIR / "extra-ca.crt") in bundle


def test_removed_ca_left_the_bundle(bundle):
    assert pem_body(WORK_DIR / "retired-ca.crt") not in bundle


def test_hash_links(host):
    links = host.check_output("find /etc/ssl/certs -maxdepth 1 -lname '*s2p-*' -printf '%l\\n'")
    assert "s2p-lab-ca.pem" in links
    assert "s2p-molecule-retired" not in links


def test_openssl_accepts_a_lab_signed_certificate(host):
    result = host.run("openssl verify /root/lab-leaf.crt")
    assert result.rc == 0, result.stderr + result.stdout


def test_openssl_refuses_a_certificate_of_the_removed_ca(host):
    result = host.run("openssl verify /root/retired-leaf.crt")
    assert result.rc != 0
    assert "unable to get local issuer certificate" in result.stdout + result.stderr


def test_python_ssl_accepts_a_lab_signed_server(host):
    result = host.run("python3 -c %s /root/lab-leaf.crt /root/lab-leaf.key", HANDSHAKE)
    assert result.rc == 0 and result.stdout.startswith("verified"), result.stdout + result.stderr


def test_python_ssl_refuses_a_server_of_the_removed_ca(host):
    result = host.run("python3 -c %s /root/retired-leaf.crt /root/retired-leaf.key", HANDSHAKE)
    assert result.rc == 3 and "unable to get local issuer certificate" in result.stdout, result.stdout + result.stderr
