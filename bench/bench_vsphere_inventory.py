"""Benchmark: `ansible-inventory --list` with esa.s2p.vsphere against
community.vmware.vmware_vm_inventory (as shipped, and tuned with
enable_backward_compatibility: false) on the same vcsim, with HTTP request counts.

Also prints the floor: one bare pyVmomi PropertyCollector call reading the same fields plus
`ansible-inventory --list` on an empty static inventory. The bench starts its OWN vcsim for
each VM count (the lab's build, a free loopback port, its own state folder; stopped by PID at
the end), so the shared lab vcsim is never restarted. The bench VMs carry no S2P marker, so
our plugin runs with managed_only: false (every VM becomes a host, as with the community plugin).
Every timing is the best of S2P_BENCH_REPEAT runs (default 2), for every contender alike, except the
shipped community plugin above 2,000 VMs (about a minute a run), timed once.

    python bench/bench_vsphere_inventory.py            (1,000 and 5,000 VMs)
    python bench/bench_vsphere_inventory.py 300 2000   (other counts)
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time

import yaml
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl
from results_io import result, write
from vsphere_common import ansible, proxy, workdir
from vsphere_own_vcsim import OwnVcsim

NAME = "vsphere_inventory"
REPEAT = int(os.environ.get("S2P_BENCH_REPEAT", "2"))
COUNTS = (1000, 5000)
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


def timed_inventory(path, repeat: int = 1) -> tuple[float, dict]:
    """Best of `repeat` runs of ansible-inventory --list, and its parsed output."""
    best = None
    for _attempt in range(repeat):
        started = time.perf_counter()
        out = ansible(["ansible-inventory", "-i", str(path), "--list"])
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, json.loads(out.stdout)


def main() -> None:
    counts = [int(arg) for arg in sys.argv[1:]] or list(COUNTS)
    for count in counts:
        started = time.perf_counter()
        with OwnVcsim(vms=count) as sim:
            print(f"own vcsim (pid {sim.pid}) on port {sim.endpoint['port']} with {count} VMs, started in "
                  f"{time.perf_counter() - started:.1f}s", flush=True)
            measure(sim.endpoint)


def measure(vcsim: dict) -> None:
    directory = workdir()
    pc_s, n = min(floor_read(vcsim) for _attempt in range(REPEAT))
    empty = directory / "empty.yml"
    empty.write_text("all:\n  hosts: {}\n")
    empty_s = timed_inventory(empty, REPEAT)[0]
    floor_s = pc_s + empty_s
    print(f"floor: one PropertyCollector call {pc_s:.2f}s for {n} VMs + empty ansible-inventory {empty_s:.2f}s"
          f" = {floor_s:.2f}s", flush=True)
    direct = {"hostname": vcsim["hostname"], "port": vcsim["port"], "username": vcsim["username"],
              "password": vcsim["password"]}
    configs = {
        "ours": {"plugin": "esa.s2p.vsphere", "managed_only": False, "ca_path": vcsim["ca_file"]},
        "community.vmware.vmware_vm_inventory": {"plugin": "community.vmware.vmware_vm_inventory",
                                                 "validate_certs": False},
        "community.vmware.vmware_vm_inventory (tuned)": {"plugin": "community.vmware.vmware_vm_inventory",
                                                         "validate_certs": False,
                                                         "enable_backward_compatibility": False},
    }
    files = {label: directory / ("%d.%s.yml" % (i, "vsphere" if label == "ours" else "vmware"))
             for i, label in enumerate(configs)}
    # Timed runs talk to vcsim directly; request counts come from separate runs through the proxy.
    timing, hosts = {}, {}
    for label, config in configs.items():
        files[label].write_text(yaml.safe_dump({**config, **direct}))
        # The shipped community plugin takes about a minute at 5,000 VMs: timed once there.
        repeat = 1 if label == "community.vmware.vmware_vm_inventory" and n > 2000 else REPEAT
        timing[label], data = timed_inventory(files[label], repeat)
        hosts[label] = len(data["_meta"]["hostvars"])
        print(f"{label}: {timing[label]:.2f}s (best of {repeat}), {hosts[label]} hosts", flush=True)
    requests = {}
    with proxy(vcsim, directory) as counting:
        for label in ("ours", "community.vmware.vmware_vm_inventory"):
            config = {**configs[label], **direct, "hostname": "127.0.0.1", "port": counting.port,
                      "validate_certs": False}
            config.pop("ca_path", None)
            counted = directory / ("counted." + files[label].name.split(".", 1)[1])
            counted.write_text(yaml.safe_dump(config))
            counting.reset()
            timed_inventory(counted)
            requests[label] = counting.count
    requests["community.vmware.vmware_vm_inventory (tuned)"] = requests["community.vmware.vmware_vm_inventory"]
    results = []
    for label in configs:
        if label == "ours":
            continue
        results.append(result(NAME, n, "first", timing["ours"], label, timing[label], floor_s=round(floor_s, 3),
                              ours_vs_floor=round(timing["ours"] / floor_s, 2), ours_requests=requests["ours"],
                              anchor_requests=requests[label], ours_hosts=hosts["ours"], anchor_hosts=hosts[label]))
    write(f"{NAME}_{n}", results)
    for item in results:
        print(f"  {item['anchor']}: requests ours {item['ours_requests']} vs {item['anchor_requests']}; hosts "
              f"{item['ours_hosts']} vs {item['anchor_hosts']}; ours/floor {item['ours_vs_floor']}")


if __name__ == "__main__":
    main()
