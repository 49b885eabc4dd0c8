"""Helpers of the vsphere_vm tests: VM items, plays, and an independent pyVmomi reader of vcsim.

The reader uses pyVmomi directly (not the collection's client) so the tests verify the
server's state with the backend's own client."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

SITES = {"esoc": "ESOC", "esec": "ESEC", "esrin": "ESRIN"}


def vm_items(prefix: str, per_site: int, env: str = "ire", cpus: int = 2, memory_mb: int = 2048,
             disk_gb: int = 20, sites=("esoc", "esec", "esrin")) -> list[dict]:
    """VMs as the model publishes them, in a test-only project folder /<DC>/vm/s2p/<prefix>/..."""
    items = []
    for site in sites:
        dc = SITES[site]
        for index in range(1, per_site + 1):
            name = f"{site}-{prefix}-{env}-app{index:02d}"
            items.append({
                "name": name, "site": site, "role": "app", "index": index, "datacenter": dc,
                "cluster": f"{dc}-CL01", "datastore": f"{site}-ds01", "network": f"{site}-vm-net",
                "folder": f"/{dc}/vm/s2p/{prefix}/{env}", "template": "debian-12-template",
                "cpus": cpus, "memory_mb": memory_mb, "disk_gb": disk_gb, "segment": "pd", "project": prefix,
                "environment": env, "owner": "s2p-tests", "fqdn": f"{name}.s2p.esa.int",
            })
    return items


def vm_play(vms, state: str = "present", task: str = "vms", **options) -> list:
    return [{"name": "vsphere_vm", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/esa.s2p.vsphere": "{{ s2p_vsphere_connection }}"},
             "tasks": [{"name": task, "esa.s2p.vsphere_vm": {"vms": vms, "state": state, **options}}]}]


class Vcsim:
    """A pyVmomi session to the lab's vcsim, independent of the collection's code."""

    def __init__(self, endpoint: dict):
        context = ssl.create_default_context(cafile=endpoint["ca_file"])
        self.si = SmartConnect(host=endpoint["hostname"], port=endpoint["port"], user=endpoint["username"],
                               pwd=endpoint["password"], sslContext=context)
        self.content = self.si.content

    def close(self):
        Disconnect(self.si)

    def _all(self, kind):
        view = self.content.viewManager.CreateContainerView(self.content.rootFolder, [kind], True)
        try:
            return list(view.view)
        finally:
            view.DestroyView()

    def vms(self, name_part: str) -> list:
        """VMs whose name contains name_part, names read in one property-collector call: a VM
        another test removes meanwhile is simply absent (reading vm.name one by one raced)."""
        collector = vmodl.query.PropertyCollector
        view = self.content.viewManager.CreateContainerView(self.content.rootFolder, [vim.VirtualMachine], True)
        try:
            traverse = collector.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)
            spec = collector.FilterSpec(objectSet=[collector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                                        propSet=[collector.PropertySpec(type=vim.VirtualMachine, pathSet=["name"])])
            contents = self.content.propertyCollector.RetrieveContents([spec])
        finally:
            view.DestroyView()
        return [c.obj for c in contents for p in c.propSet if p.name == "name" and name_part in p.val]

    def wait_tasks_done(self, timeout: float = 60) -> None:
        """Wait until vCenter runs no task: a task a killed client started goes on without it (a clone
        in flight makes its VM a moment later), so what a kill left is read only after this."""
        deadline = time.monotonic() + timeout
        while self._busy_tasks():
            assert time.monotonic() < deadline, f"vCenter tasks still running after {timeout} s"
            time.sleep(0.1)

    def _busy_tasks(self) -> int:
        """Tasks queued or running, read as info.state only (vcsim's TaskInfo of some tasks names an
        entity pyVmomi refuses to deserialise)."""
        tasks = self.content.taskManager.recentTask or []
        if not tasks:
            return 0
        collector = vmodl.query.PropertyCollector
        spec = collector.FilterSpec(objectSet=[collector.ObjectSpec(obj=t) for t in tasks],
                                    propSet=[collector.PropertySpec(type=vim.Task, pathSet=["info.state"])])
        states = [p.val for c in self.content.propertyCollector.RetrieveContents([spec]) for p in c.propSet]
        return sum(1 for state in states if state in ("queued", "running"))

    @staticmethod
    def path(obj) -> str:
        parts = []
        while obj is not None and not (isinstance(obj, vim.Folder) and obj.parent is None):
            parts.insert(0, obj.name)
            obj = obj.parent
        return "/" + "/".join(parts)

    def describe(self, vm) -> dict:
        """What the tests check, read property by property with plain pyVmomi."""
        fields = dict((f.key, f.name) for f in self.content.customFieldsManager.field)
        extra = dict((o.key, o.value) for o in vm.config.extraConfig)
        devices = vm.config.hardware.device
        disks = [d.capacityInKB // (1024 * 1024) for d in devices if isinstance(d, vim.vm.device.VirtualDisk)]
        nics = [d for d in devices if isinstance(d, vim.vm.device.VirtualEthernetCard)]
        pg_names = dict((pg.key, pg.name) for pg in self._all(vim.dvs.DistributedVirtualPortgroup))
        return {
            "path": self.path(vm), "cpus": vm.config.hardware.numCPU, "memory_mb": vm.config.hardware.memoryMB,
            "disks_gb": disks, "networks": [pg_names.get(n.backing.port.portgroupKey) for n in nics],
            "marker": extra.get("s2p.vm"), "build": extra.get("s2p.state"), "power": str(vm.runtime.powerState),
            "attributes": dict((fields.get(v.key), v.value) for v in vm.customValue),
            "datastore": [d.name for d in vm.datastore], "pool_owner": vm.resourcePool.owner.name,
            "hostname": vm.guest.hostName, "uuid": vm.config.instanceUuid,
        }

    def folder(self, path: str):
        return self.content.searchIndex.FindByInventoryPath(path.lstrip("/"))

    def destroy_folder(self, path: str) -> None:
        """Remove a test folder and every VM in it (powered off first)."""
        folder = self.folder(path)
        if folder is None:
            return
        view = self.content.viewManager.CreateContainerView(folder, [vim.VirtualMachine], True)
        for vm in view.view:
            if vm.runtime.powerState == "poweredOn":
                _wait(vm.PowerOffVM_Task())
            _wait(vm.Destroy_Task())  # vcsim's folder Destroy_Task leaves the VMs behind
        view.DestroyView()
        _wait(folder.Destroy_Task())


def _wait(task) -> None:
    while task.info.state in ("queued", "running"):
        time.sleep(0.05)
    if task.info.state == "error":
        raise RuntimeError(task.info.error.msg)


def endpoint_with_password(lab: dict) -> dict:
    endpoint = dict(lab["vcsim"])
    endpoint["password"] = Path(endpoint["password_file"]).read_text().strip()
    endpoint["ca_file"] = lab["ca_file"]
    return endpoint


@pytest.fixture(scope="module")
def vcsim_endpoint(lab) -> dict:
    return endpoint_with_password(lab)


@pytest.fixture
def vcsim(vcsim_endpoint, prefix):
    """A pyVmomi session; removes every test folder /<DC>/vm/s2p/<prefix> (and /<DC>/vm/<prefix>-*) at the end."""
    session = Vcsim(vcsim_endpoint)
    yield session
    for dc in SITES.values():
        for path in (f"/{dc}/vm/s2p/{prefix}", f"/{dc}/vm/{prefix}-decoy", f"/{dc}/vm/s2p/pd/{prefix}"):
            session.destroy_folder(path)
    leftovers = [vm.name for vm in session.vms(prefix)]
    session.close()
    assert not leftovers, f"test VMs left behind: {leftovers}"


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a process and every descendant: ansible runs the module in its own session."""
    for pid in [proc.pid] + _descendants(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
