"""Benchmark: `ansible-inventory --list` with esa.s2p.vsphere against
community.vmware.vmware_vm_inventory (as shipped, and tuned with
enable_backward_compatibility: false) on the same vcsim, with HTTP request counts.

Also prints the floor: one bare pyVmomi PropertyCollector call reading the same fields plus
`ansible-inventory --list` on an empty static inventory. The VM count is what vcsim holds:
start it with S2P_VCSIM_VMS=N (`lab.py down vcsim; S2P_VCSIM_VMS=1000 lab.py up vcsim`) and
restore the default afterwards. The bench VMs carry no S2P marker, so our plugin runs with
managed_only: false (every VM becomes a host, as with the community plugin).

    python bench/bench_vsphere_inventory.py
"""

from __future__ import annotations

import json
import ssl
import time

import yaml
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl
from results_io import result, write
from vsphere_common import ansible, endpoint, proxy, workdir

NAME = "vsphere_inventory"
FIELDS = ["name", "runtime.powerState", "guest.ipAddress", "config.instanceUuid", "customValue", "parent"]


def floor_read(vcsim: dict) -> tuple[float, int]:
    """Seconds for one PropertyCollector call over a ContainerView (after login), and the VM count."""
    si = SmartConnect(host=vcsim["hostname"], port=vcsim["port"], user=vcsim["username"], pwd=vcsim["password"],
                      sslContext=ssl.create_default_context(cafile=vcsim["ca_file"]))
    try:
        content = si.content
        started = time.perf_counter()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        traverse = vmodl.query.PropertyCollector.TraversalSpec(name="v", path="view", skip=False,
                                                               type=vim.view.ContainerView)
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.VirtualMachine, pathSet=FIELDS)])
        items = content.propertyCollector.RetrieveContents([spec])
        view.DestroyView()
        return time.perf_counter() - started, len(items)
    finally:
        Disconnect(si)


def timed_inventory(path) -> tuple[float, dict]:
    started = time.perf_counter()
    out = ansible(["ansible-inventory", "-i", str(path), "--list"])
    return time.perf_counter() - started, json.loads(out.stdout)


def main() -> None:
    vcsim = endpoint()
    directory = workdir()
    pc_s, n = floor_read(vcsim)
    empty = directory / "empty.yml"
    empty.write_text("all:\n  hosts: {}\n")
    empty_s, _ = timed_inventory(empty)
    floor_s = pc_s + empty_s
    print(f"floor: one PropertyCollector call {pc_s:.2f}s for {n} VMs + empty ansible-inventory {empty_s:.2f}s"
          f" = {floor_s:.2f}s")
    results = []
    with proxy(vcsim, directory) as counting:
        base = {"hostname": "127.0.0.1", "port": counting.port, "username": vcsim["username"],
                "password": vcsim["password"], "validate_certs": False}
        ours_file = directory / "s2p.vsphere.yml"
        ours_file.write_text(yaml.safe_dump({"plugin": "esa.s2p.vsphere", "managed_only": False, **base}))
        counting.reset()
        ours_s, ours_data = timed_inventory(ours_file)
        ours_requests = counting.count
        ours_hosts = len(ours_data["_meta"]["hostvars"])
        for label, extra in (("community.vmware.vmware_vm_inventory", {}),
                             ("community.vmware.vmware_vm_inventory (tuned)",
                              {"enable_backward_compatibility": False})):
            theirs_file = directory / ("tuned.vmware.yml" if extra else "default.vmware.yml")
            theirs_file.write_text(yaml.safe_dump({"plugin": "community.vmware.vmware_vm_inventory", **base,
                                                   **extra}))
            counting.reset()
            theirs_s, theirs_data = timed_inventory(theirs_file)
            theirs_requests = counting.count
            theirs_hosts = len(theirs_data["_meta"]["hostvars"])
            results.append(result(NAME, n, "first", ours_s, label, theirs_s, floor_s=round(floor_s, 3),
                                  ours_vs_floor=round(ours_s / floor_s, 2), ours_requests=ours_requests,
                                  anchor_requests=theirs_requests, ours_hosts=ours_hosts,
                                  anchor_hosts=theirs_hosts))
    write(f"{NAME}_{n}", results)
    for item in results:
        print(f"  {item['anchor']}: requests ours {item['ours_requests']} vs {item['anchor_requests']}; hosts "
              f"{item['ours_hosts']} vs {item['anchor_hosts']}; ours/floor {item['ours_vs_floor']}")


if __name__ == "__main__":
    main()
