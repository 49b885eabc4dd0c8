# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Account passwords kept in Vault KV v2 and applied to LDAP, rotated in two phases.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Vault is the source of truth. One KV v2 secret per account holds
  password          the current password (what LDAP has once a run finished)
  rotated_at        when it became current (ISO 8601, UTC)
  ldap_changed      the entry's pwdChangedTime right after we set it (promoted versions)
  pending_password  only between the phases of a rotation
A rotation (or a first password of an account that already has one) runs in three phases over
the whole batch:
  1. pending:  write a version with pending_password (check-and-set on the version read)
  2. applied:  set pending_password in LDAP (Password Modify), read pwdChangedTime back
  3. promoted: write a version with password = the pending one and no pending_password
then the custom metadata (owner, project, rotation_period_days, rotated_at).
A first password for an account that has none yet (no pwdChangedTime, no secret) has no old
password to keep working, so it needs no pending version: phase 1 writes it as the current
password right away (check-and-set 0) but UNCONFIRMED, phase 2 applies it, and phase 3 writes
only the custom metadata with the confirmation (ldap_changed and applied_version, the version
it confirms): two Vault writes instead of three. A re-applied password is confirmed the same
way (no new version). A version without a confirmation is re-applied by the next run, and so
is a version written by hand (an operator fixing a password writes it to Vault): its password
is applied as it is, never replaced by a generated one (see written_by_module()).
A run killed anywhere leaves either no pending (nothing happened, or all done), a pending
version, which the next run applies and promotes before anything else, or an unconfirmed
current version, which the next run re-applies. Whether LDAP still holds the current password
is decided from Vault (the confirmed pwdChangedTime against the entry's), never by binding
with it (failed binds lock accounts).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import secrets
import string
import time

from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems, item_path
from ansible_collections.esa.s2p.plugins.module_utils.core.concurrency import bounded_map
from ansible_collections.esa.s2p.plugins.module_utils.ldap.entries import CREDENTIAL_RECORD
from ansible_collections.esa.s2p.plugins.module_utils.ldap.pool import LDAPPool
from ansible_collections.esa.s2p.plugins.module_utils.ldap.sync import read_by_name
from ansible_collections.esa.s2p.plugins.module_utils.vault.kv_batch import read_many

CHARACTER_CLASSES = {
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
    "symbols": "-_.:,+=@%!",
}
MIN_LENGTH, MAX_LENGTH = 16, 256
PHASES = ("pending", "applied", "promoted")
# Where an account's credential lives, recorded on its LDAP entry before its password changes: one
# value of labeledURI, "vault:<mount>/<path> esa.s2p.credential". A run naming another path for
# the account is refused, so an account never gets a second source of truth.
RECORD_ATTRIBUTE, RECORD_LABEL = "labeledURI", CREDENTIAL_RECORD[1].strip()
# Test hook: with _S2P_CREDENTIAL_PAUSE_AT=<phase> the module writes "<phase> <pid>" to
# _S2P_CREDENTIAL_PAUSE_FILE and sleeps right after that phase, so a test can kill it there.
# With _S2P_CREDENTIAL_RESUME_FILE set, it carries on as soon as that file exists (a module
# process that outlived its controller, see tests/integration/test_credential_stale_run.py).
PAUSE_AT, PAUSE_FILE = "_S2P_CREDENTIAL_PAUSE_AT", "_S2P_CREDENTIAL_PAUSE_FILE"
RESUME_FILE = "_S2P_CREDENTIAL_RESUME_FILE"


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def generate_password(length, classes):
    """A random password of `length` with at least one character of each class."""
    alphabet = "".join(CHARACTER_CLASSES[c] for c in classes)
    while True:
        candidate = "".join(secrets.choice(alphabet) for _i in range(length))
        if all(any(ch in CHARACTER_CLASSES[c] for ch in candidate) for c in classes):
            return candidate


def validate(items, base_dn, length, classes):
    """Normalised credentials, or ValidationError listing every problem of the batch."""
    errors, out, seen = Problems(), [], {}
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        errors.add("length", "must be from %d to %d, got %d" % (MIN_LENGTH, MAX_LENGTH, length))
    if not classes or len(classes) > length:
        errors.add("characters", "list at least one class of %s" % ", ".join(sorted(CHARACTER_CLASSES)))
    for index, item in enumerate(items):
        uid = item.get("uid")
        where = item_path("credentials", index, uid)
        try:
            dn = naming.ldap_dn(item.get("kind") or "service", uid, base_dn)
        except naming.NamingError as exc:
            errors.add(where + ".uid", exc.message)
            dn = None
        path = item.get("path")
        bad_path = naming.kv_path_error(path)
        if bad_path:
            errors.add(where + ".path", bad_path)
        elif path in seen:
            errors.add(where + ".path", "%s is already used by %s" % (path, seen[path]))
        else:
            seen[path] = where
        period = item.get("rotation_period_days")
        if period is not None and (isinstance(period, bool) or not isinstance(period, int) or period < 1):
            errors.add(where + ".rotation_period_days", "must be a whole number of days >= 1, got %r" % (period,))
        out.append(dict(item, dn=dn, where=where))
    errors.raise_if_any()
    return out


def wanted_metadata(item, data, confirmation=None):
    """The custom metadata of a credential (plus `confirmation`, see confirmation()); Vault refuses
    empty values, so unset ones are left out."""
    wanted = {"owner": item.get("owner"), "project": item.get("project"),
              "rotation_period_days": str(item["rotation_period_days"]), "rotated_at": data.get("rotated_at"),
              "account": item["dn"]}
    wanted.update(confirmation or {})
    return dict((key, value) for key, value in wanted.items() if value)


def confirmation(kv):
    """{ldap_changed, applied_version} from the custom metadata when they confirm the newest
    version (a first password written without a pending phase, or a re-applied one), else {}."""
    meta = (kv or {}).get("custom_metadata") or {}
    if meta.get("ldap_changed") and meta.get("applied_version") == str((kv or {}).get("version")):
        return {"ldap_changed": meta["ldap_changed"], "applied_version": meta["applied_version"]}
    return {}


def written_by_module(kv):
    """True when the newest version is one this module wrote: its data names that version
    (written_version), or, written before that stamp existed, it has rotated_at and ldap_changed.
    A version written by hand, with `kv put` (a password alone) or `kv patch` (a new password over a
    copy of the module's data, the stamp included, now naming an older version), is not."""
    data = (kv or {}).get("data") or {}
    if "written_version" in data:
        return data["written_version"] == str((kv or {}).get("version"))
    return bool(data.get("rotated_at") and data.get("ldap_changed"))


def confirmed_change(kv):
    """The entry's pwdChangedTime Vault vouches for (LDAP got the current password then), or None:
    a confirmation of the newest version wins over the one a promoted version carries; a version
    written by hand carries none of its own, so its password is applied by the next run."""
    carried = ((kv or {}).get("data") or {}).get("ldap_changed") if written_by_module(kv) else None
    return confirmation(kv).get("ldap_changed") or carried or None


def rotated_at(kv):
    """When the current password was set, as written in its version (rotated_at), else, for a
    password written by hand without it, the version's creation time: its rotation period counts
    from then."""
    data = (kv or {}).get("data") or {}
    created = (kv or {}).get("created_time") or ""
    return data.get("rotated_at") or (created[:19] + "Z" if len(created) >= 19 else None)


def decide(item, kv, changed_time, moment, force):
    """The action for one credential: create, complete, rotate, reapply, metadata or none.

    kv: what kv_read returned (None: no secret); changed_time: the entry's pwdChangedTime
    (None when never set); the entry itself must exist (checked by the caller)."""
    data = (kv or {}).get("data")
    if not data or not (data.get("password") or data.get("pending_password")):
        return "create"
    if data.get("pending_password"):
        return "complete"
    rotated = parse_iso(rotated_at(kv))
    if force or item.get("force") or rotated is None or \
            moment - rotated >= datetime.timedelta(days=item["rotation_period_days"]):
        return "rotate"
    if changed_time is None or confirmed_change(kv) != changed_time:
        return "reapply"
    if (kv.get("custom_metadata") or {}) != wanted_metadata(item, dict(data, rotated_at=rotated_at(kv)),
                                                            confirmation(kv)):
        return "metadata"
    return "none"


def pending_data(kv, password, moment):
    """Phase 1: the current data plus the new password as pending."""
    data = dict((kv or {}).get("data") or {})
    data.update(pending_password=password, pending_since=iso(moment))
    return data


def direct_data(item, password, moment, version):
    """Phase 1 of a first password without a pending phase: current at once, not yet confirmed.
    `version`: the version it becomes (the check-and-set version + 1), see written_by_module()."""
    return {"password": password, "rotated_at": iso(moment), "account": item["dn"], "written_version": str(version)}


def promoted_data(item, password, moment, changed_time, version):
    """Phase 3: the pending password becomes current; nothing pending is left. `version`: the
    version it becomes (the pending version + 1)."""
    return {"password": password, "rotated_at": iso(moment), "ldap_changed": changed_time or "",
            "account": item["dn"], "written_version": str(version)}


def pause_at(phase):
    """The crash-test hook (see PAUSE_AT): a no-op unless a test set it for this phase."""
    if os.environ.get(PAUSE_AT) == phase:
        marker = os.environ.get(PAUSE_FILE)
        if marker:  # written whole, then renamed: the test must never read a half-written file
            with open(marker + ".tmp", "w") as handle:
                handle.write("%s %d" % (phase, os.getpid()))
            os.replace(marker + ".tmp", marker)
        resume = os.environ.get(RESUME_FILE)
        deadline = time.time() + 600
        while time.time() < deadline and not (resume and os.path.exists(resume)):
            time.sleep(0.1)


# --- the run over both backends (clients passed in: this file imports neither backend) ------

CHANGES = ("create", "complete", "rotate", "reapply")
# Vault requests in flight at once (below requests' default pool of 10 connections per host;
# measured on the lab: 8 beat 4, 16 and 32).
WORKERS = 8


def parallel(func, items):
    """bounded_map with WORKERS: (results in order, items that succeeded, first error or None)."""
    return bounded_map(func, items, WORKERS)


class CredentialRunError(S2PError):
    """A write failed part way; `done` says what was written, `error` is the backend error."""

    def __init__(self, error, done):
        super(CredentialRunError, self).__init__(str(error))
        self.error = error
        self.done = done

    def __str__(self):
        return self.message

    def as_fail_kwargs(self):
        return {"msg": "%s (done before the failure: %s; the next run completes any pending rotation)"
                       % (self.error, ", ".join(self.done) or "nothing"),
                "changed": bool(self.done)}


class StaleRun(S2PError):
    """The entry's password changed after this run read it: another run got there first."""


def record_value(mount, path):
    return "vault:%s/%s %s" % (mount, path, RECORD_LABEL)


def recorded_paths(values):
    """The credential locations of an entry's labeledURI values (only those with our label)."""
    out = []
    for value in values or []:
        uri, _sep, label = value.partition(" ")
        if label.strip() == RECORD_LABEL and uri.startswith("vault:"):
            out.append(uri[len("vault:"):])
    return out


def plan(items, kvs, changed_times, moment, force, check_mode=False, mount=None, records=None):
    """One plan per item; ValidationError when an account does not exist, or has its credential
    recorded at another path (records: {dn: [mount/path]}), before any write.

    In check mode a missing account is planned as the account esa.s2p.ldap_account creates
    earlier in the same run would be (no password yet, so no pwdChangedTime): the plan is then
    exactly what the real run decides once the account exists, and p["account_missing"] is True.
    """
    errors, plans = Problems(), []
    for item, kv in zip(items, kvs):
        missing = item["dn"] not in changed_times
        if missing and not check_mode:
            errors.add(item["where"] + ".uid", "the account %s does not exist; create it with esa.s2p.ldap_account "
                                               "first" % item["dn"])
            continue
        changed_time = changed_times.get(item["dn"])
        recorded = (records or {}).get(item["dn"]) or []
        here = "%s/%s" % (mount, item["path"])
        if recorded and here not in recorded:
            errors.add(item["where"] + ".path", "the account %s has its credential at %s (recorded on the entry's %s); "
                                                "refusing a second one at %s. To move it, delete that %s value and "
                                                "the old secret, then run with the new path"
                       % (item["dn"], ", ".join(recorded), RECORD_ATTRIBUTE, here, RECORD_ATTRIBUTE))
            continue
        action = decide(item, kv, changed_time, moment, force)
        record = mount is not None and here not in recorded
        plans.append({"item": item, "kv": kv, "changed_time": changed_time, "account_missing": missing,
                      "record": record, "action": "metadata" if action == "none" and record else action})
    errors.raise_if_any()
    return plans


def missing_accounts_warning(plans):
    """The check-mode warning for accounts that do not exist yet, or None."""
    missing = [p["item"]["dn"] for p in plans if p.get("account_missing")]
    if not missing:
        return None
    shown = ", ".join(missing[:5]) + (" and %d more" % (len(missing) - 5) if len(missing) > 5 else "")
    return ("check mode: %d account(s) do not exist yet (%s); predicted as created without a password by "
            "esa.s2p.ldap_account earlier in this run. A real run fails for an account that still does "
            "not exist when this task runs." % (len(missing), shown))


def apply_to_ldap(ldap, p):
    """Phase 2 for one account: re-read the entry's pwdChangedTime right before Password Modify and
    refuse (StaleRun) when it is no longer what this run planned from, so a run that stalled (a
    module process outliving its killed controller) never overwrites a password set after it read."""
    entry = ldap.read_entry(p["item"]["dn"], attributes=["pwdChangedTime"])
    now = ((entry or {}).get("pwdChangedTime") or [None])[0]
    if entry is None or now != p["changed_time"]:
        raise StaleRun("the password of %s was changed by someone else after this run read it (pwdChangedTime "
                       "%s, read as %s); not applied, not promoted" % (p["item"]["dn"], now, p["changed_time"]),
                       hint="Another run is converging the same account; run again when it is done")
    ldap.set_password(p["item"]["dn"], p["password"])


def execute(plans, pool, vault, mount, length, classes, moment, read_changed_times):
    """The three phases over the whole batch. pool: an LDAPPool on the module's connection;
    read_changed_times() re-reads {dn: pwdChangedTime}. Within each phase the accounts run
    concurrently; the order pending -> applied -> promoted holds for every account."""
    done = []
    try:
        work = [p for p in plans if p["action"] in CHANGES]
        fresh = []
        for p in work:  # phase 1: new passwords written to Vault before LDAP sees them
            kv = p["kv"]
            data = (kv or {}).get("data") or {}
            p["version"] = (kv or {}).get("version") or 0
            p["rotated_at"] = moment
            if p["action"] in ("create", "rotate"):
                p["password"] = generate_password(length, classes)
                # no password in LDAP and none in Vault: nothing to keep working, no pending phase
                p["direct"] = p["action"] == "create" and p["changed_time"] is None
                fresh.append(p)
            elif p["action"] == "complete":
                p["password"] = data["pending_password"]
            else:  # reapply: the current password, unchanged (also one written by hand)
                p["password"] = data["password"]
        for p in fresh:
            p["phase_one"] = phase_one_data(p, moment)
        versions, succeeded, error = parallel(
            lambda p: vault.kv_write(mount, p["item"]["path"], p["phase_one"], p["version"]), fresh)
        done.extend("%s %s" % ("current (unconfirmed)" if p["direct"] else "pending", p["item"]["path"])
                    for p in succeeded)
        if error:
            raise error
        for p, version in zip(fresh, versions):
            p["version"] = version
        pause_at("pending")
        # where each credential lives, on its entry: after Vault accepted the writes (a Vault error
        # leaves LDAP untouched), before the password changes
        _results, recorded, error = pool.map(lambda ldap, p: write_record(ldap, p, mount),
                                             [p for p in plans if p.get("record")])
        done.extend("record on %s" % p["item"]["dn"] for p in recorded)
        if error:
            raise error
        _results, applied, ldap_error = pool.map(apply_to_ldap, work)  # phase 2: applied
        done.extend("LDAP %s" % p["item"]["dn"] for p in applied)
        changed_times = read_changed_times() if applied else {}
        pause_at("applied")
        for p in applied:  # phase 3: promoted (check-and-set on our pending version) or confirmed, then metadata
            changed_time = changed_times.get(p["item"]["dn"])
            if p.get("direct") or p["action"] == "reapply":  # the version is current already: confirm it
                p["current"] = (p["phase_one"] if p.get("direct")
                                else dict(p["kv"]["data"], rotated_at=rotated_at(p["kv"])))
                p["confirm"] = {"ldap_changed": changed_time or "", "applied_version": str(p["version"])}
            else:
                p["data"] = promoted_data(p["item"], p["password"], p["rotated_at"], changed_time, p["version"] + 1)
                p["confirm"] = {}
        applied_ids = set(id(p) for p in applied)
        meta = [p for p in plans if id(p) in applied_ids or p["action"] == "metadata"]
        _results, _succeeded, error = parallel(lambda p: promote(vault, mount, p), meta)
        done.extend("current %s" % p["item"]["path"] for p in meta if p.get("promoted"))
        done.extend("confirmed %s" % p["item"]["path"] for p in meta if p.get("confirmed"))
        if ldap_error or error:
            raise ldap_error or error
        pause_at("promoted")
    except Exception as exc:
        if getattr(exc, "message", None) is None:  # not one of our errors: let it surface as is
            raise
        raise CredentialRunError(exc, done) from None


def phase_one_data(p, moment):
    """What phase 1 writes: the new password as current (unconfirmed) or as pending."""
    if p["direct"]:
        return direct_data(p["item"], p["password"], moment, p["version"] + 1)
    return pending_data(p["kv"], p["password"], moment)


def metadata_to_write(p):
    """The custom metadata phase 3 must write for plan `p`, or None when Vault already has exactly
    that (a promoted version carries its own ldap_changed; a confirmed one gets it here)."""
    data = p.get("data") or p.get("current") or dict(p["kv"]["data"], rotated_at=rotated_at(p["kv"]))
    wanted = wanted_metadata(p["item"], data, p["confirm"] if "confirm" in p else confirmation(p["kv"]))
    return None if wanted == ((p["kv"] or {}).get("custom_metadata") or {}) else wanted


def promote(vault, mount, p):
    """Phase 3 for one account (promote, then its metadata if it changes), or only the metadata
    (which confirms a version that is current already, or fixes drifted metadata)."""
    if "data" in p:
        vault.kv_write(mount, p["item"]["path"], p["data"], p["version"])
        p["promoted"] = True
    metadata = metadata_to_write(p)
    if metadata is not None:
        vault.kv_write_metadata(mount, p["item"]["path"], metadata)
        p["confirmed"] = bool(p.get("confirm"))


def current_password(p):
    """The password that is current after the run (for return_secret)."""
    if "password" in p:
        return p["password"]
    return ((p["kv"] or {}).get("data") or {}).get("password")


def write_record(ldap, p, mount):
    """Phase 0 for one account: add the record of where its credential lives to its entry."""
    ldap.modify(p["item"]["dn"], {RECORD_ATTRIBUTE: ("add", [record_value(mount, p["item"]["path"])])})


def account_states(ldap, items, base_dn):
    """({dn: pwdChangedTime or None}, {dn: [recorded mount/path]}) of the accounts that exist, read
    in one search per kind and 200 (see RECORD_ATTRIBUTE)."""
    times, records = {}, {}
    for kind in ("service", "person"):
        mine = [i for i in items if (i.get("kind") or "service") == kind]
        if not mine:
            continue
        found = read_by_name(ldap, kind, [i["uid"] for i in mine], base_dn,
                             attributes=["uid", "pwdChangedTime", RECORD_ATTRIBUTE])
        for item in mine:
            entry = found.get(item["uid"].lower())
            if entry is not None:
                times[item["dn"]] = (entry[1].get("pwdChangedTime") or [None])[0]
                records[item["dn"]] = recorded_paths(entry[1].get(RECORD_ATTRIBUTE))
    return times, records


def converge(params, check_mode, new_ldap, new_vault):
    """The credential module's work on its validated `params`: validate the whole batch, log in to
    Vault once (new_vault() -> a VaultClient, nothing sent yet), connect to LDAP (new_ldap()), read
    both, decide, and write unless check_mode. Returns (result, warnings): result has `changed`,
    `credentials` (the action per credential) and, with return_secret, `secrets`."""
    moment = now_utc()
    base_dn, mount = params["base_dn"], params["kv_mount"]
    items = validate(params["credentials"], base_dn, params["length"], params["characters"])
    with new_vault() as vault, new_ldap() as ldap, LDAPPool(ldap) as pool:
        kvs = read_many(vault, mount, [item["path"] for item in items], parallel)
        times, records = account_states(ldap, items, base_dn)
        plans = plan(items, kvs, times, moment, params["force"], check_mode=check_mode, mount=mount, records=records)
        changed = any(p["action"] != "none" for p in plans)
        if changed and not check_mode:
            execute(plans, pool, vault, mount, params["length"], params["characters"], moment,
                    lambda: account_states(ldap, items, base_dn)[0])
    result = dict(changed=changed, credentials=[dict(uid=p["item"]["uid"], path=p["item"]["path"], action=p["action"])
                                                for p in plans])
    if params["return_secret"]:
        result["secrets"] = dict((p["item"]["path"], current_password(p)) for p in plans)
    warning = missing_accounts_warning(plans)
    return result, [warning] if warning else []
