"""The BER of the End Transaction request (RFC 5805) that the LDAP client sends after a batch."""

from __future__ import annotations

import pytest
from pyasn1.codec.ber import decoder
from pyasn1.type import namedtype, univ

from ansible_collections.esa.s2p.plugins.module_utils.ldap.client import _txn_end_value


class TxnEndReq(univ.Sequence):
    componentType = namedtype.NamedTypes(namedtype.DefaultedNamedType("commit", univ.Boolean(True)),
                                         namedtype.NamedType("identifier", univ.OctetString()))


@pytest.mark.parametrize("identifier", [b"", b"\x01\x02", b"t" * 127, b"t" * 128, b"x" * 70000])
@pytest.mark.parametrize("commit", [True, False])
def test_txn_end_request_decodes_as_rfc_5805_says(identifier, commit):
    decoded, rest = decoder.decode(_txn_end_value(identifier, commit), asn1Spec=TxnEndReq())
    assert rest == b""
    assert bool(decoded["commit"]) is commit and bytes(decoded["identifier"]) == identifier


def test_commit_is_left_out_when_true():
    """DEFAULT TRUE: DER-minded servers expect the field omitted, not sent as TRUE."""
    assert _txn_end_value(b"ab") == b"\x30\x04\x04\x02ab"
    assert _txn_end_value(b"ab", commit=False) == b"\x30\x07\x01\x01\x00\x04\x02ab"
