#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vsphere_vm_info
short_description: List S2P virtual machines with their site, segment, project, environment, power and addresses
version_added: 0.2.0
description:
  - Reads every VM of vCenter with ONE property-collector call (the number of API round trips does not grow with
    the number of VMs) and returns those matching all the given filters.
  - S2P attributes come from the custom attributes C(s2p.site), C(s2p.segment), C(s2p.project),
    C(s2p.environment) and C(s2p.owner) that M(esa.s2p.vsphere_vm) sets.
options:
  names:
    description: Only these VM names.
    type: list
    elements: str
  datacenter:
    description: Only VMs in this datacenter.
    type: str
  folder:
    description: Only VMs at or below this folder path, for example V(/ESOC/vm/s2p/pd).
    type: str
  site:
    description: Only VMs of this site (custom attribute C(s2p.site)).
    type: str
  segment:
    description: Only VMs of this segment.
    type: str
  project:
    description: Only VMs of this project.
    type: str
  environment:
    description: Only VMs of this environment.
    type: str
  power:
    description: Only VMs in this power state.
    type: str
    choices: [poweredon, poweredoff, suspended]
  managed_only:
    description: Only VMs carrying the S2P marker (made by M(esa.s2p.vsphere_vm)).
    type: bool
    default: true
extends_documentation_fragment:
  - esa.s2p.vsphere
  - esa.s2p.vsphere.action_group
attributes:
  check_mode:
    support: full
    description: Read-only; check mode runs the same read.
  diff_mode:
    support: none
    description: Nothing is changed.
  idempotent:
    support: full
    description: Read-only, never reports a change.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Running OPE VMs of the NEO Coordination Centre
  esa.s2p.vsphere_vm_info:
    project: neocc
    environment: ope
    power: poweredon
  register: neocc
"""

RETURN = r"""
vms:
  description: The matching VMs, sorted by name.
  type: list
  elements: dict
  returned: always
  contains:
    name: {description: VM name., type: str}
    instance_uuid: {description: vCenter instance UUID., type: str}
    moid: {description: Managed object id., type: str}
    datacenter: {description: Datacenter name., type: str}
    folder: {description: Inventory path of the VM's folder., type: str}
    managed: {description: Whether the VM carries the S2P marker., type: bool}
    build_state: {description: "V(building) while half-made, V(ready) once complete, null when unmarked.", type: str}
    power: {description: "V(poweredon), V(poweredoff) or V(suspended).", type: str}
    cpus: {description: Virtual CPUs., type: int}
    memory_mb: {description: Memory in MB., type: int}
    hostname: {description: Host name reported by the guest., type: str}
    ip: {description: Primary IPv4 address reported by the guest., type: str}
    ips: {description: Every address reported by the guest., type: list, elements: str}
    site: {description: S2P site., type: str}
    segment: {description: S2P segment., type: str}
    project: {description: S2P project., type: str}
    environment: {description: S2P environment., type: str}
    owner: {description: Owner recorded at creation., type: str}
"""

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.inventory import (
    FILTERS,
    LIGHT_VM_PROPERTIES,
    read_inventory,
    select_vms,
)
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.adapter import vsphere_client, vsphere_module


def main():
    module = vsphere_module(dict(
        names=dict(type="list", elements="str"), datacenter=dict(type="str"), folder=dict(type="str"),
        site=dict(type="str"), segment=dict(type="str"), project=dict(type="str"), environment=dict(type="str"),
        power=dict(type="str", choices=["poweredon", "poweredoff", "suspended"]),
        managed_only=dict(type="bool", default=True),
    ), supports_check_mode=True)
    client = vsphere_client(module)
    try:
        with client:
            inventory = read_inventory(client, LIGHT_VM_PROPERTIES, placement=False)
            vms = select_vms(inventory, dict((k, module.params[k]) for k in FILTERS), module.params["managed_only"])
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    module.exit_json(changed=False, vms=vms)


if __name__ == "__main__":
    main()
