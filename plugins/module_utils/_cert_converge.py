# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The work of the certificate module: read the stored files, decide, order, write.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Every decision is taken (with _cert_logic.renewal_reason) before anything is ordered or
written, so check mode reports exactly what the real run does. The CA is contacted only
when at least one certificate needs issuing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.esa.s2p.plugins.module_utils import _cert_logic as logic
from ansible_collections.esa.s2p.plugins.module_utils._acme_issue import (
    ensure_account,
    issue,
    load_or_create_account_key,
)
from ansible_collections.esa.s2p.plugins.module_utils._acme_module import acme_client
from ansible_collections.esa.s2p.plugins.module_utils._dns_client import DNSClient
from ansible_collections.esa.s2p.plugins.module_utils._dns_module import CONNECTION_OPTIONS as DNS_OPTIONS
from ansible_collections.esa.s2p.plugins.module_utils._dns_records import name_problems, parse_zone, zone_of
from ansible_collections.esa.s2p.plugins.module_utils._errors import ValidationError


def paths(item):
    base = os.path.join(item["path"], item["name"])
    return {"key": base + ".key", "cert": base + ".crt", "chain": base + ".chain.pem",
            "fullchain": base + ".fullchain.pem"}


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def validate(params):
    """Whole-batch check of the certificates; returns the items with key sizes filled in."""
    errors = []
    zones = [parse_zone(z) for z in params["zones"]]
    seen = {}
    items = []
    if not 0 < params["renew_fraction"] < 1:
        errors.append("renew_fraction must be between 0 and 1 (exclusive), got %s" % params["renew_fraction"])
    for index, item in enumerate(params["certificates"]):
        where = "certificates[%d] (%s)" % (index, item["name"])
        if not item["name"] or "/" in item["name"] or item["name"].startswith("."):
            errors.append("%s: name must be a plain file name" % where)
        if item["name"] in seen:
            errors.append("%s: name also used by certificates[%d]" % (where, seen[item["name"]]))
        seen[item["name"]] = index
        if not item["names"]:
            errors.append("%s: names must list at least one DNS name" % where)
        for name in item["names"]:
            bad = name_problems(name)
            if bad:
                errors.append("%s: names: %s" % (where, "; ".join(bad)))
            elif zone_of(parse_zone(name), zones) is None:
                errors.append("%s: names: %s is outside the zones %s" % (where, name, ", ".join(params["zones"])))
        try:
            key_type, key_size = logic.check_key(item["key_type"], item["key_size"])
        except ValidationError as exc:
            errors.extend("%s: %s" % (where, e) for e in exc.errors)
            continue
        items.append(dict(item, key_size=key_size, names=[n.rstrip(".").lower() for n in item["names"]]))
    if errors:
        raise ValidationError(errors)
    return items


def converge(module):
    params = module.params
    items = validate(params)
    results = []
    todo = []
    for item in items:
        files = paths(item)
        fullchain = _read(files["fullchain"])
        key = _read(files["key"])
        reason = logic.renewal_reason(fullchain, item["names"], item["key_type"], item["key_size"],
                                      params["renew_fraction"], item["force"])
        if reason is None and not (key and logic.key_matches(key, fullchain)):
            reason = "the private key is missing or does not match the certificate"
        before = logic.cert_info(fullchain) if fullchain and reason != "the stored certificate is unreadable" else None
        entry = {"name": item["name"], "names": item["names"], "fullchain_path": files["fullchain"],
                 "key_path": files["key"], "reason": reason,
                 "action": "unchanged" if reason is None else ("renewed" if before else "issued")}
        if before:
            entry.update(serial=before["serial"], not_after=before["not_after"])
        results.append((item, entry, before))
        if reason:
            todo.append((item, entry))
    account_created = False
    changed = bool(todo)
    if todo and not os.path.exists(params["account_key_path"]):
        changed = True
    if todo and not module.check_mode:
        account_key, account_created = load_or_create_account_key(params["account_key_path"])
        client = acme_client(module, account_key=account_key)
        dns_client = DNSClient(**dict((name, params["dns"].get(name)) for name in DNS_OPTIONS))
        ensure_account(client, params.get("contact"))
        for item, entry in todo:
            key = logic.new_key(item["key_type"], item["key_size"])
            fullchain = issue(client, dns_client, account_key, logic.csr_pem(key, item["names"]), item["names"],
                              params["zones"])
            _store(module, item, logic.key_pem(key), fullchain)
            info = logic.cert_info(fullchain)
            entry.update(serial=info["serial"], not_after=info["not_after"])
    for item, _entry, _before in results:
        if not module.check_mode and os.path.isdir(item["path"]):
            for path in paths(item).values():
                if os.path.exists(path):
                    changed |= _attributes(module, item, path)
    result = {"changed": changed, "certificates": [e for _i, e, _b in results], "account_key_created": account_created}
    if module._diff:
        result["diff"] = {"before": dict((e["name"], _summary(b)) for _i, e, b in results if e["reason"]),
                          "after": dict((e["name"], {"serial": e.get("serial") if not module.check_mode else
                                                     "(new)", "names": e["names"]}) for _i, e, _b in results
                                        if e["reason"])}
    return result


def _summary(info):
    if not info:
        return None
    return {"serial": info["serial"], "names": info["names"], "not_after": info["not_after"]}


def _store(module, item, key_pem, fullchain):
    """Write key, leaf, chain and full chain atomically (key first, created with its final mode)."""
    if not os.path.isdir(item["path"]):
        os.makedirs(item["path"], 0o755)
    files = paths(item)
    certs = logic.split_pem(fullchain)
    contents = [("key", key_pem), ("cert", certs[0].encode()), ("chain", "".join(certs[1:]).encode()),
                ("fullchain", fullchain.encode())]
    for kind, data in contents:
        fd, tmp = tempfile.mkstemp(dir=item["path"], prefix=".%s." % item["name"])
        with os.fdopen(fd, "wb") as handle:  # mkstemp creates the file 0600: the key is never readable
            handle.write(data)
        # Owner and mode on the temporary file first, then one rename: (atomic_move would give a
        # new file the umask's mode for a moment, too open for a key)
        _attributes(module, item, tmp, final=files[kind])
        os.replace(tmp, files[kind])


def _attributes(module, item, path, final=None):
    mode = item["mode"] if (final or path).endswith(".key") else "0644"
    args = {"path": path, "owner": item["owner"], "group": item["group"], "mode": mode,
            "attributes": None, "secontext": [None, None, None]}
    return module.set_fs_attributes_if_different(args, False)
