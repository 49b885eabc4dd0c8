# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS helpers shared by the backend clients: a verifying ssl context, and OpenSSL errors in plain words.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

tls_error_kind() sorts an OpenSSL / transport message into one of a few kinds;
tls_failure_reason() words it as (reason, hint). The wording that names a backend's own
option (ca_path, ca_cert, protocol...) is passed in by that backend, the rest is shared.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import ssl

MISMATCH = "mismatch"
EXPIRED = "expired"
UNTRUSTED = "untrusted"
NOT_TLS = "not_tls"
OTHER = "other"

# Substrings of OpenSSL (and pyVmomi / ldap3) messages, checked in this order.
_KIND_MARKERS = (
    (MISMATCH, ("hostname mismatch", "ip address mismatch", "doesn't match")),
    (EXPIRED, ("expired",)),
    (UNTRUSTED, ("certificate verify failed", "self-signed", "self signed", "local issuer")),
    (NOT_TLS, ("wrong version number", "record layer failure", "unexpected_eof")),
)

# (reason, hint) per kind; {text} is the original message, {trust} the CA file or the system store.
DEFAULT_WORDING = {
    MISMATCH: ("the server certificate does not match the host name used",
               "Use a host name listed in the certificate's subjectAltName"),
    EXPIRED: ("the server certificate has expired", "Renew the server certificate"),
    UNTRUSTED: ("the server certificate is not trusted by {trust}",
                "Set ca_path to the CA that signed the server certificate"),
    NOT_TLS: ("TLS handshake failed ({text})", "Check that the port serves TLS"),
    OTHER: ("TLS handshake failed ({text})", "Check the server's TLS configuration"),
}


def tls_error_kind(text):
    """MISMATCH, EXPIRED, UNTRUSTED, NOT_TLS or OTHER for an OpenSSL / transport message."""
    lowered = text.lower()
    for kind, markers in _KIND_MARKERS:
        if any(marker in lowered for marker in markers):
            return kind
    return OTHER


def tls_failure_reason(text, ca_path, wording=None):
    """(reason, hint) telling the engineer what to fix; `wording` overrides DEFAULT_WORDING per kind."""
    kind = tls_error_kind(text)
    reason, hint = dict(DEFAULT_WORDING, **(wording or {}))[kind]
    trust = "the CA file %s" % ca_path if ca_path else "the system trust store"
    return reason.format(text=text, trust=trust), hint.format(text=text, trust=trust)


def ssl_context(validate_certs=True, ca_path=None):
    """A client context: verifying against `ca_path` (a PEM file or a hashed folder) or the system
    store, or not verifying at all when validate_certs is false. The caller checks ca_path exists."""
    if not validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_path and os.path.isdir(ca_path):
        return ssl.create_default_context(capath=ca_path)
    return ssl.create_default_context(cafile=ca_path)
