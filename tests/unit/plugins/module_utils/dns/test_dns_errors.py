"""DNS rcode and TSIG error mapping of module_utils/dns/client.py, on real dnspython objects and a
real DNSClient (nothing is sent: building the client and its errors needs no server)."""

from __future__ import annotations

import base64

import dns.tsig
import pytest

from ansible_collections.esa.s2p.plugins.module_utils.dns.client import (
    DNSClient,
    DNSError,
    TSIGError,
    parse_key_secret,
    rcode_error,
)
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError

SECRET = base64.b64encode(b"k" * 32).decode()


@pytest.mark.parametrize("rcode, words, hint", [
    ("REFUSED", "refused by the server (REFUSED)", "allow-update"),
    ("SERVFAIL", "failed on the server (SERVFAIL)", "not loaded"),
    ("NOTAUTH", "not authorised (NOTAUTH)", "TSIG key"),
    ("NOTZONE", "names a record outside the zone (NOTZONE)", "inside the zone"),
    ("YXRRSET", "prerequisite failed: a record set exists that should not (YXRRSET)", None),
])
def test_rcode_error_says_what_the_rcode_means(rcode, words, hint):
    error = rcode_error("127.0.0.1:53", rcode, "UPDATE of zone s2p.esa.int")
    assert isinstance(error, DNSError) and error.rcode == rcode
    assert str(error).startswith("UPDATE of zone s2p.esa.int: 127.0.0.1:53 " + words)
    assert (hint in error.hint) if hint else error.hint is None


def test_unknown_rcode_is_named():
    error = rcode_error("ns1:53", "BADCOOKIE", None)
    assert str(error) == "ns1:53 failed with rcode BADCOOKIE" and error.rcode == "BADCOOKIE"


@pytest.mark.parametrize("exc_class, code, words", [
    (dns.tsig.PeerBadKey, "BADKEY", "does not know the TSIG key s2p-automation with algorithm hmac-sha256"),
    (dns.tsig.PeerBadSignature, "BADSIG", "the key secret or algorithm (hmac-sha256) differs"),
    (dns.tsig.PeerBadTime, "BADTIME", "clocks"),
    (dns.tsig.PeerBadTruncation, "BADTRUNC", "truncated TSIG MAC"),
])
def test_peer_tsig_errors_are_told_apart(exc_class, code, words):
    client = DNSClient("127.0.0.1", 10053, key_name="s2p-automation", key_secret=SECRET)
    error = client._peer_tsig_error(exc_class(), "SOA query")
    assert isinstance(error, TSIGError) and error.tsig_error == code and error.rcode == "NOTAUTH"
    assert words in str(error) and str(error).startswith("SOA query: 127.0.0.1:10053: ")
    assert SECRET not in str(error)


def test_other_peer_tsig_error_keeps_its_text():
    client = DNSClient("127.0.0.1", key_name="s2p-automation", key_secret=SECRET)
    error = client._peer_tsig_error(dns.tsig.PeerError("odd"), None)
    assert error.tsig_error == "TSIG" and "rejected TSIG key s2p-automation: odd" in str(error)


def test_key_secret_must_be_base64_and_is_never_echoed():
    assert parse_key_secret(" %s\n" % SECRET) == b"k" * 32
    planted = "marker-0123456789abcdef!!"
    with pytest.raises(ValidationError, match="key_secret is not valid base64") as caught:
        parse_key_secret(planted)
    assert planted not in str(caught.value) and "marker" not in repr(caught.value.errors)


def test_key_options_are_checked_together():
    with pytest.raises(ValidationError, match="key_name and key_secret must be given together"):
        DNSClient("127.0.0.1", key_name="s2p-automation")
    with pytest.raises(ValidationError, match="key_algorithm 'hmac-sha3'"):
        DNSClient("127.0.0.1", key_name="k", key_secret=SECRET, key_algorithm="hmac-sha3")
    assert DNSClient("127.0.0.1", key_name="k", key_secret=SECRET, key_algorithm="hmac-md5").key_name == "k"
