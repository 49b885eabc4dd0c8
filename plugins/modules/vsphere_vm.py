#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vsphere_vm
short_description: Converge a batch of S2P virtual machines (clone, configure, power, remove) in one task
version_added: 0.2.0
description:
  - Takes a list of VMs, typically C(s2p_model.vms) from the P(esa.s2p.model#role) role, and converges all of them
    over one vCenter session.
  - The whole batch is validated first, then checked against ONE property-collector read of vCenter (datacenters,
    templates, clusters, datastores, port groups, folders, VMs), plus one read of the device lists of the batch's
    VMs and the templates; the number of reads does not grow with the number of VMs. Any problem in any VM fails
    the task with every problem listed, C(changed=false) and nothing modified.
  - New VMs are cloned from the template of their site into their folder (created when missing), with the S2P
    marker (extraConfig C(s2p.vm) = VM name) written by the clone itself. Clones, reconfigurations and power
    operations run as concurrent vCenter tasks, at most O(parallel) at once, waited on together.
  - "Identity: a VM is ours when it carries the marker. A VM of the same name without the marker is never
    modified or removed (in the target folder it is reported as a conflict, elsewhere it is ignored)."
  - Crash-safe. A run killed in the middle leaves VMs marked C(s2p.state=building); the next run finds them by
    the marker and finishes them (configuration, customisation, power-on) instead of cloning again.
  - "New VMs get a guest customisation (Linux): host name = VM name, domain from V(fqdn), a static address
    when V(ip) is given (prefix from V(subnet), V(gateway), V(dns_servers)), else DHCP."
options:
  vms:
    description:
      - The VMs. Fields not listed here that the model publishes (V(role), V(index), V(description)) are
        accepted and ignored; any other field is an error.
      - "Fields: V(name) (required, a DNS label), V(datacenter) (required), V(folder) (V(/<dc>/vm/...) or relative to
        the datacenter's VM folder), V(template) (name, unique in the datacenter, or path relative to its VM
        folder), V(cluster), V(resource_pool) (default the cluster's root pool), V(datastore), V(network) or
        V(networks) (port groups of NIC 1, 2...), V(cpus), V(memory_mb) (a multiple of 4), V(disk_gb) (first
        disk) or V(disks_gb) (every disk; disks are grown or added, never shrunk), V(site), V(segment), V(project),
        V(environment), V(owner) (custom attributes C(s2p.<field>)), V(fqdn), V(ip), V(subnet), V(gateway),
        V(dns_servers) (guest customisation)."
      - For O(state=present) and the power states, V(datacenter), V(folder), V(template), V(cluster),
        V(datastore), V(cpus) and V(memory_mb) are required; O(state=absent) needs V(name), V(datacenter) and
        V(folder).
    type: list
    elements: dict
    required: true
  state:
    description:
      - V(present) creates missing VMs, converges CPU, memory, disks, NICs and attributes, and powers on VMs it
        creates (or finishes); it leaves the power state of complete VMs alone.
      - V(poweredon), V(poweredoff) converge like V(present) and then set the power state.
      - V(restarted) converges and then powers every VM off and on again (always a change).
      - V(absent) powers off and removes the VMs that carry the S2P marker.
    type: str
    choices: [present, absent, poweredon, poweredoff, restarted]
    default: present
  force:
    description:
      - With O(state=absent), also remove a VM of that name WITHOUT the S2P marker, but only in the VM's folder.
    type: bool
    default: false
  parallel:
    description: Maximum number of vCenter tasks (clones, reconfigurations, power operations) running at once.
    type: int
    default: 8
  task_timeout:
    description: Seconds a single vCenter task may run; a task running longer is cancelled and its VM fails.
    type: int
    default: 3600
  customize:
    description: Run the guest customisation on VMs this module creates.
    type: bool
    default: true
  progress_every:
    description:
      - Show progress in the playbook output for batches larger than this many VMs (V(0), the default, runs the
        batch in one go without progress lines).
      - 'The action plugin first plans the WHOLE batch in check mode (validation and one inventory read, nothing
        touched; a bad VM fails the task before anything is written), then converges only the VMs that change,
        O(progress_every) per module run, printing C(esa.s2p.vsphere_vm: 16/30 VMs converged) and the counts so
        far after each run. Each run reads the inventory once; pick a multiple of O(parallel).'
      - A per-VM failure does not stop the other chunks; a connection failure stops the batch and says how far
        it got.
    type: int
    default: 0
  remove_empty_folders:
    description:
      - With O(state=absent), inventory paths of folders (V(/<datacenter>/vm/...)) to remove once the batch's VMs
        are gone, when they hold nothing else; a folder that still holds anything is kept and named in
        RV(folder_notes). Deepest first, so a project's folder goes after its environments' folders.
      - The role C(esa.s2p.vm) passes the folders of the VMs it removes and their parents (the project's folder).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - esa.s2p.vsphere
  - esa.s2p.vsphere.action_group
attributes:
  check_mode:
    support: full
    description: The same plan is computed from the same read; only the writes are skipped.
  diff_mode:
    support: full
    description: One before/after per changed VM (folder, CPUs, memory, disks, networks, attributes, power).
  idempotent:
    support: full
    description: A second run with the same input reports no change (except O(state=restarted)).
  action:
    support: full
    description: An action plugin of the same name prints progress lines on the controller (O(progress_every)).
notes:
  - CPU and memory changes of a powered-on VM need CPU/memory hot-add in the guest's configuration; vCenter
    refuses them otherwise, and the VM is reported as failed with vCenter's message.
  - A VM found by its marker in another folder of its datacenter is moved into the declared folder
    (C(MoveIntoFolder_Task); change C(folder), shown in check and diff mode). One found in another datacenter
    is not moved; see RV(vms[].notes).
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Every VM of the model, at all three sites, in one task
  esa.s2p.vsphere_vm:
    vms: "{{ s2p_model.vms }}"
    parallel: 8

- name: A long batch, with a progress line after every 16 VMs
  esa.s2p.vsphere_vm:
    vms: "{{ s2p_model.vms }}"
    parallel: 8
    progress_every: 16

- name: Remove one environment's VMs
  esa.s2p.vsphere_vm:
    vms: "{{ s2p_model.vms | selectattr('environment', 'equalto', 'ire') }}"
    state: absent

- name: Remove a project's VMs and the folders they leave empty
  esa.s2p.vsphere_vm:
    vms: "{{ neocc_vms }}"
    state: absent
    remove_empty_folders:
      - /ESRIN/vm/s2p/pd/neocc/ire
      - /ESRIN/vm/s2p/pd/neocc
"""

RETURN = r"""
vms:
  description: One entry per VM of the input, in input order.
  type: list
  elements: dict
  returned: always
  contains:
    name: {description: VM name., type: str}
    changed: {description: Whether this VM changed (or would in check mode)., type: bool}
    action: {description: "V(create), V(update), V(destroy) or V(none).", type: str}
    changes: {description: "Managed fields that changed, and V(power:<operation>).", type: list, elements: str}
    instance_uuid: {description: vCenter instance UUID (null for a VM only predicted in check mode)., type: str}
    folder: {description: Inventory path of the VM's folder., type: str}
    notes: {description: Things worth knowing that are not errors., type: list, elements: str}
folders_removed:
  description: Folders of O(remove_empty_folders) removed (or, in check mode, to remove).
  type: list
  elements: str
  returned: always
folder_notes:
  description: Folders of O(remove_empty_folders) kept, and what they still hold.
  type: list
  elements: str
  returned: always
counts:
  description: Number of VMs per action.
  type: dict
  returned: always
  sample: {create: 60, update: 0, destroy: 0, none: 0}
errors:
  description: Every validation problem, one per line, when the batch was refused.
  type: list
  elements: str
  returned: on validation failure
"""

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.adapter import vsphere_client, vsphere_module
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.vm_ops import converge
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.vm_spec import STATES


def main():
    module = vsphere_module(dict(
        vms=dict(type="list", elements="dict", required=True),
        state=dict(type="str", default="present", choices=list(STATES)),
        force=dict(type="bool", default=False),
        parallel=dict(type="int", default=8),
        task_timeout=dict(type="int", default=3600),
        customize=dict(type="bool", default=True),
        progress_every=dict(type="int", default=0),  # used by the action plugin only
        remove_empty_folders=dict(type="list", elements="str", default=[]),
    ), supports_check_mode=True)
    try:
        result = converge(module.params, module.check_mode, module._diff, lambda: vsphere_client(module))
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
