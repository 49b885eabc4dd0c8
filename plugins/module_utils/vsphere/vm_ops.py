# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carry out vsphere_vm plans: folders, concurrent clones, reconfiguration, power, removal.

This is private to esa.s2p: it may change at any time, do not import it from outside
the collection.

Converger.apply() runs in phases, each phase's vCenter tasks started together (at most
`parallel` at once) and waited on together by VSphereClient.run_tasks():
folders -> clones (marker s2p.vm and s2p.state=building written by the clone spec) -> moves of
marked VMs found in another folder ->
one new inventory read -> reconfigure (CPU, memory, disks, NICs) -> guest
customisation of new VMs -> custom attributes -> power -> s2p.state=ready.
Before cloning, clones still running on vCenter for the same name and folder (left by a killed
run) are waited for instead of started again (VSphereClient.running_clones).
A run killed anywhere leaves VMs that carry the marker; the next run finds them
by it and finishes them, it never clones a second copy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError, ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.vsphere import folder_prune
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.client import vim
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.inventory import (
    ATTRIBUTE_PREFIX,
    ATTRIBUTES,
    MARKER_KEY,
    STATE_BUILDING,
    STATE_KEY,
    STATE_READY,
    marker_of,
    read_inventory,
)
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.vm_plan import GB_KB, plan_batch
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.vm_spec import normalise_batch


class BatchFailed(S2PError):
    """Some VMs failed; the others were converged. `failures` is {vm name: message}; `result`, set by
    converge(), is the batch's result at the failure (every VM with what was done)."""

    def __init__(self, failures):
        self.failures = failures
        self.result = {}
        super(BatchFailed, self).__init__("%d VM(s) failed:\n- %s" % (
            len(failures), "\n- ".join("%s: %s" % item for item in sorted(failures.items()))))

    def as_fail_kwargs(self):
        failure = dict((k, v) for k, v in self.result.items() if k != "changed")
        failure.update(msg=str(self), changed=True, failures=self.failures)
        return failure


def _option(key, value):
    return vim.option.OptionValue(key=key, value=value)


def clone_spec(plan):
    refs = plan.refs
    config = vim.vm.ConfigSpec(numCPUs=plan.want["cpus"], memoryMB=plan.want["memory_mb"],
                               extraConfig=[_option(MARKER_KEY, plan.name), _option(STATE_KEY, STATE_BUILDING)])
    location = vim.vm.RelocateSpec(pool=refs["pool"], datastore=refs["datastore"])
    return vim.vm.CloneSpec(location=location, config=config, powerOn=False, template=False)


def reconfigure_spec(plan, inventory):
    """The ConfigSpec for CPU, memory, disks and NICs of an existing VM (None when nothing differs)."""
    want, vm = plan.want, plan.vm
    state = inventory.vm_state(vm)
    spec = vim.vm.ConfigSpec()
    changed = False
    if want["cpus"] is not None and state["cpus"] != want["cpus"]:
        spec.numCPUs, changed = want["cpus"], True
    if want["memory_mb"] is not None and state["memory_mb"] != want["memory_mb"]:
        spec.memoryMB, changed = want["memory_mb"], True
    devices = vm.get("config.hardware.device") or []
    disks = sorted((d for d in devices if isinstance(d, vim.vm.device.VirtualDisk)),
                   key=lambda d: (d.controllerKey, d.unitNumber or 0))
    changes = []
    for i, size in enumerate(want.get("disks_gb") or []):
        if i < len(disks):
            if disks[i].capacityInKB < size * GB_KB:
                disk = disks[i]
                disk.capacityInKB = size * GB_KB
                disk.capacityInBytes = size * GB_KB * 1024
                changes.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=disk))
        else:
            changes.append(_new_disk(devices, disks, size, len(changes)))
    nics = sorted((d for d in devices if isinstance(d, vim.vm.device.VirtualEthernetCard)), key=lambda d: d.key)
    for i, net in enumerate(plan.refs.get("networks") or []):
        if i < len(nics):
            if inventory.nic_network(nics[i]) != net.get("name"):
                nics[i].backing = _backing(net, inventory)
                changes.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=nics[i]))
        else:
            nic = vim.vm.device.VirtualVmxnet3(key=-100 - i, backing=_backing(net, inventory),
                                               connectable=vim.vm.device.VirtualDevice.ConnectInfo(
                                                   startConnected=True, allowGuestControl=True))
            changes.append(vim.vm.device.VirtualDeviceSpec(operation="add", device=nic))
    if changes:
        spec.deviceChange, changed = changes, True
    return spec if changed else None


def _new_disk(devices, disks, size, offset):
    controllers = [d for d in devices if isinstance(d, vim.vm.device.VirtualSCSIController)]
    if not controllers:
        raise S2PError("the VM has no SCSI controller to attach a new disk to",
                       hint="Use a template with a SCSI controller")
    controller = controllers[0]
    used = set(d.unitNumber for d in devices if d.controllerKey == controller.key)
    free = [u for u in range(16) if u != 7 and u not in used]
    unit = free[offset]
    backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(diskMode="persistent", thinProvisioned=True)
    disk = vim.vm.device.VirtualDisk(key=-200 - offset, controllerKey=controller.key, unitNumber=unit,
                                     capacityInKB=size * GB_KB, backing=backing)
    return vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)


def _backing(net, inventory):
    if isinstance(net.ref, vim.dvs.DistributedVirtualPortgroup):
        switch = net.get("config.distributedVirtualSwitch")
        uuid = inventory.objects[switch._moId].get("uuid") if switch is not None and \
            switch._moId in inventory.objects else None
        return vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
            port=vim.dvs.PortConnection(portgroupKey=net.get("key"), switchUuid=uuid))
    return vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=net.get("name"), network=net.ref)


def customization_spec(plan, nic_count):
    guest = plan.want["guest"]
    identity = vim.vm.customization.LinuxPrep(
        hostName=vim.vm.customization.FixedName(name=guest["hostname"]), domain=guest["domain"] or "localdomain")
    adapters = []
    for i in range(max(nic_count, 1)):
        adapter = vim.vm.customization.IPSettings()
        if i == 0 and guest["ip"]:
            adapter.ip = vim.vm.customization.FixedIp(ipAddress=guest["ip"])
            adapter.subnetMask = _mask(guest["prefix"])
            if guest["gateway"]:
                adapter.gateway = [guest["gateway"]]
        else:
            adapter.ip = vim.vm.customization.DhcpIpGenerator()
        if guest["dns_servers"]:
            adapter.dnsServerList = guest["dns_servers"]
        if guest["domain"]:
            adapter.dnsDomain = guest["domain"]
        adapters.append(vim.vm.customization.AdapterMapping(adapter=adapter))
    return vim.vm.customization.Specification(
        identity=identity, nicSettingMap=adapters,
        globalIPSettings=vim.vm.customization.GlobalIPSettings(
            dnsServerList=guest["dns_servers"] or None,
            dnsSuffixList=[guest["domain"]] if guest["domain"] else None))


def _mask(prefix):
    bits = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    return ".".join(str((bits >> s) & 0xFF) for s in (24, 16, 8, 0))


class Converger(object):
    """Plans a batch on one inventory read and, unless check mode, carries the plan out."""

    def __init__(self, client, parallel=8, task_timeout=3600, force=False, customize=True):
        self.client = client
        self.parallel = parallel
        self.task_timeout = task_timeout
        self.force = force
        self.customize = customize
        self.failures = {}

    def plan(self, wanted):
        self.names = set(w["name"] for w in wanted)
        self.inventory = read_inventory(self.client, detail_names=self.names)
        return plan_batch(wanted, self.inventory, force=self.force)

    def _run(self, jobs):
        """Run [(plan, label, start)]; failed VMs go to self.failures and drop out of later phases."""
        by_label = dict((label, plan) for plan, label, _s in jobs)
        outcome = self.client.run_tasks([(label, start) for _p, label, start in jobs], self.parallel,
                                        self.task_timeout)
        results = {}
        for label, (result, error) in outcome.items():
            plan = by_label[label]
            if error is not None:
                self.failures[plan.name] = str(error)
            else:
                results[plan.name] = result
        return results

    def live(self, plans):
        return [p for p in plans if p.name not in self.failures]

    def apply(self, plans):
        absent = [p for p in plans if p.destroy]
        present = [p for p in plans if not p.destroy and p.want["state"] != "absent"]
        self._power([p for p in absent if p.power])
        self._run([(p, "removing %s" % p.name, p.vm.ref.Destroy_Task) for p in self.live(absent)])
        todo = [p for p in present if p.changed]
        if todo:
            self._create([p for p in todo if p.create])
            self._move([p for p in todo if p.moves])
            self._configure(self.live(todo))
        if self.failures:
            raise BatchFailed(self.failures)

    def remove_folders(self, empty):
        """The folders the batch left empty, deepest first, one after the other (a folder's
        removal must end before its parent's)."""
        if self.failures:
            return
        for path, folder in empty:
            outcome = self.client.run_tasks([("removing folder %s" % path, folder.ref.Destroy_Task)], 1,
                                            self.task_timeout)
            (_result, error), = outcome.values()
            if error is not None:
                self.failures["folder " + path] = str(error)
                raise BatchFailed(self.failures)

    def _create(self, plans):
        for plan in plans:
            self._folders(plan)
        in_flight = self.client.running_clones() if self.live(plans) else {}
        jobs = []
        for plan in self.live(plans):
            folder = plan.refs["folder"]
            task = in_flight.get((plan.name, folder.moid))
            if task is not None:
                plan.notes.append("a clone of %s started by an earlier run was still running (task %s): waited for "
                                  "it instead of cloning again" % (plan.name, task._moId))
                jobs.append((plan, "waiting for the earlier run's clone of %s" % plan.name, _returns(task)))
                continue
            spec = clone_spec(plan)
            jobs.append((plan, "cloning %s" % plan.name, _bind(plan.refs["template"].ref.CloneVM_Task,
                                                               folder=folder.ref, name=plan.name, spec=spec)))
        self._run(jobs)

    def _move(self, plans):
        """VMs of ours found in another folder of their datacenter go into the declared one."""
        for plan in plans:
            self._folders(plan)
        self._run([(p, "moving %s into %s" % (p.name, p.want["folder"]),
                    _bind(p.refs["folder"].ref.MoveIntoFolder_Task, list=[p.vm.ref])) for p in self.live(plans)])

    def _folders(self, plan):
        parent = plan.refs["folder"]
        for name in plan.missing_folders:
            existing = [o for o in self.inventory.find(self.inventory.datacenter(parent.moid), vim.Folder, name)
                        if o.get("parent") is not None and o.get("parent")._moId == parent.moid]
            if existing:
                parent = existing[0]
                continue
            try:
                folder = self.client.create_folder(parent.ref, name)
            except S2PError as exc:
                self.failures[plan.name] = str(exc)
                return
            parent = self.inventory.add(folder, name, parent.moid)
        plan.refs["folder"] = parent
        plan.missing_folders = []

    def _configure(self, plans):
        """Second phase on a fresh read: hardware, customisation, attributes, power, ready mark."""
        inventory = read_inventory(self.client, detail_names=self.names)
        by_marker = {}
        for vm in inventory.vms():
            marker = marker_of(vm)
            if marker:
                by_marker[marker] = vm
        for plan in plans:
            plan.vm = by_marker.get(plan.name, plan.vm)
            if plan.vm is None:
                self.failures[plan.name] = "the clone finished but no VM carries its marker"
        plans = self.live(plans)
        states = dict((p.name, inventory.vm_state(p.vm)) for p in plans)
        jobs = []
        for plan in plans:
            spec = reconfigure_spec(plan, inventory)
            if spec is not None:
                jobs.append((plan, "reconfiguring %s" % plan.name, _bind(plan.vm.ref.ReconfigVM_Task, spec=spec)))
        self._run(jobs)
        if self.customize:
            jobs = []
            for plan in self.live(plans):
                state = states[plan.name]
                if state["build_state"] == STATE_BUILDING and state["power"] == "poweredoff":
                    spec = customization_spec(plan, len(state["networks"]))
                    jobs.append((plan, "customising %s" % plan.name, _bind(plan.vm.ref.CustomizeVM_Task, spec=spec)))
            self._customize(jobs)
        self._attributes(self.live(plans), states)
        self._power([p for p in self.live(plans) if p.power])
        ready = vim.vm.ConfigSpec(extraConfig=[_option(STATE_KEY, STATE_READY)])
        self._run([(p, "marking %s ready" % p.name, _bind(p.vm.ref.ReconfigVM_Task, spec=ready))
                   for p in self.live(plans) if states[p.name]["build_state"] != STATE_READY])
        for plan in self.live(plans):
            plan.current = dict(states[plan.name], instance_uuid=states[plan.name]["instance_uuid"])

    def _customize(self, jobs):
        outcome = self.client.run_tasks([(label, start) for _p, label, start in jobs], self.parallel,
                                        self.task_timeout)
        for plan, label, _s in jobs:
            error = outcome[label][1]
            # A customisation pending from an interrupted run applies at power-on: fine.
            if error is not None and "CustomizationPending" not in str(error):
                self.failures[plan.name] = str(error)

    def _attributes(self, plans, states):
        wanted = set(k for p in plans for k in (p.want.get("attributes") or {}))
        if not wanted:
            return
        keys = self.client.custom_field_keys([ATTRIBUTE_PREFIX + k for k in ATTRIBUTES if k in wanted], create=True)
        manager = self.client.content.customFieldsManager
        for plan in plans:
            for key, value in sorted((plan.want.get("attributes") or {}).items()):
                if states[plan.name]["attributes"].get(key) == value:
                    continue
                try:
                    self.client.call("setting %s on %s" % (key, plan.name), manager.SetField,
                                     entity=plan.vm.ref, key=keys[ATTRIBUTE_PREFIX + key], value=value)
                except S2PError as exc:
                    self.failures[plan.name] = str(exc)
                    break

    def _power(self, plans):
        off = [p for p in plans if p.power in ("poweroff", "restart")]
        self._run([(p, "powering off %s" % p.name, p.vm.ref.PowerOffVM_Task) for p in off])
        on = [p for p in self.live(plans) if p.power in ("poweron", "restart")]
        self._run([(p, "powering on %s" % p.name, p.vm.ref.PowerOnVM_Task) for p in on])


def _bind(method, **kwargs):
    return lambda: method(**kwargs)


def _returns(task):
    """A run_tasks start function for a task that is already running."""
    return lambda: task


def batch_result(plans, diff, empty_folders=(), folder_notes=()):
    """The vsphere_vm result of `plans`: changed, vms, counts by action, the folders removed (or
    to remove), and the diff when asked."""
    vms = [p.result() for p in plans]
    counts = dict((a, 0) for a in ("create", "update", "destroy", "none"))
    for vm in vms:
        counts[vm["action"]] += 1
    result = {"changed": any(p.changed for p in plans) or bool(empty_folders), "vms": vms, "counts": counts,
              "folders_removed": [path for path, _obj in empty_folders], "folder_notes": list(folder_notes)}
    if diff:
        result["diff"] = [p.diff() for p in plans if p.changed] + [
            {"before_header": path, "after_header": path, "before": {"folder": path}, "after": {}}
            for path, _obj in empty_folders]
    return result


def converge(params, check_mode, diff, new_client):
    """The vsphere_vm module's work on its validated `params`; returns the module's result.

    The options and the whole batch are checked before vCenter is contacted (ValidationError);
    new_client() gives the client (nothing sent yet); one inventory read plans every VM, and
    unless check_mode the plans are carried out. Some VMs failing raises BatchFailed with the
    result of the whole batch."""
    if params["parallel"] < 1 or params["task_timeout"] < 1:
        raise ValidationError(["parallel and task_timeout: must be at least 1"])
    if params["progress_every"] < 0:
        raise ValidationError(["progress_every: must be 0 (no progress lines) or a number of VMs"])
    folders = params.get("remove_empty_folders") or []
    problems = folder_prune.check_paths(folders)
    if folders and params["state"] != "absent":
        problems.append("remove_empty_folders: only with state absent (the folders a removed batch leaves empty)")
    if problems:
        raise ValidationError(problems)
    wanted = normalise_batch(params["vms"], params["state"])
    client = new_client()
    converger = Converger(client, parallel=params["parallel"], task_timeout=params["task_timeout"],
                          force=params["force"], customize=params["customize"])
    plans = []
    try:
        with client:
            plans = converger.plan(wanted)
            try:
                empty, notes = folder_prune.plan_removal(converger.inventory, folders, plans)
            except ValueError as exc:
                raise ValidationError([str(exc)]) from exc
            result = batch_result(plans, diff, empty, notes)
            if result["changed"] and not check_mode:
                converger.apply(plans)
                converger.remove_folders(empty)
                result = batch_result(plans, diff, empty, notes)
    except BatchFailed as exc:
        exc.result = batch_result(plans, diff)
        raise
    return result
