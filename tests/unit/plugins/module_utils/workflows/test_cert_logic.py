"""Renewal decisions of the certificate module on real (locally signed) short-lived certificates."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.esa.s2p.plugins.module_utils.workflows import certificate_logic as logic
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError

NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC)
NAMES = ("web.neocc.s2p.esa.int", "api.neocc.s2p.esa.int")


def make_cert(names=NAMES, start=NOW, lifetime=datetime.timedelta(hours=3), key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + lifetime)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key


@pytest.mark.parametrize("hours_later, expected", [
    (0, None), (1.9, None), (2.1, "left (renews below 33%)"), (3.0, "expired on"), (5, "expired on")])
def test_renewal_window_of_a_three_hour_certificate(hours_later, expected):
    pem, _key = make_cert()
    reason = logic.renewal_reason(pem, NAMES, "ec", 256, now=NOW + datetime.timedelta(hours=hours_later))
    assert reason == expected if expected is None else expected in reason


def test_fraction_is_configurable():
    pem, _key = make_cert()
    later = NOW + datetime.timedelta(hours=1)
    assert logic.renewal_reason(pem, NAMES, "ec", 256, fraction=0.5, now=later) is None
    assert "left" in logic.renewal_reason(pem, NAMES, "ec", 256, fraction=0.7, now=later)


def test_other_reasons():
    pem, key = make_cert()
    assert logic.renewal_reason(None, NAMES, "ec", 256) == "missing"
    assert logic.renewal_reason(pem, NAMES, "ec", 256, force=True, now=NOW) == "forced"
    assert logic.renewal_reason(pem, list(reversed(NAMES)), "ec", 256, now=NOW) is None
    assert "names changed" in logic.renewal_reason(pem, list(NAMES[:1]), "ec", 256, now=NOW)
    assert "key changed" in logic.renewal_reason(pem, NAMES, "ec", 384, now=NOW)
    assert "unreadable" in logic.renewal_reason("garbage", NAMES, "ec", 256, now=NOW)
    assert logic.key_matches(logic.key_pem(key), pem)
    assert not logic.key_matches(logic.key_pem(ec.generate_private_key(ec.SECP256R1())), pem)


def test_key_choices():
    assert logic.check_key("rsa", None) == ("rsa", 3072)
    with pytest.raises(ValidationError):
        logic.check_key("ec", 521)
    with pytest.raises(ValidationError):
        logic.check_key("dsa", 1024)
