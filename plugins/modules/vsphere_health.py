#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vsphere_health
short_description: Check that vCenter is reachable, accepts the login and holds the expected datacenters
version_added: 0.1.0
description:
  - Connects once, logs in, reads the product version and the list of datacenters with one
    property-collector call, and compares it with O(datacenters).
  - Never fails because vSphere is unhealthy; it returns RV(healthy) and one entry per check in
    RV(checks) so a preflight can report every backend at once. It fails only on invalid parameters.
options:
  datacenters:
    description:
      - Names of the datacenters that must exist, for example the model's sites.
      - Missing ones are reported by name.
    type: list
    elements: str
    default: []
  vms:
    description:
      - VMs to be cloned, for example C(s2p_model.vms). Each needs V(name), V(datacenter) and V(template)
        (a template name, unique among the datacenter's templates, or a path relative to its VM folder), and may
        give V(disk_gb); other fields are ignored.
      - The check C(templates) reports every template that is missing, and every VM whose V(disk_gb) is smaller
        than its template's first disk (a clone cannot shrink a disk, so M(esa.s2p.vsphere_vm) would refuse it).
        It reads the templates' devices only, in one call.
    type: list
    elements: dict
    default: []
extends_documentation_fragment:
  - esa.s2p.vsphere
  - esa.s2p.attributes.read_only
  - esa.s2p.vsphere.action_group
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check vCenter before a deployment
  esa.s2p.vsphere_health:
    hostname: vcenter.s2p.esa.int
    username: s2p-automation@vsphere.local
    password: "{{ vcenter_password }}"
    ca_path: /etc/pki/s2p/ca.pem
    datacenters: [ESOC, ESEC, ESRIN]
  register: vsphere

- name: Stop when vSphere is not usable
  ansible.builtin.assert:
    that: vsphere.healthy
    fail_msg: "{{ vsphere.checks | rejectattr('ok') | map(attribute='msg') | list }}"
"""

RETURN = r"""
healthy:
  description: True when every check passed.
  type: bool
  returned: always
checks:
  description: One entry per check, in the order they ran; checks after a failed connection step are not run.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: Check name (V(reachable), V(tls), V(login), V(datacenters)).
      type: str
    ok:
      description: Whether the check passed.
      type: bool
    msg:
      description: What was found; when not ok, what to fix.
      type: str
  sample:
    - {name: login, ok: true, msg: "logged in as s2p-admin@vsphere.local at 127.0.0.1:18989"}
    - {name: datacenters, ok: false, msg: "missing datacenter(s): ESRIN (found: ESOC, ESEC)"}
version:
  description: Product version of the endpoint, for example V(6.5.0).
  type: str
  returned: when the login succeeded
about:
  description: Product facts (name, full_name, version, build, api_type, api_version, instance_uuid).
  type: dict
  returned: when the login succeeded
datacenters:
  description: Names of the datacenters found.
  type: list
  elements: str
  returned: when the login succeeded
"""

from ansible_collections.esa.s2p.plugins.module_utils.vsphere.client import health_report
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.template_check import templates_check_of, validate_vms
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.adapter import vsphere_client, vsphere_module


def main():
    module = vsphere_module(dict(datacenters=dict(type="list", elements="str", default=[]),
                                 vms=dict(type="list", elements="dict", default=[])),
                            supports_check_mode=True)
    try:
        groups = validate_vms(module.params["vms"])
    except ValidationError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    report = health_report(vsphere_client(module), datacenters=module.params["datacenters"],
                           templates_check=templates_check_of(groups) if groups else None)
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
