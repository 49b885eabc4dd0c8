# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNS records and certificates of the S2P model as Jinja filters (documentation: <filter>.yml).

Thin over module_utils/model/dns_records.py; used by the roles esa.s2p.dns and esa.s2p.certificate.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.module_utils.model import dns_records as model_dns
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError


def _model(model):
    if not isinstance(model, dict) or "projects" not in model:
        raise AnsibleFilterError("the input must be the normalised model, the fact s2p_model set by esa.s2p.model")
    return model


def dns_records(model, addresses=None, ttl=3600, ptr=True):
    try:
        return model_dns.records_by_owner(_model(model), addresses or {}, ttl=ttl, ptr=ptr)
    except S2PError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def owned_records(records_by_owner, state=None):
    """{owner: [items]} (the output of dns_records) as one flat list of items carrying their owner,
    the records option of one esa.s2p.dns_record task for every owner."""
    if not isinstance(records_by_owner, dict):
        raise AnsibleFilterError("owned_records: the input must be a mapping of owner to record items "
                                 "(the output of esa.s2p.dns_records), got %s" % type(records_by_owner).__name__)
    extra = {} if state is None else {"state": state}
    out = []
    for owner, items in records_by_owner.items():
        for item in items:
            out.append(dict(item, owner=owner, **extra))
    return out


def dns_change_counts(changes):
    """{owner: {create: n, update: n, delete: n}} of a dns_record result's `changes` (ownership
    records left out), in one pass: the role's summary counted them with a scan of every change
    per owner, quadratic in the estate (79 s of the DNS stage of a first run of the lab model x16)."""
    if not isinstance(changes, list):
        raise AnsibleFilterError("dns_change_counts: the input must be the changes list of an esa.s2p.dns_record "
                                 "result, got %s" % type(changes).__name__)
    counts = {}
    for change in changes:
        if isinstance(change, dict) and not change.get("ownership"):
            per_owner = counts.setdefault(change.get("owner"), {"create": 0, "update": 0, "delete": 0})
            if change.get("action") in per_owner:
                per_owner[change["action"]] += 1
    return counts


def certificates(model, path=None, issuer="acme", pki_roles=None, kv=True, environments=None):
    try:
        return model_dns.certificates(_model(model), path=path, issuer=issuer, pki_roles=pki_roles, kv=kv,
                                      environments=environments)
    except S2PError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule(object):
    def filters(self):
        return {"dns_records": dns_records, "owned_records": owned_records, "dns_change_counts": dns_change_counts,
                "certificates": certificates}
