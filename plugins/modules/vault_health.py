#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_health
short_description: Check that Vault is reachable, initialised, unsealed, accepts our credentials and has the mounts
version_added: 0.1.0
description:
  - Reads C(sys/health), logs in once (token or AppRole), looks the token up (TTL and policies), and checks
    that every mount of O(mounts) exists with the expected type. Mounts are read from C(sys/mounts) when the
    token may, else from C(sys/internal/ui/mounts/<path>), which any token with access under the path can read.
  - Never fails because Vault is unhealthy; it returns RV(healthy) and one entry per check in
    RV(checks) so a preflight can report every backend at once. It fails only on invalid parameters.
options:
  mounts:
    description:
      - Secrets engines that must be mounted, as path to expected type.
      - Types are engine types (V(pki), V(transit)...), V(kv-v2) or V(kv-v1) for a KV engine of that version,
        or V(kv) for either.
    type: dict
    default: {}
extends_documentation_fragment:
  - esa.s2p.vault
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same checks in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
  action_group:
    support: full
    membership: [esa.s2p.vault]
author:
  - ESA S2P data-centre engineering
"""

EXAMPLES = r"""
- name: Check Vault with the automation AppRole
  esa.s2p.vault_health:
    url: https://vault.s2p.esa.int:8200
    auth_method: approle
    role_id: "{{ vault_role_id }}"
    secret_id: "{{ vault_secret_id }}"
    ca_cert: /etc/pki/s2p/ca.pem
    mounts:
      s2p: kv-v2
      pki: pki
  register: vault
"""

RETURN = r"""
healthy:
  description: True when every check passed.
  type: bool
  returned: always
checks:
  description: One entry per check, in the order they ran; checks after a failed step are not run.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: Check name (V(reachable), V(tls), V(initialised), V(unsealed), V(auth), V(mounts)).
      type: str
    ok:
      description: Whether the check passed.
      type: bool
    msg:
      description: What was found; when not ok, what to fix.
      type: str
  sample:
    - {name: unsealed, ok: false, msg: "Vault at https://127.0.0.1:18200 is sealed; unseal it (bao operator unseal)"}
version:
  description: Server version from C(sys/health), for example V(2.4.1).
  type: str
  returned: when Vault answered
token:
  description: The token's display_name, policies, ttl (seconds), renewable and expire_time.
  type: dict
  returned: when the login succeeded
mounts:
  description: Found mounts of O(mounts), path to type (V(kv v2), V(pki)).
  type: dict
  returned: when the login succeeded
"""

from ansible_collections.esa.s2p.plugins.module_utils._vault_client import (
    VaultError,
    describe_mount,
    mount_matches,
)
from ansible_collections.esa.s2p.plugins.module_utils._vault_module import vault_client, vault_module


def server_checks(client, checks, result):
    """reachable, tls, initialised, unsealed from sys/health; True when login may follow."""
    try:
        health = client.health()
    except VaultError as exc:
        if exc.check == "tls":
            checks.append(dict(name="reachable", ok=True, msg="%s accepts connections" % client.url))
        checks.append(dict(name=exc.check, ok=False, msg=str(exc)))
        return False
    result.update(version=health.get("version"), cluster_name=health.get("cluster_name"))
    checks.append(dict(name="reachable", ok=True, msg="%s answers (version %s)" % (client.url, health.get("version"))))
    if client.url.startswith("https://"):
        checks.append(dict(name="tls", ok=True, msg="certificate verified" if client.validate_certs
                           else "TLS without certificate validation (validate_certs=false)"))
    if not health.get("initialized"):
        checks.append(dict(name="initialised", ok=False, msg="Vault at %s is not initialised; initialise it "
                           "(bao operator init) and unseal it" % client.url))
        return False
    checks.append(dict(name="initialised", ok=True, msg="initialised"))
    if health.get("sealed"):
        checks.append(dict(name="unsealed", ok=False, msg="Vault at %s is sealed; unseal it with the unseal "
                           "key(s) (bao operator unseal)" % client.url))
        return False
    role = "standby" if health.get("standby") else "active"
    checks.append(dict(name="unsealed", ok=True, msg="unsealed, %s" % role))
    return True


def auth_check(client, result):
    client.connect()
    data = client.lookup_self()
    policies = sorted(set((data.get("policies") or []) + (data.get("identity_policies") or [])))
    result["token"] = dict(display_name=data.get("display_name"), policies=policies, ttl=data.get("ttl"),
                           renewable=data.get("renewable"), expire_time=data.get("expire_time"))
    ttl = data.get("ttl") or 0
    lifetime = "TTL %dm%02ds" % (ttl // 60, ttl % 60) if ttl else "no expiry"
    return dict(name="auth", ok=True, msg="%s login ok as %s; policies %s; %s" % (
        client.auth_method, data.get("display_name"), ", ".join(policies) or "none", lifetime))


def mount_check(client, expected, result):
    found, problems = {}, []
    for path, kind in sorted(expected.items()):
        try:
            facts = client.mount(path)
        except VaultError as exc:
            problems.append(str(exc))
            continue
        if facts is None:
            engine, _sep, version = kind.partition("-v")
            problems.append("mount %s/ not found; enable it (bao secrets enable -path=%s%s %s)" % (
                path.strip("/"), path.strip("/"), " -version=" + version if version else "", engine))
            continue
        found[facts["path"]] = describe_mount(facts)
        if not mount_matches(facts, kind):
            problems.append("mount %s is %s, expected %s; remount it or fix the expected type" % (
                facts["path"], describe_mount(facts), kind))
    result["mounts"] = found
    if problems:
        return dict(name="mounts", ok=False, msg="; ".join(problems))
    text = ", ".join("%s %s" % item for item in sorted(found.items()))
    return dict(name="mounts", ok=True, msg=text or "none expected")


def main():
    module = vault_module(dict(mounts=dict(type="dict", default={})), supports_check_mode=True)
    client = vault_client(module)
    checks, result = [], dict(changed=False)
    try:
        if server_checks(client, checks, result):
            checks.append(auth_check(client, result))
            checks.append(mount_check(client, module.params["mounts"], result))
    except VaultError as exc:
        checks.append(dict(name=exc.check if exc.check != "permission" else "auth", ok=False, msg=str(exc)))
    finally:
        client.close()
    module.exit_json(healthy=all(c["ok"] for c in checks), checks=checks, **result)


if __name__ == "__main__":
    main()
