# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates without a CA: keys, CSRs, reading an existing certificate and deciding renewal.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Pure logic over `cryptography` (no network). `renewal_reason` is the one place that decides
whether a certificate must be (re)issued, so check mode and the real run agree and a valid
certificate never causes a new order. Private keys only ever leave as PEM bytes handed to
storage; nothing here returns them in a result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import traceback

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtensionOID, NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

KEY_SIZES = {"ec": (256, 384), "rsa": (2048, 3072, 4096)}
DEFAULT_KEY_SIZE = {"ec": 256, "rsa": 3072}
DEFAULT_RENEW_FRACTION = 1.0 / 3


def check_key(key_type, key_size):
    """(key_type, key_size) with the default size filled in, or ValidationError."""
    if key_type not in KEY_SIZES:
        raise ValidationError(["key_type must be one of %s, got %r" % (", ".join(sorted(KEY_SIZES)), key_type)])
    size = key_size or DEFAULT_KEY_SIZE[key_type]
    if size not in KEY_SIZES[key_type]:
        raise ValidationError(["key_size %r is not valid for %s keys (allowed: %s)" % (
            size, key_type, ", ".join(str(s) for s in KEY_SIZES[key_type]))])
    return key_type, size


def new_key(key_type, key_size):
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1() if key_size == 256 else ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def csr_pem(key, names):
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
    builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def split_pem(text):
    """The PEM certificates of a bundle, in order."""
    marker = "-----END CERTIFICATE-----"
    return [part.strip() + "\n" + marker + "\n" for part in text.split(marker) if "BEGIN CERTIFICATE" in part]


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def cert_info(pem):
    """What results may show about a certificate (never the key)."""
    cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
    try:
        names = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value \
            .get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    public = cert.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        key_type, key_size = "ec", public.curve.key_size
    elif isinstance(public, rsa.RSAPublicKey):
        key_type, key_size = "rsa", public.key_size
    else:
        key_type, key_size = type(public).__name__, None
    return {
        "serial": format(cert.serial_number, "x"),
        "names": sorted(names),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "issuer": cert.issuer.rfc4514_string(),
        "key_type": key_type,
        "key_size": key_size,
        "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


def renewal_reason(existing_pem, names, key_type, key_size, fraction=DEFAULT_RENEW_FRACTION, force=False, now=None,
                   days=None):
    """Why the certificate must be (re)issued, or None when the existing one is good.

    Reasons: forced; missing; unreadable; names changed; key type/size changed; expired; less
    than `fraction` of its lifetime left; expiring within `days`.
    """
    if force:
        return "forced"
    if not existing_pem:
        return "missing"
    try:
        info = cert_info(existing_pem)
    except ValueError as exc:
        return "the stored certificate is unreadable (%s)" % exc
    if info["names"] != sorted(names):
        return "names changed (%s -> %s)" % (", ".join(info["names"]), ", ".join(sorted(names)))
    if (info["key_type"], info["key_size"]) != (key_type, key_size):
        return "key changed (%s %s -> %s %s)" % (info["key_type"], info["key_size"], key_type, key_size)
    now = now or _now()
    start = datetime.datetime.fromisoformat(info["not_before"])
    end = datetime.datetime.fromisoformat(info["not_after"])
    if now >= end:
        return "expired on %s" % info["not_after"]
    lifetime = (end - start).total_seconds()
    left = (end - now).total_seconds()
    if lifetime > 0 and left < fraction * lifetime:
        return "%.0f%% of its lifetime left (renews below %.0f%%)" % (100.0 * left / lifetime, 100.0 * fraction)
    if days and left < days * 86400:
        return "expires within %g days (on %s)" % (days, info["not_after"])
    return None


def key_matches(key_pem_text, cert_pem):
    """Whether the stored private key belongs to the certificate."""
    try:
        key = serialization.load_pem_private_key(key_pem_text.encode() if isinstance(key_pem_text, str)
                                                 else key_pem_text, password=None)
        cert = x509.load_pem_x509_certificate(cert_pem.encode() if isinstance(cert_pem, str) else cert_pem)
    except (ValueError, TypeError):
        return False
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(serialization.Encoding.DER, spki) == \
        cert.public_key().public_bytes(serialization.Encoding.DER, spki)
