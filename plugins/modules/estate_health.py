#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: estate_health
short_description: Check every backend of the estate at once, in one module run
version_added: 0.1.0
description:
  - Runs the checks of M(esa.s2p.vsphere_health), M(esa.s2p.ldap_health), M(esa.s2p.vault_health),
    M(esa.s2p.dns_health), M(esa.s2p.acme_health) and M(esa.s2p.swarm_health) for the backends in
    O(backends), each in its own thread, so the whole check takes as long as the slowest backend and
    costs one module run instead of six (the preflight of C(site.yml), role C(esa.s2p.preflight)).
  - Never fails because a backend is unhealthy; it returns RV(healthy) and, per backend, one entry per
    check. A backend whose check cannot run at all (its connection lacks a required option, its Python
    library is missing, its client raised) is reported as a failed check named V(module) and the other
    backends are still checked.
  - It fails only on options Ansible itself refuses (a wrong type or choice); the role
    C(esa.s2p.preflight) then runs the backends' own health modules one by one, which names the backend.
options:
  backends:
    description:
      - The backends to check, reported in this order.
    type: list
    elements: str
    choices: [vsphere, ldap, vault, dns, acme, swarm]
    default: [vsphere, ldap, vault, dns, acme, swarm]
  vsphere_datacenters:
    description:
      - Datacenters that must exist in vCenter (O(esa.s2p.vsphere_health#module:datacenters)).
    type: list
    elements: str
    default: []
  vsphere_vms:
    description:
      - VMs to be cloned, whose templates must exist and not be larger than the VMs' disks
        (O(esa.s2p.vsphere_health#module:vms)).
    type: list
    elements: dict
    default: []
  ldap_base_dn:
    description:
      - The directory's base entry (O(esa.s2p.ldap_health#module:base_dn)); required when O(backends) has V(ldap).
      - If not set, the environment variable E(LDAPBASE) is used.
    type: str
  ldap_required_entries:
    description:
      - Entries that must exist, relative to O(ldap_base_dn) or as full DNs.
    type: list
    elements: str
    default: []
  vault_mounts:
    description:
      - Mounts that must exist, path to type (O(esa.s2p.vault_health#module:mounts)).
    type: dict
    default: {}
  dns_zones:
    description:
      - Zones whose SOA the primary must answer with the TSIG key accepted.
    type: list
    elements: str
    default: [s2p.esa.int]
extends_documentation_fragment:
  - esa.s2p.vsphere.optional_connection
  - esa.s2p.ldap.optional_connection
  - esa.s2p.vault.optional_connection
  - esa.s2p.dns.optional_connection
  - esa.s2p.acme.optional_connection
  - esa.s2p.swarm.optional_connection
  - esa.s2p.attributes.read_only
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check every backend before a deployment
  esa.s2p.estate_health:
    vsphere: "{{ s2p_vsphere_connection }}"
    ldap: "{{ s2p_ldap_connection }}"
    vault: "{{ s2p_vault_connection }}"
    dns: "{{ s2p_dns_connection }}"
    acme: "{{ s2p_acme_connection }}"
    swarm: "{{ s2p_swarm_connection }}"
    vsphere_datacenters: [ESOC, ESEC, ESRIN]
    ldap_base_dn: dc=s2p,dc=esa,dc=int
    ldap_required_entries: [ou=people, ou=services, ou=groups]
    vault_mounts: {s2p: kv-v2, pki: pki}
    dns_zones: [s2p.esa.int]
  register: estate

- name: Stop when a backend is not usable
  ansible.builtin.assert:
    that: estate.healthy
    fail_msg: "{{ estate.backends | rejectattr('healthy') | map(attribute='backend') | list }}"
"""

RETURN = r"""
healthy:
  description: True when every check of every backend passed.
  type: bool
  returned: always
backends:
  description: One entry per backend of O(backends), in that order (the report of the role C(esa.s2p.preflight)).
  type: list
  elements: dict
  returned: always
  contains:
    backend:
      description: The backend's name.
      type: str
    healthy:
      description: True when every check of this backend passed.
      type: bool
    checks:
      description: The checks of the backend's health module, or one check V(module) when they could not run.
      type: list
      elements: dict
  sample:
    - {backend: ldap, healthy: false, checks: [{name: reachable, ok: false, msg: "cannot reach LDAP server ..."}]}
facts:
  description: Per backend, the other values its health module returns (vSphere V(version), V(datacenters)...).
  type: dict
  returned: always
"""

import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.esa.s2p.plugins.module_utils.acme import adapter as acme_adapter
from ansible_collections.esa.s2p.plugins.module_utils.acme import client as acme_client
from ansible_collections.esa.s2p.plugins.module_utils.core.adapter import strict_module
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import MissingLibrary, S2PError, ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.core.health import check
from ansible_collections.esa.s2p.plugins.module_utils.dns import adapter as dns_adapter
from ansible_collections.esa.s2p.plugins.module_utils.dns import client as dns_client
from ansible_collections.esa.s2p.plugins.module_utils.ldap import adapter as ldap_adapter
from ansible_collections.esa.s2p.plugins.module_utils.ldap import client as ldap_client
from ansible_collections.esa.s2p.plugins.module_utils.swarm import adapter as swarm_adapter
from ansible_collections.esa.s2p.plugins.module_utils.swarm import client as swarm_client
from ansible_collections.esa.s2p.plugins.module_utils.vault import adapter as vault_adapter
from ansible_collections.esa.s2p.plugins.module_utils.vault import client as vault_client
from ansible_collections.esa.s2p.plugins.module_utils.vsphere import adapter as vsphere_adapter
from ansible_collections.esa.s2p.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.template_check import templates_check_of, validate_vms

ADAPTERS = {"vsphere": vsphere_adapter.ADAPTER, "ldap": ldap_adapter.ADAPTER, "vault": vault_adapter.ADAPTER,
            "dns": dns_adapter.ADAPTER, "acme": acme_adapter.ADAPTER, "swarm": swarm_adapter.ADAPTER}


def _client(params, backend):
    """The backend's client (nothing sent yet); its class raises MissingLibrary without the library."""
    return ADAPTERS[backend].client_from_nested(params[backend], backend)


def _vsphere(params):
    groups = validate_vms(params["vsphere_vms"])  # before the connection: bad input is not a backend problem
    return vsphere_client.health_report(_client(params, "vsphere"), datacenters=params["vsphere_datacenters"],
                                        templates_check=templates_check_of(groups) if groups else None)


def _ldap(params):
    if not params["ldap_base_dn"]:
        raise ValidationError(["ldap_base_dn is required to check LDAP (or set LDAPBASE)"])
    return ldap_client.health_report(_client(params, "ldap"), params["ldap_base_dn"], params["ldap_required_entries"])


def _dns(params):
    if not params["dns_zones"]:
        raise ValidationError(["dns_zones must name at least one zone"])
    return dns_client.health_report(_client(params, "dns"), params["dns_zones"])


CHECKS = {
    "vsphere": _vsphere,
    "ldap": _ldap,
    "vault": lambda params: vault_client.health_report(_client(params, "vault"), mounts=params["vault_mounts"]),
    "dns": _dns,
    "acme": lambda params: acme_client.health_report(_client(params, "acme")),
    "swarm": lambda params: swarm_client.health_report(_client(params, "swarm")),
}


def _could_not_run(backend, why):
    message = "the %s health check could not run: %s" % (backend, why)
    return {"healthy": False, "checks": [check("module", False, message)]}


def check_backend(params, backend):
    """The health report of one backend; an error that keeps its checks from running becomes a failed
    check `module` (the report of the other backends must not depend on it)."""
    started = time.monotonic()
    try:
        report = CHECKS[backend](params)
    except MissingLibrary as exc:
        report = _could_not_run(backend, missing_required_lib(exc.library))
    except ValidationError as exc:
        report = _could_not_run(backend, "; ".join(exc.errors))
    except S2PError as exc:
        report = _could_not_run(backend, str(exc))
    except Exception as exc:  # pylint: disable=broad-except  # a bug in one check must not hide the others
        report = _could_not_run(backend, "%s: %s" % (type(exc).__name__, exc))
    report["seconds"] = round(time.monotonic() - started, 3)
    return report


def check_backends(params):
    """Every backend of params["backends"] at once: ({healthy, backends, facts})."""
    backends = list(dict.fromkeys(params["backends"]))
    with ThreadPoolExecutor(max_workers=max(1, len(backends))) as pool:
        reports = list(pool.map(lambda backend: check_backend(params, backend), backends))
    entries, facts = [], {}
    for backend, report in zip(backends, reports):
        entries.append({"backend": backend, "healthy": bool(report["healthy"]), "checks": report["checks"]})
        facts[backend] = dict((key, value) for key, value in report.items() if key not in ("healthy", "checks"))
    return {"healthy": all(entry["healthy"] for entry in entries), "backends": entries, "facts": facts}


def main():
    spec = dict(
        backends=dict(type="list", elements="str", choices=list(ADAPTERS), default=list(ADAPTERS)),
        vsphere_datacenters=dict(type="list", elements="str", default=[]),
        vsphere_vms=dict(type="list", elements="dict", default=[]),
        ldap_base_dn=dict(type="str", fallback=(env_fallback, ["LDAPBASE"])),
        ldap_required_entries=dict(type="list", elements="str", default=[]),
        vault_mounts=dict(type="dict", default={}),
        dns_zones=dict(type="list", elements="str", default=["s2p.esa.int"]),
    )
    spec.update((backend, adapter.nested_option(required=False)) for backend, adapter in ADAPTERS.items())
    module = strict_module(spec, supports_check_mode=True)
    module.exit_json(changed=False, **check_backends(module.params))


if __name__ == "__main__":
    main()
