"""Benchmark: 60 VMs at three sites (20 each) with ONE esa.s2p.vsphere_vm task against a loop of
community.vmware.vmware_guest, first run and no-change re-run, on a vcsim of its own (the lab's
build on a free loopback port, stopped by PID at the end; the shared lab vcsim is not loaded).

Both go through the same HTTPS counting proxy, so the request counts are comparable. Both
create the same VMs (clone from the site's template, CPU, memory, disk, port group, power
on); ours also writes the S2P marker, sets five custom attributes and runs the guest
customisation (vmware_guest's customvalues fail on vcsim 0.24.2: "Unable to find custom
value key", so the loop does less work than ours).
Everything created is removed at the end.

    python bench/bench_vsphere_provision.py        (S2P_BENCH_VMS_PER_SITE=20 by default)
"""

from __future__ import annotations

import json
import os
import secrets
import time

import yaml
from results_io import result, write
from vsphere_common import VENV_BIN, ansible, proxy, workdir
from vsphere_helpers import SITES, Vcsim, vm_items
from vsphere_own_vcsim import OwnVcsim

PER_SITE = int(os.environ.get("S2P_BENCH_VMS_PER_SITE", "20"))
NAME = "vsphere_provision"
ANCHOR = "community.vmware.vmware_guest loop"


def _connection(vcsim: dict, port: int) -> dict:
    return {"hostname": "127.0.0.1", "port": port, "username": vcsim["username"], "password": vcsim["password"],
            "validate_certs": False}


def ours_play(vms: list[dict]) -> list:
    return [{"name": "ours", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "vms", "esa.s2p.vsphere_vm": {**{k: "{{ conn.%s }}" % k for k in
                                                                 ("hostname", "port", "username", "password",
                                                                  "validate_certs")},
                                                              "vms": vms, "parallel": 8}}]}]


def community_play(vms: list[dict]) -> list:
    conn = {k: "{{ conn.%s }}" % k for k in ("hostname", "port", "username", "password", "validate_certs")}
    return [{"name": "community", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "vms", "loop": vms, "loop_control": {"label": "{{ item.name }}"},
                        "community.vmware.vmware_guest": {
                            **conn, "datacenter": "{{ item.datacenter }}", "cluster": "{{ item.cluster }}",
                            "folder": "{{ item.folder }}", "name": "{{ item.name }}",
                            "template": "/{{ item.datacenter }}/vm/templates/debian-12-template",
                            "state": "poweredon", "wait_for_ip_address": False,
                            "hardware": {"num_cpus": "{{ item.cpus }}", "memory_mb": "{{ item.memory_mb }}"},
                            "disk": [{"size_gb": "{{ item.disk_gb }}", "type": "thin",
                                      "datastore": "{{ item.datastore }}"}],
                            "networks": [{"name": "{{ item.network }}"}]}}]}]


def _run(play: list, conn: dict, directory, label: str) -> tuple[float, str]:
    path = directory / f"{label}.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    varfile = directory / "conn.json"
    varfile.write_text(json.dumps({"conn": conn}))
    started = time.perf_counter()
    out = ansible(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", f"@{varfile}", "-e",
                   "ansible_python_interpreter=%s" % (VENV_BIN / "python"), str(path)])
    return time.perf_counter() - started, out.stdout


def main() -> None:
    with OwnVcsim() as sim:
        print(f"own vcsim (pid {sim.pid}) on port {sim.endpoint['port']}", flush=True)
        measure(sim.endpoint)


def measure(vcsim: dict) -> None:
    directory = workdir()
    ours_prefix, theirs_prefix = "b" + secrets.token_hex(3), "c" + secrets.token_hex(3)
    ours_vms = vm_items(ours_prefix, PER_SITE)
    theirs_vms = vm_items(theirs_prefix, PER_SITE)
    n = len(ours_vms)
    session = Vcsim(vcsim)
    results = []
    try:
        # vmware_guest does not create folders: make them beforehand (not timed).
        for dc in SITES.values():
            parent = session.folder(f"/{dc}/vm/s2p")
            parent.CreateFolder(theirs_prefix).CreateFolder("ire")
        with proxy(vcsim, directory) as counting:
            conn = _connection(vcsim, counting.port)
            figures = {}
            for phase in ("first", "rerun"):
                counting.reset()
                ours_s = _run(ours_play(ours_vms), conn, directory, f"ours-{phase}")[0]
                ours_requests = counting.count
                counting.reset()
                theirs_s = _run(community_play(theirs_vms), conn, directory, f"community-{phase}")[0]
                theirs_requests = counting.count
                figures[phase] = (ours_s, theirs_s, ours_requests, theirs_requests)
                results.append(result(NAME, n, phase, ours_s, ANCHOR, theirs_s, ours_requests=ours_requests,
                                      anchor_requests=theirs_requests))
        found = [vm.name for vm in session.vms(ours_prefix)] + [vm.name for vm in session.vms(theirs_prefix)]
        assert len(found) == 2 * n, f"expected {2 * n} VMs, found {len(found)}"
    finally:
        for dc in SITES.values():
            for prefix in (ours_prefix, theirs_prefix):
                session.destroy_folder(f"/{dc}/vm/s2p/{prefix}")
        session.close()
    write(NAME, results)
    for item in results:
        print(f"  requests {item['phase']:<6}: ours {item['ours_requests']}, {ANCHOR} {item['anchor_requests']}")


if __name__ == "__main__":
    main()
