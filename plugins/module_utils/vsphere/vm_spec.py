# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of a vsphere_vm batch: every problem of every VM, before vCenter is touched.

This is private to esa.s2p: it may change at any time, do not import it from outside
the collection.

normalise_batch() takes the `vms` option (items as the model role publishes them in
s2p_model.vms, or written by hand) and returns the desired state of each VM as plain
data, or raises ValidationError listing every problem as "vms[<name>].<field>: ...".
Pure Python, no pyVmomi: unit-tested in tests/unit/plugins/module_utils/vsphere/test_vsphere_vm_spec.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems
from ansible_collections.esa.s2p.plugins.module_utils.model.limits import VM_LIMITS
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import (
    MAX_VSPHERE_NAME,
    name_error,
    type_name,
    vsphere_folder_ok,
    vsphere_name_error,
)

STATES = ("present", "absent", "poweredon", "poweredoff", "restarted")
# Fields of a model VM (s2p_model.vms) that vsphere_vm reads; the others are accepted and ignored.
FIELDS = ("name", "datacenter", "cluster", "resource_pool", "datastore", "folder", "template", "network",
          "networks", "cpus", "memory_mb", "disk_gb", "disks_gb", "segment", "project", "environment", "owner",
          "fqdn", "ip", "subnet", "gateway", "dns_servers", "site")
MODEL_ONLY = ("role", "index", "description")
PLACEMENT = ("datacenter", "cluster", "datastore", "folder", "template")


def _whole(errors, path, value, field):
    """A VM size within vSphere's limit (model/limits.py); an integral float from templating counts."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if errors.check(path, VM_LIMITS[field].problem(value, policy=False)) else None


def _vsphere_name(errors, path, value, what, required=True):
    if value is None:
        if required:
            errors.add(path, "required field is missing (the %s)" % what)
        return None
    if not isinstance(value, str):
        errors.add(path, "must be a string (the %s), got %s" % (what, type_name(value)))
        return None
    return value if errors.check(path, vsphere_name_error(value, what)) else None


def _folder(errors, path, value, datacenter):
    """An absolute folder path /<dc>/vm/<...> (as the model writes it) or one relative to the
    datacenter's VM folder; returned absolute."""
    if value is None:
        errors.add(path, "required field is missing (the VM folder, e.g. /ESOC/vm/s2p/pd/neocc/ope)")
        return None
    if not isinstance(value, str) or not value.strip("/"):
        errors.add(path, "must be a folder path like /ESOC/vm/s2p/pd/neocc/ope, got %r" % (value,))
        return None
    parts = value.strip("/").split("/")
    if value.startswith("/"):
        if len(parts) < 2 or parts[1] != "vm" or (datacenter and parts[0] != datacenter):
            errors.add(path, "%r is not under the VM folder of datacenter %s (expected /%s/vm/...)" % (
                value, datacenter, datacenter))
            return None
        parts = parts[2:]
    if not vsphere_folder_ok(parts):
        errors.add(path, "%r has an empty or invalid folder name (1 to %d characters without '\\' or '%%')"
                   % (value, MAX_VSPHERE_NAME))
        return None
    return "/%s/vm/%s" % (datacenter, "/".join(parts)) if parts else "/%s/vm" % datacenter


def _template(errors, path, value, required):
    """A template name, or a path relative to the datacenter's VM folder (templates/debian-12)."""
    if value is None or not isinstance(value, str) or "/" not in value.strip("/"):
        return _vsphere_name(errors, path, value, "template", required=required)
    parts = value.strip("/").split("/")
    good = [_vsphere_name(errors, path, p, "template path element") for p in parts]
    return "/".join(parts) if all(good) else None


def _networks(errors, path, item):
    if item.get("networks") is not None and item.get("network") is not None:
        errors.add(path + ".networks", "give either network or networks, not both")
        return None
    raw = item.get("networks")
    if raw is None:
        raw = [item["network"]] if item.get("network") is not None else None
        field = ".network"
    else:
        field = ".networks"
    if raw is None:
        return None  # keep the template's NICs
    if not isinstance(raw, list) or not raw:
        errors.add(path + field, "must be a non-empty list of port group names, got %r" % (raw,))
        return None
    out = [_vsphere_name(errors, "%s%s[%d]" % (path, field, i), n, "port group") for i, n in enumerate(raw)]
    return out if all(out) else None


def _disks(errors, path, item):
    if item.get("disks_gb") is not None and item.get("disk_gb") is not None:
        errors.add(path + ".disks_gb", "give either disk_gb (first disk) or disks_gb (every disk), not both")
        return None
    if item.get("disk_gb") is not None:
        size = _whole(errors, path + ".disk_gb", item["disk_gb"], "disk_gb")
        return [size] if size else None
    raw = item.get("disks_gb")
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.add(path + ".disks_gb", "must be a list of disk sizes in GB, got %s" % type_name(raw))
        return None
    out = [_whole(errors, "%s.disks_gb[%d]" % (path, i), s, "disk_gb") for i, s in enumerate(raw)]
    return out if all(out) else None


def _guest(errors, path, item, name):
    """Guest customisation: host name, domain (from fqdn) and optionally a static address."""
    fqdn = item.get("fqdn")
    domain = None
    if fqdn is not None:
        if not isinstance(fqdn, str) or not fqdn.startswith(name + ".") or len(fqdn) <= len(name) + 1:
            errors.add(path + ".fqdn", "%r must be the VM name followed by its domain (%s.<domain>)" % (fqdn, name))
        else:
            domain = fqdn[len(name) + 1:]
    guest = {"hostname": name, "domain": domain, "ip": None, "prefix": None, "gateway": None,
             "dns_servers": []}
    subnet = None
    if item.get("subnet") is not None:
        try:
            subnet = ipaddress.ip_network(item["subnet"] if isinstance(item["subnet"], str) else "")
        except ValueError:
            errors.add(path + ".subnet", "%r is not a network in CIDR notation (e.g. 10.11.0.0/16)" % (item["subnet"],))
    for field in ("ip", "gateway"):
        value = item.get(field)
        if value is None:
            continue
        try:
            address = ipaddress.ip_address(value if isinstance(value, str) else "")
        except ValueError:
            errors.add("%s.%s" % (path, field), "%r is not an IP address" % (value,))
            continue
        if subnet is not None and address not in subnet:
            errors.add("%s.%s" % (path, field), "%s is outside the site's subnet %s" % (address, subnet))
        guest[field] = str(address)
    if guest["ip"] and subnet is None:
        errors.add(path + ".subnet", "required with ip: the site's subnet gives the prefix length")
    if subnet is not None:
        guest["prefix"] = subnet.prefixlen
    servers = item.get("dns_servers") or []
    if not isinstance(servers, list):
        errors.add(path + ".dns_servers", "must be a list of IP addresses, got %s" % type_name(servers))
        servers = []
    for i, server in enumerate(servers):
        try:
            guest["dns_servers"].append(str(ipaddress.ip_address(server if isinstance(server, str) else "")))
        except ValueError:
            errors.add("%s.dns_servers[%d]" % (path, i), "%r is not an IP address" % (server,))
    return guest


def normalise_vm(errors, path, item, state):
    """The desired state of one VM (None when it has errors; they are in `errors`)."""
    before = len(errors)
    name = item.get("name")
    unknown = sorted(k for k in item if k not in FIELDS + MODEL_ONLY)
    for key in unknown:
        errors.add("%s.%s" % (path, key), "unknown field (allowed: %s)" % ", ".join(sorted(FIELDS)))
    good_name = errors.check(path + ".name", name_error("vm", name))
    datacenter = _vsphere_name(errors, path + ".datacenter", item.get("datacenter"), "datacenter")
    vm = {"name": name, "datacenter": datacenter, "state": state,
          "folder": _folder(errors, path + ".folder", item.get("folder"), datacenter or "?")}
    creating = state != "absent"
    for field, what in (("cluster", "cluster"), ("datastore", "datastore")):
        vm[field] = _vsphere_name(errors, "%s.%s" % (path, field), item.get(field), what, required=creating)
    vm["template"] = _template(errors, path + ".template", item.get("template"), creating)
    vm["resource_pool"] = _vsphere_name(errors, path + ".resource_pool", item.get("resource_pool"), "resource pool",
                                        required=False)
    vm["cpus"] = _whole(errors, path + ".cpus", item["cpus"], "cpus") if item.get("cpus") is not None else None
    if creating and item.get("cpus") is None:
        errors.add(path + ".cpus", "required field is missing (number of virtual CPUs)")
    memory = item.get("memory_mb")
    if memory is None:
        if creating:
            errors.add(path + ".memory_mb", "required field is missing (memory in MB)")
        vm["memory_mb"] = None
    else:
        vm["memory_mb"] = _whole(errors, path + ".memory_mb", memory, "memory_mb")
    vm["disks_gb"] = _disks(errors, path, item)
    vm["networks"] = _networks(errors, path, item)
    vm["attributes"] = {}
    for field in ("site", "segment", "project", "environment"):
        value = item.get(field)
        if value is not None:
            errors.check("%s.%s" % (path, field), name_error(field, value))
            vm["attributes"][field] = value
    owner = item.get("owner")
    if owner is not None:
        if not isinstance(owner, str) or not owner.strip():
            errors.add(path + ".owner", "must be a non-empty string (team or person), got %r" % (owner,))
        vm["attributes"]["owner"] = owner
    vm["guest"] = _guest(errors, path, item, name if good_name else "?")
    return vm if len(errors) == before else None


def normalise_batch(items, state):
    """Desired state of every VM in `items`, or ValidationError listing every problem."""
    errors = Problems()
    if state not in STATES:
        errors.add("state", "unknown value %r (allowed: %s)" % (state, ", ".join(STATES)))
    if not isinstance(items, list):
        errors.fail("vms", "must be a list of VMs, got %s" % type_name(items))
    out, seen = [], {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.add("vms[%d]" % index, "must be a mapping with at least name, got %s" % type_name(item))
            continue
        name = item.get("name")
        good_name = isinstance(name, str) and name_error("vm", name) is None
        path = "vms[%s]" % (name if good_name and name not in seen else index)
        if good_name and name in seen:
            errors.add(path + ".name", "duplicate VM name %r (first at vms[%d]); VM names are unique in a batch"
                       % (name, seen[name]))
        elif good_name:
            seen[name] = index
        vm = normalise_vm(errors, path, item, state)
        if vm:
            out.append(vm)
    errors.raise_if_any()
    return out
