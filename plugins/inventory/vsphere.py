# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: vsphere
short_description: S2P virtual machines of one or several vCenters as Ansible hosts
version_added: 0.2.0
description:
  - Reads every VM of each vCenter with ONE property-collector call (the number of API round trips does not grow
    with the number of VMs) and adds the S2P VMs as hosts, with C(ansible_host) from the address the guest reports.
  - Groups C(site_<site>), C(segment_<segment>), C(project_<project>), C(environment_<environment>) and
    C(power_<state>), from the custom attributes that M(esa.s2p.vsphere_vm) sets; more with O(groups),
    O(keyed_groups) and O(compose).
  - Strings read from vCenter are never templated (ansible-core 2.19 trusts no inventory plugin data as a
    template), so a VM name or attribute that looks like a template reaches plays literally.
  - "The file must end in C(.vsphere.yml) or C(.vsphere.yaml) and hold C(plugin: esa.s2p.vsphere)."
extends_documentation_fragment:
  - esa.s2p.vsphere
  - esa.s2p.vsphere.plugins
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [esa.s2p.vsphere]
  # The connection options come from the doc fragment esa.s2p.vsphere; the per-vCenter keys of
  # O(vcenters) may supply these three instead, so the top-level ones are not required here.
  hostname:
    required: false
  username:
    required: false
  password:
    required: false
  vcenters:
    description:
      - Several vCenters in one inventory, each a mapping with the keys V(hostname), V(port), V(username),
        V(password), V(validate_certs), V(ca_path), V(protocol); missing keys take the top-level options.
    type: list
    elements: dict
    default: []
  managed_only:
    description: Only VMs carrying the S2P marker.
    type: bool
    default: true
  powered_on_only:
    description: Only powered-on VMs.
    type: bool
    default: false
notes:
  - Hardware and per-NIC guest data are not read (they are most of the bytes); C(s2p_ips) holds the guest's primary
    address only. Use M(esa.s2p.vsphere_vm_info) for every address.
  - Host variables are prefixed C(s2p_) (C(s2p_site), C(s2p_segment), C(s2p_project), C(s2p_environment),
    C(s2p_owner), C(s2p_power), C(s2p_instance_uuid), C(s2p_vcenter), C(s2p_datacenter), C(s2p_folder),
    C(s2p_managed), C(s2p_build_state), C(s2p_hostname), C(s2p_ips)); a field vCenter does not hold for a VM
    (no guest address, no project attribute) is left undefined rather than set to null. The host name is the
    VM name. Every variable costs each host in Ansible's variable merging and in C(ansible-inventory) output,
    so there are no copies - the guest's address is C(ansible_host), not also C(s2p_ip) - and no moid (a VM is
    identified by C(s2p_instance_uuid) on C(s2p_vcenter)).
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
# inventories/vsphere/s2p.vsphere.yml
plugin: esa.s2p.vsphere
vcenters:
  - {hostname: vcenter-esoc.s2p.esa.int}
  - {hostname: vcenter-esrin.s2p.esa.int}
username: s2p-inventory@vsphere.local
ca_path: /etc/pki/s2p/ca.pem
keyed_groups:
  - key: s2p_owner
    prefix: owner
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/s2p-inventory
"""

import re

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.adapter import CONNECTION_OPTIONS, client_from_options
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.inventory import (
    INVENTORY_VM_PROPERTIES,
    host_summaries,
    read_inventory,
)

GROUPED = ("site", "segment", "project", "environment", "power")
SKIPPED = ("name", "ip")  # the host name; ansible_host


def _group_name(kind, value):
    return "%s_%s" % (kind, re.sub(r"[^A-Za-z0-9_]", "_", str(value)))


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "esa.s2p.vsphere"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith((".vsphere.yml", ".vsphere.yaml"))

    def _endpoints(self):
        base = dict((k, self.get_option(k)) for k in CONNECTION_OPTIONS)
        return [dict(base, **dict((k, v) for k, v in (vc or {}).items() if k in CONNECTION_OPTIONS and v is not None))
                for vc in self.get_option("vcenters") or [{}]]

    def _fetch(self):
        hosts = []
        for endpoint in self._endpoints():
            try:
                with client_from_options(endpoint.get) as client:
                    inventory = read_inventory(client, INVENTORY_VM_PROPERTIES, placement=False, fast=True)
                    for vm in host_summaries(inventory, managed_only=self.get_option("managed_only")):
                        vm["vcenter"] = client.endpoint
                        hosts.append(vm)
            except S2PError as exc:
                raise AnsibleError("esa.s2p.vsphere: %s" % exc) from None
        return hosts

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        hosts = None
        if use_cache:
            try:
                hosts = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if hosts is None:
            hosts = self._fetch()
        if update_cache:
            self._cache[cache_key] = hosts
        self._populate(hosts)

    def _populate(self, hosts):
        """Hosts, their variables and groups; the per-host work is kept to what is configured
        (most of the time of a large inventory is Ansible's own per-variable bookkeeping)."""
        strict = self.get_option("strict")
        compose, groups, keyed = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        constructed = bool(compose or groups or keyed)
        powered_on_only = self.get_option("powered_on_only")
        inventory = self.inventory
        group_names = {}
        for vm in hosts:
            if powered_on_only and vm["power"] != "poweredon":
                continue
            name = inventory.add_host(vm["name"])
            # Unset fields are left out rather than set to None: fewer variables per host. The
            # guest's address is ansible_host (and s2p_ips), not a third copy in s2p_ip.
            variables = dict(("s2p_%s" % k, v) for k, v in vm.items() if v is not None and v != [] and k not in SKIPPED)
            if vm.get("ip"):
                variables["ansible_host"] = vm["ip"]
            # One update of the new host's variables instead of a set_variable() per variable: the
            # names are this plugin's own valid constants, and the host has no variables to merge with.
            inventory.get_host(name).vars.update(variables)
            for kind in GROUPED:
                value = vm.get(kind)
                if value:
                    group = group_names.get((kind, value))
                    if group is None:
                        group = group_names[(kind, value)] = inventory.add_group(_group_name(kind, value))
                    inventory.add_child(group, name)
            if constructed:
                self._set_composite_vars(compose, variables, name, strict=strict)
                self._add_host_to_composed_groups(groups, variables, name, strict=strict)
                self._add_host_to_keyed_groups(keyed, variables, name, strict=strict)
