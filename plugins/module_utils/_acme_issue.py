# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACME issuance with DNS-01 challenges answered through the DNS client (RFC 8555 + RFC 2136).

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

The order flow of the `acme` library (account, order, authorisations, finalize) over
ACMEClient; the challenge TXT records of a whole order go into the zone in ONE update per
zone and leave it in ONE update per zone, also when the order fails.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os

from ansible_collections.esa.s2p.plugins.module_utils._acme_client import ACMEError
from ansible_collections.esa.s2p.plugins.module_utils._dns_records import parse_zone, zone_of

try:
    import dns.name
    import dns.rdataclass
    import dns.rdatatype
    import dns.rdtypes.ANY.TXT
    import dns.update
    import josepy
    from acme import challenges, errors as acme_errors, messages
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
except ImportError:  # reported by the module's adapters
    pass

CHALLENGE_TTL = 60
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


def issue(client, dns_client, account_key, csr, names, zones):
    """Order a certificate for `names` with `csr` (PEM bytes); return the full chain PEM (text)."""
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
        name = dns.name.from_text(chall.chall.validation_domain_name(domain))
        records.setdefault(name, set()).add(validation)
        pending.append((chall, response))
    zones = [parse_zone(z) for z in zones]
    by_zone = _by_zone(records, zones, what)
    try:
        for zone, items in sorted(by_zone.items()):
            _send(dns_client, zone, items, add=True)
        for chall, response in pending:
            client.call(what, client.directory_url, acme.answer_challenge, chall, response)
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=ORDER_TIMEOUT)
        order = client.call(what, client.directory_url, acme.poll_and_finalize, order, deadline)
    finally:
        for zone, items in sorted(by_zone.items()):
            _send(dns_client, zone, items, add=False)
    return order.fullchain_pem


def _by_zone(records, zones, what):
    by_zone = {}
    for name, values in records.items():
        zone = zone_of(name, zones)
        if zone is None:
            raise ACMEError("the challenge name %s is outside the managed zones" % name.to_text(omit_final_dot=True),
                            obj=what, hint="Add its zone to zones, or delegate _acme-challenge to a managed zone")
        by_zone.setdefault(zone, {})[name] = values
    return by_zone


def _send(dns_client, zone, items, add):
    """One UPDATE adding (or removing) every challenge TXT value of the order in `zone`.

    Adding REPLACES each challenge name's TXT RRset: values left by an earlier order whose clean-up
    never ran (the run was killed) go with it, instead of staying in the zone for ever. Orders are
    issued one at a time, so no other live order owns those values."""
    update = dns.update.UpdateMessage(zone)
    for name, values in sorted(items.items()):
        if add:
            update.delete(name, dns.rdatatype.TXT)
        for value in sorted(values):
            rdata = dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, [value.encode()])
            if add:
                update.add(name, CHALLENGE_TTL, rdata)
            else:
                update.delete(name, rdata)
    dns_client.update(update, zone.to_text(omit_final_dot=True))
