# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The work of the certificate module: read the stored files, decide, order, write.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Every decision is taken (with certificate_logic.renewal_reason) before anything is ordered or
written, so check mode reports exactly what the real run does. The CA is contacted only
when at least one certificate needs issuing.

converge() knows nothing of AnsibleModule: it takes the module's params, check mode, the
clients (built by the module from its options, nothing sent yet) and a function that sets
owner, group and mode of a file; it returns the module's result or raises S2PError.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
import threading

from ansible_collections.esa.s2p.plugins.module_utils.workflows import certificate_logic as logic
from ansible_collections.esa.s2p.plugins.module_utils.acme.issue import (
    account_key_from_pem,
    ensure_account,
    issue,
    load_or_create_account_key,
    new_account_key_pem,
)
from ansible_collections.esa.s2p.plugins.module_utils.dns.challenges import DNSChallenges
from ansible_collections.esa.s2p.plugins.module_utils.dns.adapter import ADAPTER as DNS
from ansible_collections.esa.s2p.plugins.module_utils.dns.records import name_problems, parse_zone, zone_of
from ansible_collections.esa.s2p.plugins.module_utils.core.concurrency import bounded_map, bounded_map_or_raise
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems
from ansible_collections.esa.s2p.plugins.module_utils.vault.adapter import ADAPTER as VAULT
from ansible_collections.esa.s2p.plugins.module_utils.vault import pki as vault_pki


def _given(params, connection, key):
    """Whether the connection dict (options or their environment fallbacks) names its server."""
    return bool((params.get(connection) or {}).get(key))


def paths(item):
    if not item.get("path"):
        return {}
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
    errors = Problems()
    zones = [parse_zone(z) for z in params["zones"]]
    seen = {}
    items = []
    if not 0 < params["renew_fraction"] < 1:
        errors.add("renew_fraction", "must be between 0 and 1 (exclusive), got %s" % params["renew_fraction"])
    for index, item in enumerate(params["certificates"]):
        where = "certificates[%d] (%s)" % (index, item["name"])
        if not item["name"] or "/" in item["name"] or item["name"].startswith("."):
            errors.add(where, "name must be a plain file name")
        if item["name"] in seen:
            errors.add(where, "name also used by certificates[%d]" % seen[item["name"]])
        seen[item["name"]] = index
        if not item.get("path") and not item.get("vault_kv_path"):
            errors.add(where, "give path (files) and/or vault_kv_path (Vault KV) to keep the certificate")
        if (item["issuer"] == "vault_pki" or item.get("vault_kv_path")) and not _given(params, "vault", "url"):
            errors.add(where, "issuer vault_pki and vault_kv_path need the vault connection (vault.url or VAULT_ADDR)")
        has_account_key = params.get("account_key_path") or params.get("account_key_vault_path")
        if item["issuer"] == "acme" and not (_given(params, "dns", "server") and has_account_key):
            errors.add(where, "issuer acme needs the dns connection (dns.server or DNS_SERVER) and account_key_path "
                              "or account_key_vault_path")
        if item["issuer"] == "acme" and not params.get("acme_directory"):
            errors.add(where, "issuer acme needs acme_directory (or ACME_DIRECTORY), the URL of the ACME directory")
        if params.get("account_key_vault_path") and not _given(params, "vault", "url"):
            errors.add(where, "account_key_vault_path needs the vault connection (vault.url or VAULT_ADDR)")
        if not item["names"]:
            errors.add(where, "names must list at least one DNS name")
        for name in item["names"]:
            bad = name_problems(name)
            if bad:
                errors.add(where + ": names", "; ".join(bad))
            elif zone_of(parse_zone(name), zones) is None:
                errors.add(where + ": names", "%s is outside the zones %s" % (name, ", ".join(params["zones"])))
        try:
            key_type, key_size = logic.check_key(item["key_type"], item["key_size"])
        except ValidationError as exc:
            errors.extend(exc.errors, where)
            continue
        items.append(dict(item, key_size=key_size, names=[n.rstrip(".").lower() for n in item["names"]]))
    # A connection the batch uses is checked whole here (the options left to the moment of use by
    # nested_option(required=False)), so it cannot fail after the first certificate was written.
    certificates = params["certificates"]
    if (params.get("account_key_vault_path") or any(i["issuer"] == "vault_pki" or i.get("vault_kv_path")
                                                    for i in certificates)) and _given(params, "vault", "url"):
        errors.extend(VAULT.problems(params["vault"], "vault"))
    if any(i["issuer"] == "acme" for i in certificates) and _given(params, "dns", "server"):
        errors.extend(DNS.problems(params["dns"], "dns"))
    errors.raise_if_any()
    return items


class _Vault:
    """The one Vault session of a run, logged in on first use."""

    def __init__(self, new_client):
        self.new_client = new_client
        self.client = None

    def __call__(self):
        if self.client is None:
            self.client = self.new_client().connect()
        return self.client


def _stored(item, vault, params):
    """(fullchain, key) as stored now: from the files, else from Vault KV."""
    files = paths(item)
    if files:
        return _read(files["fullchain"]), _read(files["key"])
    data = vault_pki.kv_read(vault(), params["kv_mount"], item["vault_kv_path"]) or {}
    return data.get("fullchain"), data.get("private_key")


def converge(params, check_mode, diff, clients, set_attributes):
    """The certificate module's work on its validated `params`; returns the module's result.

    clients: {"vault": f(), "dns": f(), "acme": f(account_key)}, each returning a client with nothing
    sent yet; a client is built only when a certificate needs its backend. set_attributes(args,
    changed): AnsibleModule.set_fs_attributes_if_different, for owner, group and mode of the files."""
    items = validate(params)
    run = _Run(check_mode, clients, set_attributes)
    try:
        return _converge(run, params, items, run.vault, diff)
    finally:
        if run.vault.client is not None:
            run.vault.client.close()


class _Run:
    """What one run works with besides its params: check mode, the clients, the file attribute setter."""

    def __init__(self, check_mode, clients, set_attributes):
        self.check_mode, self.clients, self.set_attributes = check_mode, clients, set_attributes
        self.vault = _Vault(clients["vault"])


# Vault KV reads in flight at once: each certificate is its own secret (Vault has no bulk read).
KV_READERS = 8


def _stored_all(items, vault, params):
    """[_stored(item)...] in order, the Vault reads KV_READERS at a time after one login."""
    if any(not paths(item) for item in items):
        vault()  # log in once, before the reads share the client
    return bounded_map_or_raise(lambda item: _stored(item, vault, params), items, KV_READERS)


def _converge(run, params, items, vault, diff):
    results, todo, kv_sync = [], [], []
    for item, (fullchain, key) in zip(items, _stored_all(items, vault, params)):
        files = paths(item)
        reason = logic.renewal_reason(fullchain, item["names"], item["key_type"], item["key_size"],
                                      params["renew_fraction"], item["force"], days=params["renew_days"])
        if reason is None and not (key and logic.key_matches(key, fullchain)):
            reason = "the private key is missing or does not match the certificate"
        before = logic.cert_info(fullchain) if fullchain and reason != "the stored certificate is unreadable" else None
        entry = {"name": item["name"], "names": item["names"], "fullchain_path": files.get("fullchain"),
                 "key_path": files.get("key"), "vault_kv_path": item.get("vault_kv_path"), "reason": reason,
                 "action": "unchanged" if reason is None else ("renewed" if before else "issued")}
        if before:
            entry.update(serial=before["serial"], not_after=before["not_after"])
        results.append((item, entry, before))
        if reason:
            todo.append((item, entry))
        elif files and item.get("vault_kv_path"):
            stored = vault_pki.kv_read(vault(), params["kv_mount"], item["vault_kv_path"]) or {}
            if stored.get("fullchain") != fullchain or stored.get("private_key") != key:
                kv_sync.append((item, key, fullchain))
    account_created = False
    acme_todo = [(i, e) for i, e in todo if i["issuer"] == "acme"]
    changed = bool(todo or kv_sync)
    if acme_todo and not params.get("account_key_vault_path") and not os.path.exists(params["account_key_path"] or ""):
        changed = True
    if not run.check_mode:
        for item, key, fullchain in kv_sync:
            _store_kv(vault, params, item, key, fullchain)
        account_created = _issue_all(run, params, vault, todo)
    for item, _entry, _before in results:
        if not run.check_mode and item.get("path") and os.path.isdir(item["path"]):
            for path in paths(item).values():
                if os.path.exists(path):
                    changed |= _attributes(run, item, path)
    result = {"changed": changed, "certificates": [e for _i, e, _b in results], "account_key_created": account_created}
    if diff:
        result["diff"] = {"before": dict((e["name"], _summary(b)) for _i, e, b in results if e["reason"]),
                          "after": dict((e["name"], {"serial": e.get("serial") if not run.check_mode else
                                                     "(new)", "names": e["names"]}) for _i, e, _b in results
                                        if e["reason"])}
    return result


# ACME orders in flight at once: an order mostly waits (the CA validates its challenges, the client
# polls the authorizations and the order about once a second), so the waits overlap.
ACME_ORDERS = 8


def _issue_all(run, params, vault, todo):
    """Issue and store every certificate of `todo` ([(item, entry)]); returns whether the ACME account
    key was created. Vault PKI signs one after the other (one request each); ACME orders run
    ACME_ORDERS at a time, in waves whose orders share no challenge name (publishing a challenge
    replaces its name's TXT RRset). Each certificate is stored as soon as it is issued, so an order
    that fails (raised once the others of its wave ended; later waves are not started) loses none
    that was issued."""
    stores = threading.Lock()

    def issued(item, entry, key, fullchain):
        key_text = logic.key_pem(key)
        with stores:
            if paths(item):
                _store(run, item, key_text, fullchain)
            if item.get("vault_kv_path"):
                _store_kv(vault, params, item, key_text.decode(), fullchain)
        info = logic.cert_info(fullchain)
        entry.update(serial=info["serial"], not_after=info["not_after"])

    for item, entry in todo:
        if item["issuer"] == "vault_pki":
            key = logic.new_key(item["key_type"], item["key_size"])
            fullchain = vault_pki.sign(vault(), params["pki_mount"], item["pki_role"] or params["pki_role"],
                                       logic.csr_pem(key, item["names"]), item["names"], item.get("ttl"))
            issued(item, entry, key, fullchain)
    acme_todo = [(item, entry) for item, entry in todo if item["issuer"] == "acme"]
    if not acme_todo:
        return False
    if any(item.get("vault_kv_path") for item, _entry in acme_todo):
        vault()  # log in once, before the orders' threads share the client
    sessions = _AcmeSessions(run, params, vault)

    def order(pair):
        item, entry = pair
        client, dns_client, account_key = sessions.get()
        key = logic.new_key(item["key_type"], item["key_size"])
        csr = logic.csr_pem(key, item["names"])
        issued(item, entry, key, issue(client, DNSChallenges(dns_client, params["zones"]), account_key, csr,
                                       item["names"]))

    for wave in order_waves(acme_todo):
        _results, _done, error = bounded_map(order, wave, ACME_ORDERS)
        if error is not None:
            raise error
    return sessions.created


def order_waves(pairs):
    """[(item, entry)] in waves of orders whose certificates share no challenge name (a wildcard's is
    its base name's), keeping their order; usually one wave."""
    waves = []
    for pair in pairs:
        names = set(name[2:] if name.startswith("*.") else name for name in pair[0]["names"])
        for wave, taken in waves:
            if not names & taken:
                wave.append(pair)
                taken.update(names)
                break
        else:
            waves.append(([pair], names))
    return [wave for wave, _taken in waves]


class _AcmeSessions:
    """An ACME client and a DNS client per thread, all signing as the one account registered (or
    found) when the first session is made, here in the calling thread."""

    def __init__(self, run, params, vault):
        (client, self.account_key), self.created = _acme_session(run, params, vault)
        self.run, self.account = run, client.acme.net.account
        self.local = threading.local()

    def get(self):
        session = getattr(self.local, "session", None)
        if session is None:
            client = self.run.clients["acme"](self.account_key)
            client.acme.net.account = self.account
            session = self.local.session = (client, self.run.clients["dns"](), self.account_key)
        return session


def _acme_session(run, params, vault):
    """(ACME client signing as the account, account key), and whether the key was created.
    The account key comes from Vault KV (account_key_vault_path, created there when missing) or a file."""
    if params.get("account_key_vault_path"):
        stored = vault_pki.kv_read(vault(), params["kv_mount"], params["account_key_vault_path"]) or {}
        created = not stored.get("private_key")
        if created:
            stored = {"private_key": new_account_key_pem()}
            vault_pki.kv_write(vault(), params["kv_mount"], params["account_key_vault_path"], stored)
        account_key = account_key_from_pem(stored["private_key"])
    else:
        account_key, created = load_or_create_account_key(params["account_key_path"])
    client = run.clients["acme"](account_key)
    ensure_account(client, params.get("contact"))
    return (client, account_key), created


def _store_kv(vault, params, item, key, fullchain):
    info = logic.cert_info(fullchain)
    vault_pki.kv_write(vault(), params["kv_mount"], item["vault_kv_path"], {
        "fullchain": fullchain, "private_key": key if isinstance(key, str) else key.decode(),
        "serial": info["serial"], "not_after": info["not_after"], "names": ",".join(info["names"])})


def _summary(info):
    if not info:
        return None
    return {"serial": info["serial"], "names": info["names"], "not_after": info["not_after"]}


def _store(run, item, key_pem, fullchain):
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
        _attributes(run, item, tmp, final=files[kind])
        os.replace(tmp, files[kind])


def _attributes(run, item, path, final=None):
    mode = item["mode"] if (final or path).endswith(".key") else "0644"
    args = {"path": path, "owner": item["owner"], "group": item["group"], "mode": mode,
            "attributes": None, "secontext": [None, None, None]}
    return run.set_attributes(args, False)
