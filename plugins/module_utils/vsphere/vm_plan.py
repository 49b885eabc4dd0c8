# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What vsphere_vm will do to each VM: resolution against one inventory snapshot and a plan.

This is private to esa.s2p: it may change at any time, do not import it from outside
the collection.

plan_batch() resolves every VM's placement (datacenter, template, cluster, pool,
datastore, port groups, folder) in the snapshot, finds each VM by its S2P marker, and
returns one VMPlan per VM; problems of the whole batch (not found with the path tried,
disk shrink, duplicate marked VMs, an unmarked VM in the way) come back together as
one ValidationError before anything is written. The same plan drives check mode and
the real run, so check mode predicts exactly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.inventory import STATE_READY, marker_of, vim

GB_KB = 1024 * 1024


class VMPlan(object):
    """One VM: its desired state, what exists (`current`), the refs to use, the changes."""

    def __init__(self, want):
        self.want = want
        self.name = want["name"]
        self.vm = None          # VimObject of the existing VM, None when it is to be created
        self.current = None     # vm_state() of the existing VM (or of the template for a clone)
        self.refs = {}          # template, pool, datastore, networks: [(name, obj)]
        self.missing_folders = []
        self.create = False
        self.destroy = False
        self.changes = []       # names of managed fields that change
        self.power = None       # "poweron", "poweroff", "restart" or None
        self.notes = []

    @property
    def moves(self):
        """A VM of ours found in another folder of its datacenter: MoveIntoFolder_Task."""
        return "folder" in self.changes

    @property
    def changed(self):
        return bool(self.create or self.destroy or self.changes or self.power)

    def managed(self, state):
        """The fields shown in diff mode."""
        if state is None:
            return {}
        fields = ("folder", "cpus", "memory_mb", "disks_gb", "networks", "attributes", "power")
        return dict((k, state.get(k)) for k in fields)

    def diff(self):
        """before is {} for a VM to be created, also once the clone exists (the real run sets
        `vm` to the clone before the diff is taken): check mode and the run show the same diff."""
        before = self.managed(_shown(self.current)) if self.vm is not None and not self.create else {}
        after = {} if self.destroy else self.managed(self.after())
        return {"before_header": self.name, "after_header": self.name, "before": before, "after": after}

    def after(self):
        """The managed fields once the run is done."""
        state = _shown(self.current) or {}
        want = self.want
        state = dict(state, folder=want["folder"] if self.create or self.moves else state.get("folder"))
        for field in ("cpus", "memory_mb"):
            if want.get(field) is not None:
                state[field] = want[field]
        disks = list(state.get("disks_gb") or [])
        for i, size in enumerate(want.get("disks_gb") or []):
            if i < len(disks):
                disks[i] = max(disks[i], size)
            else:
                disks.append(size)
        state["disks_gb"] = disks
        if want.get("networks"):
            nets = list(state.get("networks") or [])
            nets[:len(want["networks"])] = want["networks"]
            state["networks"] = nets
        state["attributes"] = dict(state.get("attributes") or {}, **want.get("attributes") or {})
        state["power"] = {"poweron": "poweredon", "poweroff": "poweredoff", "restart": "poweredon"}.get(
            self.power, state.get("power"))
        return state

    def result(self):
        current = self.current or {}
        return {"name": self.name, "changed": self.changed,
                "action": "create" if self.create else "destroy" if self.destroy else
                "update" if self.changed else "none",
                "changes": list(self.changes) + (["power:" + self.power] if self.power else []),
                "instance_uuid": current.get("instance_uuid"),
                "folder": self.want["folder"] if self.create or self.moves else current.get("folder"),
                "datacenter": self.want.get("datacenter"), "notes": self.notes}


def _shown(state):
    if state is None:
        return None
    shown = dict(state)
    shown["disks_gb"] = [round(kb / float(GB_KB), 2) if kb % GB_KB else kb // GB_KB
                         for kb in state.get("disks_kb") or []]
    return shown


def _find_one(errors, path, inventory, dc, kind, name, what):
    found = inventory.find(dc, kind, name)
    if len(found) == 1:
        return found[0]
    if not found:
        errors.add(path, "%s %r not found in datacenter %s (looked in /%s/...; found there: %s)" % (
            what, name, dc, dc, ", ".join(inventory.names(dc, kind)) or "none"))
    else:
        errors.add(path, "%d objects named %r in datacenter %s (%s): give a unique name" % (
            len(found), name, dc, ", ".join(sorted(inventory.path(o.moid) for o in found))))
    return None


def find_template(errors, path, inventory, dc, template):
    """The template object `template` (a name, unique among the datacenter's templates, or a path
    relative to its VM folder) of datacenter `dc`, or None with the problem added to `errors`."""
    if "/" in template:
        tried = "/%s/vm/%s" % (dc, template)
        found = inventory.by_path(tried)
        if found is None or not isinstance(found.ref, vim.VirtualMachine):
            errors.add(path, "template not found at %s" % tried)
            return None
        return found
    found = [o for o in inventory.find(dc, vim.VirtualMachine, template) if o.get("config.template")]
    if len(found) == 1:
        return found[0]
    if not found:
        templates = sorted(inventory.path(o.moid) for o in inventory.vms()
                           if o.get("config.template") and inventory.datacenter(o.moid) == dc)
        errors.add(path, "template %r not found in datacenter %s (looked for /%s/vm/**/%s; templates there: %s)"
                   % (template, dc, dc, template, ", ".join(templates) or "none"))
    else:
        errors.add(path, "%d templates named %r in %s (%s): give the path relative to /%s/vm" % (
            len(found), template, dc, ", ".join(sorted(inventory.path(o.moid) for o in found)), dc))
    return None


def _folder(errors, path, inventory, folder):
    """Existing folder object (or None) and the names still to create below it."""
    parts = folder.strip("/").split("/")
    missing = []
    for depth in range(len(parts), 1, -1):
        found = inventory.by_path("/" + "/".join(parts[:depth]))
        if found is not None:
            if not isinstance(found.ref, vim.Folder):
                errors.add(path, "%s is a %s, not a folder" % (
                    inventory.path(found.moid), inventory.kind(found.moid)))
                return None, []
            return found, missing
        missing.insert(0, parts[depth - 1])
    errors.add(path, "datacenter VM folder /%s not found" % "/".join(parts[:2]))
    return None, []


def _resolve(errors, plan, inventory):
    want, path = plan.want, "vms[%s]" % plan.name
    dc = want["datacenter"]
    if dc not in inventory.datacenters():
        errors.add(path + ".datacenter", "datacenter %r not found in vCenter (found: %s)" % (
            dc, ", ".join(inventory.datacenters()) or "none"))
        return
    if want["state"] == "absent":
        return
    refs = plan.refs
    refs["template"] = find_template(errors, path + ".template", inventory, dc, want["template"])
    cluster = _find_one(errors, path + ".cluster", inventory, dc, vim.ClusterComputeResource, want["cluster"],
                        "cluster")
    if cluster is not None and want.get("resource_pool"):
        prefix = inventory.path(cluster.moid) + "/"
        pools = [o for o in inventory.find(dc, vim.ResourcePool, want["resource_pool"])
                 if inventory.path(o.moid).startswith(prefix)]
        if len(pools) != 1:
            errors.add(path + ".resource_pool", "%s resource pool %r under %s" % (
                "no" if not pools else "more than one", want["resource_pool"], inventory.path(cluster.moid)))
        else:
            refs["pool"] = pools[0].ref
    elif cluster is not None:
        refs["pool"] = cluster.get("resourcePool")
    datastore = _find_one(errors, path + ".datastore", inventory, dc, vim.Datastore, want["datastore"], "datastore")
    refs["datastore"] = datastore.ref if datastore is not None else None
    refs["networks"] = []
    for i, net in enumerate(want.get("networks") or []):
        found = list(inventory.find(dc, vim.Network, net))
        dv = [o for o in found if isinstance(o.ref, vim.dvs.DistributedVirtualPortgroup)]
        found = dv or found
        if len(found) != 1:
            _find_one(errors, "%s.networks[%d]" % (path, i), inventory, dc, vim.Network, net, "port group")
        else:
            refs["networks"].append(found[0])
    folder, plan.missing_folders = _folder(errors, path + ".folder", inventory, want["folder"])
    refs["folder"] = folder


def _identify(errors, plan, inventory, by_marker, force):
    """Find the VM by its marker; an unmarked VM of the same name in the target folder blocks."""
    path = "vms[%s]" % plan.name
    marked = by_marker.get(plan.name, [])
    if len(marked) > 1:
        errors.add(path, "%d VMs carry the S2P marker of %s (%s): remove the extra copies" % (
            len(marked), plan.name, ", ".join(sorted(inventory.path(o.moid) for o in marked))))
        return
    unmarked = [o for o in inventory.vms() if o.get("name") == plan.name and not marker_of(o)
                and inventory.path(o.moid) == "%s/%s" % (plan.want["folder"], plan.name)]
    if marked:
        plan.vm = marked[0]
    elif unmarked and plan.want["state"] == "absent" and force:
        plan.vm = unmarked[0]
    elif unmarked and plan.want["state"] == "absent":
        plan.notes.append("%s has no S2P marker: not removed (force=true removes it)" % inventory.path(
            unmarked[0].moid))
    elif unmarked:
        errors.add(path, "%s exists without the S2P marker; it is not ours to change: rename or remove it, "
                         "or pick another folder" % inventory.path(unmarked[0].moid))
    if plan.vm is not None:
        plan.current = inventory.vm_state(plan.vm)


def _changes(errors, plan, inventory):
    want, path = plan.want, "vms[%s]" % plan.name
    if want["state"] == "absent":
        plan.destroy = plan.vm is not None
        if plan.destroy and plan.current["power"] != "poweredoff":
            plan.power = "poweroff"
        return
    if plan.vm is None:
        plan.create = True
        if plan.refs.get("template") is None:
            return
        plan.current = dict(inventory.vm_state(plan.refs["template"]), power="poweredoff", attributes={},
                            build_state="building", folder=want["folder"], instance_uuid=None)
    cur = plan.current
    if not plan.create and cur["folder"] != want["folder"]:
        if cur["datacenter"] != want["datacenter"]:
            plan.notes.append("found in %s, in another datacenter than %s: not moved (vCenter moves VMs between "
                              "folders of one datacenter only)" % (cur["folder"], want["folder"]))
        else:
            plan.changes.append("folder")
    for field in ("cpus", "memory_mb"):
        if want.get(field) is not None and cur.get(field) != want[field]:
            plan.changes.append(field)
    for i, size in enumerate(want.get("disks_gb") or []):
        have = cur["disks_kb"][i] if i < len(cur["disks_kb"]) else None
        if have is not None and have > size * GB_KB:
            shown = _shown(cur)["disks_gb"][i]
            errors.add("%s.disks_gb[%d]" % (path, i), "disk %d is %s GB, the request of %d GB would shrink it; "
                                                      "vSphere cannot shrink disks (ask for at least %s GB)"
                       % (i + 1, shown, size, shown))
        elif have is None or have < size * GB_KB:
            plan.changes.append("disks_gb[%d]" % i)
    for i, net in enumerate(want.get("networks") or []):
        if i >= len(cur["networks"]) or cur["networks"][i] != net:
            plan.changes.append("networks[%d]" % i)
    for key, value in sorted((want.get("attributes") or {}).items()):
        if cur["attributes"].get(key) != value:
            plan.changes.append("attributes.%s" % key)
    if not plan.create and cur.get("build_state") not in (None, STATE_READY):
        plan.changes.append("build (finishing a VM left half-made by an interrupted run)")
    power = cur["power"]
    state = want["state"]
    building = plan.create or cur.get("build_state") not in (None, STATE_READY)
    if state == "restarted":
        plan.power = "restart" if power == "poweredon" else "poweron"
    elif (state == "poweredon" or (state == "present" and building)) and power != "poweredon":
        plan.power = "poweron"
    elif state == "poweredoff" and power != "poweredoff":
        plan.power = "poweroff"


def plan_batch(wanted, inventory, force=False):
    """One VMPlan per desired VM, or ValidationError with every problem of the batch."""
    errors = Problems()
    by_marker = {}
    for vm in inventory.vms():
        marker = marker_of(vm)
        if marker:
            by_marker.setdefault(marker, []).append(vm)
    plans = []
    for want in wanted:
        plan = VMPlan(want)
        before = len(errors)
        _resolve(errors, plan, inventory)
        if len(errors) == before:
            _identify(errors, plan, inventory, by_marker, force)
        if len(errors) == before:
            _changes(errors, plan, inventory)
        plans.append(plan)
    errors.raise_if_any()
    return plans
