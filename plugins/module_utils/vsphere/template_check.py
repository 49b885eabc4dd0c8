# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight's template check: every template the VMs are cloned from exists in its
datacenter, and no VM asks for a disk smaller than its template's (a clone cannot shrink a disk,
so esa.s2p.vsphere_vm would refuse that VM in the middle of a run).

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.core.health import check
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems, item_path, type_name
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.inventory import read_inventory, vim
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.vm_plan import GB_KB, find_template

SHOWN = 5  # VMs named per problem


def validate_vms(vms):
    """{(datacenter, template): [(vm name, disk_gb or None)]} of the `vms` option, or ValidationError
    naming every bad item (fields: name, datacenter, template, disk_gb; others are ignored)."""
    errors, groups = Problems(), {}
    for index, vm in enumerate(vms or []):
        where = item_path("vms", index, vm.get("name") if isinstance(vm, dict) else None)
        if not isinstance(vm, dict):
            errors.add(where, "must be a mapping with name, datacenter, template, got %s" % type_name(vm))
            continue
        for field in ("name", "datacenter", "template"):
            if not isinstance(vm.get(field), str) or not vm.get(field):
                errors.add("%s.%s" % (where, field), "must be a non-empty string, got %r" % (vm.get(field),))
        disk = vm.get("disk_gb")
        if disk is not None and (isinstance(disk, bool) or not isinstance(disk, int) or disk < 1):
            errors.add(where + ".disk_gb", "must be a whole number of GB >= 1, got %r" % (disk,))
        groups.setdefault((vm.get("datacenter"), vm.get("template")), []).append((vm.get("name"), disk))
    errors.raise_if_any()
    return groups


def _some(names):
    shown = ", ".join(names[:SHOWN])
    return shown + (" and %d more" % (len(names) - SHOWN) if len(names) > SHOWN else "")


def template_check(inventory, devices, groups):
    """One check over every (datacenter, template) of `groups` (see validate_vms). inventory: an
    Inventory with the templates; devices: {moid: config.hardware.device} of the templates."""
    problems, found = [], 0
    for (dc, template), vms in sorted(groups.items()):
        errors = Problems()
        obj = find_template(errors, None, inventory, dc, template)
        if obj is None:
            needed_by = _some([name for name, _disk in vms])
            problems.append("%s (needed by %s)" % ("; ".join(errors.errors), needed_by))
            continue
        found += 1
        disks = sorted((d for d in devices.get(obj.moid) or [] if isinstance(d, vim.vm.device.VirtualDisk)),
                       key=lambda d: (d.controllerKey, d.unitNumber or 0))
        if not disks:
            continue
        first_kb = disks[0].capacityInKB
        smaller = ["%s (%d GB)" % (name, disk) for name, disk in vms if disk is not None and disk * GB_KB < first_kb]
        if smaller:
            size = -(-first_kb // GB_KB)
            problems.append("template %s of %s has a %d GB disk, and %d VM(s) ask for less: %s (a clone cannot "
                            "shrink a disk: give them disk_gb %d or more, or a smaller template)"
                            % (inventory.path(obj.moid), dc, size, len(smaller), _some(smaller), size))
    if problems:
        return check("templates", False, "; ".join(problems))
    return check("templates", True, "%d template(s) found for %d VM(s); no VM asks for a disk smaller than its "
                                    "template's" % (found, sum(len(v) for v in groups.values())))


def read_templates(client):
    """(inventory of datacenters, folders and VMs, {template moid: its devices}) in two calls: the
    devices are read for the templates only (most of the bytes of a VM are its devices)."""
    inventory = read_inventory(client, vm_properties=["name", "parent", "config.template"], placement=False)
    templates = [o for o in inventory.vms() if o.get("config.template")]
    details = client.retrieve_objects([o.ref for o in templates], vim.VirtualMachine, ["config.hardware.device"])
    return inventory, dict((moid, props.get("config.hardware.device")) for moid, props in details.items())


def templates_check_of(groups):
    """The health_report hook for the VMs of `groups`: read the templates, then check them."""
    def run(client):
        inventory, devices = read_templates(client)
        return template_check(inventory, devices, groups)
    return run
