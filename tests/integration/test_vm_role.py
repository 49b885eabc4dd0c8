"""playbooks/provision_vms.yml (roles model + vm) on the lab: a test project from the model,
limited by project, idempotent, and vm__prune with its check-mode report."""

from __future__ import annotations

import vsphere_helpers
from conftest import ROOT

vcsim_endpoint = vsphere_helpers.vcsim_endpoint
vcsim = vsphere_helpers.vcsim

PLAYBOOK = ROOT / "playbooks" / "provision_vms.yml"


def _project(prefix: str, count: int) -> dict:
    return {"name": prefix, "segment": "pd", "description": "integration test",
            "environments": {"ire": {"sites": ["esoc", "esrin"]}},
            "vms": [{"role": "app", "count": count, "cpus": 1, "memory_mb": 1024, "disk_gb": 20}]}


def _extravars(prefix: str, count: int, **more) -> dict:
    # Only the test project is selected: the lab model's own projects are never touched.
    return {"s2p_projects": [_project(prefix, count)], "vm__projects": [prefix], **more}


def test_provision_and_prune(run_playbook, vcsim, prefix):
    names = sorted(f"{site}-{prefix}-ire-app{i:02d}" for site in ("esoc", "esrin") for i in (1, 2))
    run = run_playbook(PLAYBOOK, extravars=_extravars(prefix, 2))
    assert run.rc == 0, run.stdout[-3000:]
    assert sorted(vm.name for vm in vcsim.vms(prefix)) == names
    got = vcsim.describe(next(vm for vm in vcsim.vms(prefix) if vm.name == names[0]))
    assert got["path"] == f"/ESOC/vm/s2p/pd/{prefix}/ire/{names[0]}"
    assert (got["cpus"], got["memory_mb"], got["disks_gb"][0]) == (1, 1024, 20)
    assert "4 created" in run.stdout
    run = run_playbook(PLAYBOOK, extravars=_extravars(prefix, 2))
    assert run.rc == 0 and run.changed == 0, run.stdout[-3000:]

    # One VM per site dropped from the model: the check-mode report names them, nothing is removed.
    run = run_playbook(PLAYBOOK, extravars=_extravars(prefix, 1, vm__prune=True), check=True)
    assert run.rc == 0, run.stdout[-3000:]
    report = run.result("Show the VMs to prune")["msg"]
    assert sorted(report) == [n for n in names if n.endswith("app02")]
    assert len(vcsim.vms(prefix)) == 4
    run = run_playbook(PLAYBOOK, extravars=_extravars(prefix, 1, vm__prune=True))
    assert run.rc == 0, run.stdout[-3000:]
    assert sorted(vm.name for vm in vcsim.vms(prefix)) == [n for n in names if n.endswith("app01")]

    run = run_playbook(PLAYBOOK, extravars=_extravars(prefix, 1, vm__state="absent"))
    assert run.rc == 0, run.stdout[-3000:]
    assert vcsim.vms(prefix) == []
