"""Crash safety of esa.s2p.vsphere_vm: SIGKILL ansible-playbook while it clones, run again,
and find every VM exactly once and complete (the marker finds half-made VMs)."""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter

import yaml
from conftest import LAB_DIR, LAB_INVENTORY, ROOT, VENV_BIN
import vsphere_helpers
from vsphere_helpers import kill_tree, vm_items, vm_play

N_PER_SITE = 15

vcsim_endpoint = vsphere_helpers.vcsim_endpoint
vcsim = vsphere_helpers.vcsim


def _start(playbook) -> subprocess.Popen:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), S2P_LAB_DIR=str(LAB_DIR),
               PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.Popen([str(VENV_BIN / "ansible-playbook"), "-i", str(LAB_INVENTORY), str(playbook)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _kill_while_cloning(vcsim, prefix, playbook, wanted) -> dict:
    """Start the play, SIGKILL it once the first clone exists; return what it left (name -> descriptions)."""
    proc = _start(playbook)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if vcsim.vms(prefix):
                break
            time.sleep(0.01)
    finally:
        kill_tree(proc)
    vcsim.wait_tasks_done()  # clones in flight at the kill still finish on the server
    left = {}
    for vm in vcsim.vms(prefix):
        left.setdefault(vm.name, []).append(vcsim.describe(vm))
    return left


def _half_made(left, wanted) -> bool:
    return len(left) < len(wanted) or any(d["build"] != "ready" or d["power"] != "poweredOn"
                                          for descs in left.values() for d in descs)


def test_killed_during_clones_is_finished_without_duplicates(run_playbook, vcsim, prefix, tmp_path):
    vms = vm_items(prefix, per_site=N_PER_SITE)
    playbook = tmp_path / "provision.yml"
    playbook.write_text(yaml.safe_dump(vm_play(vms, parallel=2), sort_keys=False))
    for _attempt in range(3):  # vcsim clones fast: retry until the kill lands in the middle
        left = _kill_while_cloning(vcsim, prefix, playbook, vms)
        if _half_made(left, vms):
            break
        run = run_playbook(vm_play(vms, state="absent"))
        assert run.rc == 0, run.stdout
    assert _half_made(left, vms), "the playbook finished before it could be killed three times"
    assert left, "killed before any clone"
    not_ready = sum(d["build"] != "ready" for descs in left.values() for d in descs)
    print("killed with %d of %d VMs cloned, %d not ready" % (len(left), len(vms), not_ready))

    run = run_playbook(vm_play(vms, parallel=2))
    assert run.rc == 0, run.stdout
    result = run.result("vms")
    assert result["counts"]["create"] == len(vms) - len(left)

    # Nothing ran on after the kill: the re-run cloned exactly the VMs that were missing.
    names = Counter(vm.name for vm in vcsim.vms(prefix))
    assert sorted(names) == sorted(v["name"] for v in vms)
    assert set(names.values()) == {1}, f"duplicates: {[n for n, c in names.items() if c > 1]}"
    for vm in vcsim.vms(prefix):
        got = vcsim.describe(vm)
        assert (got["build"], got["power"], got["cpus"], got["disks_gb"][0]) == ("ready", "poweredOn", 2, 20), got
        assert got["attributes"]["s2p.project"] == prefix
    run = run_playbook(vm_play(vms))
    assert run.rc == 0 and run.changed == 0
