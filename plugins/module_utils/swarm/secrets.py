# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Versions of stack secrets: their Docker names, and their values from Vault KV v2 (read, or
generated and written when missing). Pure logic: Vault is reached through callbacks.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Every new value of a secret gets a new Docker secret name (secrets are immutable, and a service
rolls out only when the name it refers to changes), but no name or label is ever derived from
the value by a plain hash: anyone who can run `docker secret ls` could check a guessed password
against it. So:
  - a Vault-sourced secret is named after its KV version:
    <stack>_<name>_v<version>-<8 hex of sha256(mount/path#field@version)>
    (a new Vault version is a new name; another path or field at the same version is another name);
  - a secret given as a value is named by HMAC-SHA256 keyed with `name_key`, a secret kept off the
    swarm (option secret_name_key); without a key, by PBKDF2-HMAC-SHA256 salted with the stack
    and secret name (slow to guess against, but give a key in production).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import secrets
import string

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import type_name

GENERATE_CHARSETS = {
    "alphanumeric": string.ascii_letters + string.digits,
    "hex": "0123456789abcdef",
    "urlsafe": string.ascii_letters + string.digits + "-_",
}
GENERATE_DEFAULTS = {"length": 32, "charset": "alphanumeric"}
GENERATE_LENGTH = (16, 256)
PBKDF2_ROUNDS = 200000
NAME_HASH = 12  # hex characters of a value secret's keyed hash in its name


def value_version(stack, name, value, name_key=None):
    """A secret given as a value: {name, docker_name, data}, named by a keyed hash of the value."""
    message = ("%s/%s\0%s" % (stack, name, value)).encode("utf-8")
    if name_key:
        digest = hmac.new(name_key.encode("utf-8"), message, hashlib.sha256).hexdigest()
    else:
        digest = hashlib.pbkdf2_hmac("sha256", value.encode("utf-8"), ("esa.s2p:%s/%s" % (stack, name)).encode(
            "utf-8"), PBKDF2_ROUNDS).hex()
    return {"name": name, "docker_name": "%s_%s_%s" % (stack, name, digest[:NAME_HASH]), "data": value}


def vault_docker_name(stack, name, mount, path, field, version):
    """Docker name of one KV version of a Vault-sourced secret (no part of it comes from the value)."""
    where = hashlib.sha256(("%s/%s#%s@%s" % (mount, path, field, version)).encode("utf-8")).hexdigest()[:8]
    return "%s_%s_v%s-%s" % (stack, name, version, where)


def check_generate(add, where, policy):
    """The normalised `generate` policy ({length, charset}) or None; problems go to add(where, text)."""
    if policy is None or policy is False:
        return None
    if policy is True:
        policy = {}
    if not isinstance(policy, dict):
        add(where, "must be a mapping with length and charset, got %s" % type_name(policy))
        return None
    policy = dict((k, v) for k, v in policy.items() if v is not None)
    unknown = sorted(set(policy) - set(GENERATE_DEFAULTS))
    if unknown:
        add(where, "unknown key(s) %s (known: length, charset)" % ", ".join(unknown))
    out = dict(GENERATE_DEFAULTS, **dict((k, v) for k, v in policy.items() if k in GENERATE_DEFAULTS))
    low, high = GENERATE_LENGTH
    if isinstance(out["length"], bool) or not isinstance(out["length"], int) or not low <= out["length"] <= high:
        add(where + ": length", "must be an integer from %d to %d, got %r" % (low, high, out["length"]))
    if out["charset"] not in GENERATE_CHARSETS:
        known = ", ".join(sorted(GENERATE_CHARSETS))
        add(where + ": charset", "must be one of %s, got %r" % (known, out["charset"]))
    return out


def generate_value(policy):
    """A new random value for a `generate` policy (the secrets module: a CSPRNG)."""
    alphabet = GENERATE_CHARSETS[policy["charset"]]
    return "".join(secrets.choice(alphabet) for _i in range(policy["length"]))


def vault_secrets(stacks):
    """(stack, secret) pairs of the normalised batch whose value is still to be read from Vault."""
    return [(stack, secret) for stack in stacks for secret in stack["secrets"].values()
            if secret.get("vault_path") and secret["data"] is None and not secret.get("generate_pending")]


def pending_generation(stacks):
    """(stack, secret) pairs whose Vault path does not exist yet and will be generated."""
    return [(stack, secret) for stack in stacks for secret in stack["secrets"].values()
            if secret.get("generate_pending")]


def _use_entry(stack, secret, mount, entry):
    """Give `secret` the value and version of a KV entry; the problem (text) when it has none usable."""
    data = entry.get("data")
    if data is None:
        return "the newest version (%s) is deleted or destroyed" % entry.get("version")
    value = data.get(secret["vault_field"])
    if value is None:
        return "no field %r (fields: %s)" % (secret["vault_field"], ", ".join(sorted(data)) or "none")
    if isinstance(value, (dict, list, bool)) or value == "":
        return "field %r must be non-empty text, got %s" % (secret["vault_field"], type_name(value))
    secret.update(data=str(value), vault_version=entry.get("version"), generate_pending=False,
                  docker_name=vault_docker_name(stack["name"], secret["name"], mount, secret["vault_path"],
                                                secret["vault_field"], entry.get("version")))
    return None


def fill_vault_secrets(stacks, mount, read):
    """Give every Vault-sourced secret its value: read(path) -> the KV v2 entry of kv_read (or None).

    A missing path with a `generate` policy is marked generate_pending, with the name of the version
    its creation (check-and-set 0) will have: version 1. Raises ValidationError naming each stack,
    secret and path that has no usable value. Values never appear in messages."""
    problems = Problems()
    for stack, secret in vault_secrets(stacks):
        where = "stack %s: secret %s: %s/%s" % (stack["name"], secret["name"], mount, secret["vault_path"])
        entry = read(secret["vault_path"])
        if entry is None and secret.get("generate"):
            secret.update(generate_pending=True, vault_version=1, docker_name=vault_docker_name(
                stack["name"], secret["name"], mount, secret["vault_path"], secret["vault_field"], 1))
            continue
        if entry is None:
            problems.add(where, "no such secret in Vault (write it first, e.g. with vault kv put, or give the "
                                "secret a generate policy)")
            continue
        problems.check(where, _use_entry(stack, secret, mount, entry))
    problems.raise_if_any()


def generate_missing(stacks, mount, write, read, hide):
    """Create the pending secrets in Vault; True when the batch must be planned again: a name differs
    from the one planned, or another run created a secret first (this run's plan must not say it
    generated it).

    write(path, data) creates version 1 with check-and-set 0 and returns its version, or None when
    another run created the path first; then read(path) gives that run's entry, which is used
    (the loser re-reads, so both runs deploy the same value). hide(value) is called before a new
    value is sent anywhere."""
    renamed, errors = False, []
    for stack, secret in pending_generation(stacks):
        planned = secret["docker_name"]
        value = generate_value(secret["generate"])
        hide(value)
        version = write(secret["vault_path"], {secret["vault_field"]: value})
        if version is not None:
            problem = _use_entry(stack, secret, mount, {"data": {secret["vault_field"]: value}, "version": version})
        else:
            entry = read(secret["vault_path"])
            problem = "it vanished right after another run created it" if entry is None else _use_entry(
                stack, secret, mount, entry)
        if problem:
            where = "stack %s: secret %s: %s/%s" % (stack["name"], secret["name"], mount, secret["vault_path"])
            errors.append("%s: %s" % (where, problem))
            continue
        # plan again when the name moved, or when another run wrote it (then this one generated nothing)
        renamed = renamed or secret["docker_name"] != planned or version is None
    if errors:
        raise S2PError("generating secrets in Vault: %s" % "; ".join(errors),
                       hint="Run again: the secrets created so far stay in Vault and are used")
    return renamed
