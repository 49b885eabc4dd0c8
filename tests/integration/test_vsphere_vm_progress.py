"""Progress of long esa.s2p.vsphere_vm batches in the playbook output (action plugin, progress_every)."""

from __future__ import annotations

import re

import vsphere_helpers
from vsphere_helpers import vm_items, vm_play

vcsim_endpoint = vsphere_helpers.vcsim_endpoint
vcsim = vsphere_helpers.vcsim

PROGRESS = re.compile(r"esa\.s2p\.vsphere_vm: (\d+)/(\d+) VMs converged \(([^)]*)\)")


def test_long_batch_shows_progress_and_validates_first(run_playbook, vcsim, prefix):
    vms = vm_items(prefix, per_site=2)  # 6 VMs, 2 per module run

    # A bad VM at the end of the batch fails the task before any chunk runs.
    bad = vms[:-1] + [dict(vms[-1], cpus=0)]
    run = run_playbook(vm_play(bad, progress_every=2))
    assert run.rc != 0 and vms[-1]["name"] in run.result("vms")["msg"], run.stdout
    assert "VMs converged" not in run.stdout and vcsim.vms(prefix) == []

    run = run_playbook(vm_play(vms, progress_every=2), diff=True)
    assert run.rc == 0, run.stdout
    lines = PROGRESS.findall(run.stdout)
    assert [(int(line[0]), int(line[1])) for line in lines] == [(2, 6), (4, 6), (6, 6)], run.stdout
    assert lines[-1][2] == "6 created"
    assert "esa.s2p.vsphere_vm: 6 of 6 VMs to converge, 2 at a time" in run.stdout
    result = run.result("vms")
    assert result["counts"]["create"] == 6 and [v["name"] for v in result["vms"]] == [v["name"] for v in vms]
    assert len(result["diff"]) == 6
    assert sorted(vm.name for vm in vcsim.vms(prefix)) == sorted(v["name"] for v in vms)

    # Only what changes is converged: one VM grows, one progress line; then nothing to do, no line.
    grown = vms[:-1] + [dict(vms[-1], cpus=4)]
    run = run_playbook(vm_play(grown, progress_every=2))
    assert run.rc == 0, run.stdout
    assert PROGRESS.findall(run.stdout) == [("1", "1", "1 updated")], run.stdout
    assert run.result("vms")["counts"] == {"create": 0, "update": 1, "destroy": 0, "none": 5}
    run = run_playbook(vm_play(grown, progress_every=2))
    assert run.rc == 0 and run.changed == 0 and not PROGRESS.findall(run.stdout), run.stdout

    run = run_playbook(vm_play(vms, state="absent", progress_every=2))
    assert run.rc == 0, run.stdout
    assert [line[2] for line in PROGRESS.findall(run.stdout)] == ["2 removed", "4 removed", "6 removed"]
