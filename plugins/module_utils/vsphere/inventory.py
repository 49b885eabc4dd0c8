# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A snapshot of a vCenter inventory read in ONE property-collector call, with paths.

This is private to esa.s2p: it may change at any time, do not import it from outside
the collection.

read_inventory() fetches datacenters, folders, clusters, resource pools, datastores,
networks and VMs (with the properties S2P manages) in one retrieval, whatever the
number of VMs; Inventory answers "which object is at this path", "which VMs carry the
S2P marker" and turns a VM into the plain dict (vm_state) that the planner and the
_info module compare and return.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from pyVmomi import vim
except ImportError:  # reported by the client (PYVMOMI_IMPORT_ERROR)
    vim = None

from ansible_collections.esa.s2p.plugins.module_utils.vsphere import fast_read

# The S2P marker: written into extraConfig at clone time, identifies a VM S2P made.
MARKER_KEY = "s2p.vm"
# "building" from the clone until the VM is complete (configured, powered on once, attributes set).
STATE_KEY = "s2p.state"
STATE_BUILDING = "building"
STATE_READY = "ready"
ATTRIBUTES = ("site", "segment", "project", "environment", "owner")
ATTRIBUTE_PREFIX = "s2p."

VM_PROPERTIES = ["name", "parent", "config.instanceUuid", "config.template", "config.extraConfig",
                 "config.hardware.numCPU", "config.hardware.memoryMB", "config.hardware.device",
                 "runtime.powerState", "resourcePool", "datastore", "customValue", "guest.ipAddress",
                 "guest.net", "guest.hostName"]
# What the inventory plugin needs: no hardware, no guest.net (most of the bytes after devices).
INVENTORY_VM_PROPERTIES = ["name", "parent", "config.instanceUuid", "config.template", "config.extraConfig",
                           "runtime.powerState", "customValue", "guest.ipAddress", "guest.hostName"]
LIGHT_VM_PROPERTIES = ["name", "parent", "config.instanceUuid", "config.template", "config.extraConfig",
                       "config.hardware.numCPU", "config.hardware.memoryMB", "runtime.powerState",
                       "customValue", "guest.ipAddress", "guest.net", "guest.hostName"]


def inventory_properties(vm_properties=None, placement=True):
    """What one retrieval reads; without `placement` only what VM paths need (no clusters, pools,
    datastores or networks: the inventory plugin and vsphere_vm_info never place anything)."""
    if not placement:
        return {vim.Datacenter: ["name", "parent"], vim.Folder: ["name", "parent"],
                vim.VirtualMachine: list(vm_properties or VM_PROPERTIES)}
    return {
        vim.Datacenter: ["name", "parent", "vmFolder"],
        vim.Folder: ["name", "parent"],
        vim.ClusterComputeResource: ["name", "parent", "resourcePool"],
        vim.ResourcePool: ["name", "parent"],
        vim.Datastore: ["name", "parent"],
        vim.Network: ["name", "parent"],
        vim.dvs.DistributedVirtualPortgroup: ["name", "parent", "key", "config.distributedVirtualSwitch"],
        vim.DistributedVirtualSwitch: ["name", "uuid"],
        vim.VirtualMachine: list(vm_properties or VM_PROPERTIES),
    }


def marker_of(vm):
    """The S2P marker of a VM (its name as S2P made it), None when unmarked."""
    for option in vm.get("config.extraConfig") or []:
        if option.key == MARKER_KEY:
            return option.value
    return None


DETAIL_VM_PROPERTIES = ["config.hardware.device", "resourcePool", "datastore"]


def read_inventory(client, vm_properties=None, detail_names=None, placement=True, fast=False):
    """The whole inventory in one property-collector call (plus the custom attribute names).
    `placement=False` reads datacenters, folders and VMs only (see inventory_properties);
    `fast` parses the answer with ElementTree (vsphere/fast_read: plain properties only).

    With `detail_names`, every VM is read with LIGHT_VM_PROPERTIES and only the templates and the
    VMs of those names get their devices, in ONE more call: device lists are most of the bytes."""
    if detail_names is not None:
        vm_properties = LIGHT_VM_PROPERTIES
    properties = inventory_properties(vm_properties, placement)
    objects = fast_read.retrieve(client, properties) if fast else client.retrieve(properties)
    fields = client.custom_field_keys(())
    inventory = Inventory(objects, dict((key, name) for name, key in fields.items()))
    if detail_names is not None:
        wanted = [o for o in inventory.vms() if o.get("config.template") or o.get("name") in detail_names
                  or marker_of(o) in detail_names]
        details = client.retrieve_objects([o.ref for o in wanted], vim.VirtualMachine, DETAIL_VM_PROPERTIES)
        for vm in wanted:
            vm.update(details.get(vm.moid, {}))
    return inventory


class Inventory:
    """Objects by moid with their inventory paths (/<dc>/vm/<folder>/.../<name>)."""

    def __init__(self, objects, field_names=None):
        self.objects = dict((o.moid, o) for o in objects)
        self.field_names = dict(field_names or {})  # custom attribute key -> name
        self._paths = {}
        self._portgroups = None
        self._named = None  # name -> objects of that name, built on the first find()

    def kind(self, moid):
        return type(self.objects[moid].ref).__name__.split(".")[-1]

    def parent(self, moid):
        parent = self.objects[moid].get("parent")
        return parent._moId if parent is not None and parent._moId in self.objects else None

    def path(self, moid):
        """Inventory path; the root folder ("Datacenters") is not part of it."""
        if moid not in self._paths:
            parent = self.parent(moid)
            prefix = self.path(parent) if parent else ""
            self._paths[moid] = "%s/%s" % (prefix, self.objects[moid].get("name", moid))
        return self._paths[moid]

    def datacenter(self, moid):
        """Name of the datacenter holding `moid` (None above datacenters)."""
        while moid is not None:
            if isinstance(self.objects[moid].ref, vim.Datacenter):
                return self.objects[moid]["name"]
            moid = self.parent(moid)
        return None

    def datacenters(self):
        return sorted(o["name"] for o in self.objects.values() if isinstance(o.ref, vim.Datacenter))

    def by_path(self, path):
        path = "/" + path.strip("/")
        for moid in self.objects:
            if self.path(moid) == path:
                return self.objects[moid]
        return None

    def find(self, datacenter, kind, name):
        """Objects of vim type `kind` named `name` in `datacenter` (a list: names may repeat).
        Looked up by name: a batch resolves a template, pool, folder and networks per VM, and a
        scan of the whole inventory for each made the batch quadratic in the estate's size."""
        if self._named is None:
            self._named = {}
            for o in self.objects.values():
                self._named.setdefault(o.get("name"), []).append(o)
        return [o for o in self._named.get(name, ())
                if isinstance(o.ref, kind) and self.datacenter(o.moid) == datacenter]

    def names(self, datacenter, kind):
        return sorted(set(o.get("name") for moid, o in self.objects.items()
                          if isinstance(o.ref, kind) and self.datacenter(moid) == datacenter))

    def vms(self):
        return [o for o in self.objects.values() if isinstance(o.ref, vim.VirtualMachine)]

    def add(self, obj, name, parent_moid):
        """Record an object created during the run (a folder) without reading again."""
        item = _Created(obj, name, self.objects[parent_moid].ref if parent_moid else None)
        self.objects[item.moid] = item
        if self._named is not None:
            self._named.setdefault(name, []).append(item)
        return item

    # --- a VM as plain data -------------------------------------------------------
    def vm_state(self, vm):
        """The managed fields of one VM as plain data (what diff and the _info module show)."""
        marker, build_state = build_markers(vm)
        devices = vm.get("config.hardware.device") or []
        disks = sorted((d for d in devices if isinstance(d, vim.vm.device.VirtualDisk)),
                       key=lambda d: (d.controllerKey, d.unitNumber or 0))
        nics = sorted((d for d in devices if isinstance(d, vim.vm.device.VirtualEthernetCard)), key=lambda d: d.key)
        parent = self.parent(vm.moid)
        state = {
            "name": vm.get("name"), "moid": vm.moid, "instance_uuid": vm.get("config.instanceUuid"),
            "folder": self.path(parent) if parent else None, "datacenter": self.datacenter(vm.moid),
            "template": bool(vm.get("config.template")), "marker": marker,
            "build_state": build_state, "cpus": vm.get("config.hardware.numCPU"),
            "memory_mb": vm.get("config.hardware.memoryMB"),
            "disks_kb": [d.capacityInKB for d in disks], "networks": [self.nic_network(n) for n in nics],
            "power": power_state(vm), "attributes": s2p_attributes(self.field_names, vm),
            "ip": vm.get("guest.ipAddress"), "hostname": vm.get("guest.hostName"),
            "ips": sorted(set(ip for net in vm.get("guest.net") or [] for ip in net.ipAddress or [])),
        }
        return state

    def nic_network(self, nic):
        backing = nic.backing
        if isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
            if self._portgroups is None:
                self._portgroups = dict((o.get("key"), o.get("name")) for o in self.objects.values()
                                        if isinstance(o.ref, vim.dvs.DistributedVirtualPortgroup))
            key = backing.port.portgroupKey
            return self._portgroups.get(key, key)
        if isinstance(backing, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo):
            return backing.deviceName
        return None


_POWER = {"poweredOn": "poweredon", "poweredOff": "poweredoff", "suspended": "suspended"}


def power_state(vm):
    power = str(vm.get("runtime.powerState"))
    return _POWER.get(power, power)


def build_markers(vm):
    """(S2P marker, build state) from the VM's extraConfig; None where unset."""
    marker = build_state = None
    for option in vm.get("config.extraConfig") or ():
        if option.key == MARKER_KEY:
            marker = option.value
        elif option.key == STATE_KEY:
            build_state = option.value
    return marker, build_state


def s2p_attributes(field_names, vm):
    """{site, segment, ...: value} of the VM's S2P custom attributes that have a value."""
    found = {}
    for value in vm.get("customValue") or ():
        name = field_names.get(value.key, value.key)
        if isinstance(name, str) and name.startswith(ATTRIBUTE_PREFIX) and name[len(ATTRIBUTE_PREFIX):] in ATTRIBUTES:
            if value.value is None:
                found.pop(name[len(ATTRIBUTE_PREFIX):], None)
            else:
                found[name[len(ATTRIBUTE_PREFIX):]] = value.value
    return dict((name, found[name]) for name in ATTRIBUTES if name in found)


class _Created(dict):
    """Stand-in for a VimObject of an object created during the run."""

    def __init__(self, ref, name, parent):
        super(_Created, self).__init__(name=name, parent=parent)
        self.ref = ref
        self.missing = {}

    @property
    def moid(self):
        return self.ref._moId


# --- reading VMs for vsphere_vm_info and the inventory plugin ------------------------
FILTERS = ("names", "datacenter", "folder", "site", "segment", "project", "environment", "power")


def vm_summary(inventory, vm):
    """What vsphere_vm_info returns and the inventory plugin turns into host variables."""
    state = inventory.vm_state(vm)
    attributes = state["attributes"]
    ipv4 = [ip for ip in state["ips"] if ":" not in ip]
    address = state["ip"] if state["ip"] and ":" not in state["ip"] else (ipv4[0] if ipv4 else None)
    return {
        "name": state["name"], "moid": state["moid"], "instance_uuid": state["instance_uuid"],
        "datacenter": state["datacenter"], "folder": state["folder"], "managed": state["marker"] is not None,
        "build_state": state["build_state"], "power": state["power"], "cpus": state["cpus"],
        "memory_mb": state["memory_mb"], "hostname": state["hostname"], "ip": address,
        "ips": state["ips"] or ([state["ip"]] if state["ip"] else []),
        "site": attributes.get("site"), "segment": attributes.get("segment"), "project": attributes.get("project"),
        "environment": attributes.get("environment"), "owner": attributes.get("owner"),
    }


def select_vms(inventory, filters=None, managed_only=True):
    """Summaries of the (non-template) VMs matching every given filter, sorted by name."""
    filters = dict((k, v) for k, v in (filters or {}).items() if v not in (None, [], ""))
    out = []
    for vm in inventory.vms():
        if vm.get("config.template"):
            continue
        summary = vm_summary(inventory, vm)
        if managed_only and not summary["managed"]:
            continue
        if "names" in filters and summary["name"] not in filters["names"]:
            continue
        if "folder" in filters and not (summary["folder"] or "").startswith(filters["folder"].rstrip("/")):
            continue
        if any(summary.get(k) != filters[k] for k in filters if k not in ("names", "folder")):
            continue
        out.append(summary)
    return sorted(out, key=lambda s: (s["name"], s["folder"] or ""))


def host_summaries(inventory, managed_only=True):
    """What the inventory plugin makes hosts of: for each (non-template) VM, the fields of
    vm_summary() that INVENTORY_VM_PROPERTIES hold (no moid, no hardware), in vCenter's order.

    vm_summary() builds the full per-VM state (devices, disks, networks) for vsphere_vm_info;
    for thousands of hosts the inventory skips that, and the folder path and datacenter are
    worked out once per parent folder instead of once per VM."""
    by_parent = {}
    out = []
    names = inventory.field_names
    for vm in inventory.vms():
        if vm.get("config.template"):
            continue
        marker, build_state = build_markers(vm)
        if managed_only and marker is None:
            continue
        parent = inventory.parent(vm.moid)
        place = by_parent.get(parent)
        if place is None:
            place = by_parent[parent] = ((inventory.path(parent), inventory.datacenter(parent)) if parent
                                         else (None, None))
        ip = vm.get("guest.ipAddress")
        summary = {"name": vm.get("name"), "instance_uuid": vm.get("config.instanceUuid"), "datacenter": place[1],
                   "folder": place[0], "managed": marker is not None, "build_state": build_state,
                   "power": power_state(vm), "hostname": vm.get("guest.hostName"),
                   "ips": [ip] if ip else []}
        if ip and ":" not in ip:
            summary["ip"] = ip
        summary.update(s2p_attributes(names, vm))
        out.append(summary)
    out.sort(key=lambda s: (s["name"], s["folder"] or ""))
    return out
