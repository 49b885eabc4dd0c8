# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACME issuance with DNS-01 challenges (RFC 8555), answered through a ChallengePublisher.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

The order flow of the `acme` library (account, order, authorisations, finalize) over
ACMEClient; the challenge TXT records of a whole order are published in one call and withdrawn
in one call, also when the order fails. Who publishes them (dns/challenges.py: one RFC 2136
update per zone) is the caller's choice: this backend never imports another.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os

from ansible_collections.esa.s2p.plugins.module_utils.acme.client import ACMEError

try:
    import josepy
    from acme import challenges, errors as acme_errors, messages
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
except ImportError:  # reported by the module's adapters
    pass

ORDER_TIMEOUT = 120


def load_or_create_account_key(path):
    """The ACME account key (EC P-256) from `path`, created there (mode 0600) when missing.
    Returns (josepy JWK, created)."""
    created = False
    if not os.path.exists(path):
        key = ec.generate_private_key(ec.SECP256R1())
        data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        created = True
    with open(path, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    return josepy.JWKEC(key=key), created


def account_key_from_pem(pem):
    key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    return josepy.JWKEC(key=key)


def new_account_key_pem():
    """A new ACME account key (EC P-256) as PEM text."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def ensure_account(client, contact=None):
    """Register (or find) the account of the client's key; the client then signs as that account."""
    acme = client.acme
    registration = messages.NewRegistration.from_data(email=contact, terms_of_service_agreed=True) \
        if contact else messages.NewRegistration(terms_of_service_agreed=True)
    try:
        regr = client.call("ACME newAccount", client.directory_url, acme.new_account, registration)
    except ACMEError as exc:
        conflict = exc.__cause__
        if not isinstance(conflict, acme_errors.ConflictError):
            raise
        regr = messages.RegistrationResource(uri=conflict.location, body=messages.Registration())
        acme.net.account = regr
    return regr


def issue(client, challenge_publisher, account_key, csr, names):
    """Order a certificate for `names` with `csr` (PEM bytes); return the full chain PEM (text).
    The DNS-01 values go through `challenge_publisher` (core/challenges.ChallengePublisher)."""
    acme = client.acme
    what = "ACME order for %s" % ", ".join(names)
    order = client.call(what, client.directory_url, acme.new_order, csr)
    records = {}
    pending = []
    for authz in order.authorizations:
        domain = authz.body.identifier.value
        chall = next((c for c in authz.body.challenges if isinstance(c.chall, challenges.DNS01)), None)
        if chall is None:
            raise ACMEError("the CA offers no dns-01 challenge for %s" % domain, obj=what,
                            hint="Use a CA that supports dns-01, or another issuer")
        if authz.body.status == messages.STATUS_VALID:
            continue
        response, validation = chall.response_and_validation(account_key)
        name = chall.chall.validation_domain_name(domain).rstrip(".").lower()
        records.setdefault(name, set()).add(validation)
        pending.append((chall, response))
    try:
        if records:
            challenge_publisher.publish(records)
        for chall, response in pending:
            client.call(what, client.directory_url, acme.answer_challenge, chall, response)
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=ORDER_TIMEOUT)
        order = client.call(what, client.directory_url, acme.poll_and_finalize, order, deadline)
    finally:
        if records:
            challenge_publisher.withdraw(records)
    return order.fullchain_pem
