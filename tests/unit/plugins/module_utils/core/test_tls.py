"""TLS error wording (module_utils/core/tls.py) and the backends' own wording built on it."""

from __future__ import annotations

import ssl

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core import tls
from ansible_collections.esa.s2p.plugins.module_utils.ldap.client import TLS_WORDING as LDAP_WORDING
from ansible_collections.esa.s2p.plugins.module_utils.vault.client import TLS_WORDING as VAULT_WORDING
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.client import TLS_WORDING as VSPHERE_WORDING

# Messages as OpenSSL 3 / Python's ssl module and the client libraries print them.
UNTRUSTED = ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate "
             "(_ssl.c:1000)")
SELF_SIGNED = "self-signed certificate in certificate chain"
MISMATCH = ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, "
            "certificate is not valid for 'vc.example' (_ssl.c:1000)")
IP_MISMATCH = "certificate verify failed: IP address mismatch, certificate is not valid for '10.0.0.1'"
EXPIRED = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1000)"
NOT_TLS = "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)"
EOF_ = "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (_ssl.c:1000)"


@pytest.mark.parametrize("text, kind", [
    (UNTRUSTED, tls.UNTRUSTED), (SELF_SIGNED, tls.UNTRUSTED), (MISMATCH, tls.MISMATCH),
    (IP_MISMATCH, tls.MISMATCH), (EXPIRED, tls.EXPIRED), (NOT_TLS, tls.NOT_TLS),
    ("record layer failure", tls.NOT_TLS), ("tlsv1 alert internal error", tls.OTHER),
])
def test_kind_of_openssl_messages(text, kind):
    assert tls.tls_error_kind(text) == kind


def test_mismatch_wins_over_verify_failed_and_expired_too():
    # Both carry "certificate verify failed"; the more precise reason must be reported.
    assert tls.tls_error_kind(MISMATCH) == tls.MISMATCH
    assert tls.tls_error_kind(EXPIRED) == tls.EXPIRED


def test_untrusted_names_the_ca_file_or_the_system_store():
    reason, hint = tls.tls_failure_reason(UNTRUSTED, "/etc/pki/s2p/ca.pem")
    assert reason == "the server certificate is not trusted by the CA file /etc/pki/s2p/ca.pem"
    assert "ca_path" in hint
    reason, _hint = tls.tls_failure_reason(UNTRUSTED, None)
    assert reason.endswith("not trusted by the system trust store")


def test_unknown_failure_keeps_the_original_text():
    reason, hint = tls.tls_failure_reason("tlsv1 alert internal error {x}", None)
    assert reason == "TLS handshake failed (tlsv1 alert internal error {x})"
    assert hint == "Check the server's TLS configuration"


@pytest.mark.parametrize("wording, option, not_tls_hint", [
    (VSPHERE_WORDING, "ca_path", "protocol=http"),
    (LDAP_WORDING, "ca_path", "ldap:// with start_tls"),
    (VAULT_WORDING, "ca_cert", "http:// url"),
])
def test_backends_name_their_own_options(wording, option, not_tls_hint):
    _reason, hint = tls.tls_failure_reason(UNTRUSTED, "/ca.pem", wording)
    assert option in hint
    _reason, hint = tls.tls_failure_reason(NOT_TLS, None, wording)
    assert not_tls_hint in hint
    assert tls.tls_failure_reason(EXPIRED, None, wording) == (
        "the server certificate has expired", "Renew the server certificate")


def test_backend_specific_reasons():
    assert tls.tls_failure_reason(MISMATCH, None, LDAP_WORDING)[0].endswith("host name in server_uri")
    assert tls.tls_failure_reason(MISMATCH, None, VAULT_WORDING)[0].endswith("host name in url")
    assert "or address used" in tls.tls_failure_reason(IP_MISMATCH, None, VSPHERE_WORDING)[0]
    assert tls.tls_failure_reason(NOT_TLS, None, VAULT_WORDING)[0] == "TLS handshake failed"
    assert tls.tls_failure_reason(EOF_, None, LDAP_WORDING) == (
        "TLS handshake failed (%s)" % EOF_, "Check that the port serves LDAPS, or use ldap:// with start_tls")


def test_ssl_context_verifies_unless_told_not_to(tmp_path):
    verifying = tls.ssl_context(True, None)
    assert verifying.verify_mode == ssl.CERT_REQUIRED and verifying.check_hostname is True
    lax = tls.ssl_context(False, "/nonexistent.pem")  # the CA is not read when not validating
    assert lax.verify_mode == ssl.CERT_NONE and lax.check_hostname is False
    with pytest.raises(FileNotFoundError):
        tls.ssl_context(True, str(tmp_path / "missing.pem"))
    folder = tls.ssl_context(True, str(tmp_path))  # a hashed CA folder is accepted as capath
    assert folder.verify_mode == ssl.CERT_REQUIRED
