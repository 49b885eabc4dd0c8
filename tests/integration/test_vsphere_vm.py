"""esa.s2p.vsphere_vm against the lab's vcsim: 60 VMs at three sites in one task, idempotence,
check mode, diff, growth, power, removal, constant read round trips, marker identity, errors."""

from __future__ import annotations

import copy

import pytest
from counting_proxy import CountingProxy
from health_helpers import assert_no_marker
import vsphere_helpers
from vsphere_helpers import vm_items, vm_play


vcsim_endpoint = vsphere_helpers.vcsim_endpoint
vcsim = vsphere_helpers.vcsim


def by_name(result: dict) -> dict:
    return {vm["name"]: vm for vm in result["vms"]}


def test_sixty_vms_at_three_sites(run_playbook, vcsim, vcsim_endpoint, lab, prefix):
    vms = vm_items(prefix, per_site=20)
    assert len(vms) == 60

    # Check mode predicts 60 clones and touches nothing.
    run = run_playbook(vm_play(vms), check=True, diff=True)
    assert run.rc == 0, run.stdout
    predicted = run.result("vms")
    assert predicted["changed"] is True and predicted["counts"]["create"] == 60
    assert vcsim.vms(prefix) == []
    assert len(predicted["diff"]) == 60 and predicted["diff"][0]["before"] == {}

    # The real run does what check mode said.
    run = run_playbook(vm_play(vms), diff=True)
    assert run.rc == 0, run.stdout
    created = run.result("vms")
    assert created["counts"] == predicted["counts"]
    assert [v["changes"] for v in created["vms"]] == [v["changes"] for v in predicted["vms"]]
    assert created["diff"] == predicted["diff"]  # before included: {} for a clone in both
    found = {vm.name: vcsim.describe(vm) for vm in vcsim.vms(prefix)}
    assert sorted(found) == sorted(v["name"] for v in vms)  # 60, no more
    for item in vms:
        got = found[item["name"]]
        assert got["path"] == "%s/%s" % (item["folder"], item["name"])
        assert (got["cpus"], got["memory_mb"], got["disks_gb"][0]) == (2, 2048, 20)
        assert got["networks"] == [item["network"]]
        assert got["datastore"] == [item["datastore"]] and got["pool_owner"] == item["cluster"]
        assert got["marker"] == item["name"] and got["build"] == "ready"
        assert got["power"] == "poweredOn"
        assert got["attributes"] == {"s2p.site": item["site"], "s2p.segment": "pd", "s2p.project": prefix,
                                     "s2p.environment": "ire", "s2p.owner": "s2p-tests"}
        assert got["hostname"] == item["name"]  # guest customisation applied at power-on
        assert by_name(created)[item["name"]]["instance_uuid"] == got["uuid"]

    # Second run and its check mode: nothing to do; the reads do not grow with the batch.
    with CountingProxy(vcsim_endpoint["hostname"], vcsim_endpoint["port"], lab["ca_file"]) as proxy:
        through_proxy = {"hostname": "127.0.0.1", "port": proxy.port, "protocol": "http"}
        counts = []
        for batch in (vms[:3], vms):
            proxy.reset()
            run = run_playbook(vm_play(batch, **through_proxy))
            assert run.rc == 0 and run.changed == 0, run.stdout
            counts.append(proxy.count)
    assert counts[0] == counts[1], f"requests for 3 VMs vs 60 VMs: {counts}"
    run = run_playbook(vm_play(vms), check=True)
    assert run.rc == 0 and run.changed == 0, run.stdout

    # Grow the disk and CPUs of five VMs: check mode predicts, the run applies.
    grown = copy.deepcopy(vms)
    for item in grown[:5]:
        item.update(cpus=4, disk_gb=30)
    run = run_playbook(vm_play(grown), check=True, diff=True)
    assert run.result("vms")["counts"] == {"create": 0, "update": 5, "destroy": 0, "none": 55}
    first = run.result("vms")["diff"][0]
    assert (first["before"]["cpus"], first["after"]["cpus"]) == (2, 4)
    assert (first["before"]["disks_gb"], first["after"]["disks_gb"]) == ([20], [30])
    run = run_playbook(vm_play(grown))
    assert run.rc == 0 and run.result("vms")["counts"]["update"] == 5, run.stdout
    found = {vm.name: vcsim.describe(vm) for vm in vcsim.vms(prefix)}
    assert all((found[i["name"]]["cpus"], found[i["name"]]["disks_gb"][0]) == (4, 30) for i in grown[:5])
    assert all((found[i["name"]]["cpus"], found[i["name"]]["disks_gb"][0]) == (2, 20) for i in grown[5:])

    # Shrinking is refused for the whole batch, naming the VM and the disk.
    shrink = copy.deepcopy(grown)
    shrink[0]["disk_gb"] = 10
    run = run_playbook(vm_play(shrink))
    assert run.rc != 0 and run.changed == 0
    assert "vms[%s].disks_gb[0]: disk 1 is 30 GB, the request of 10 GB would shrink it" % shrink[0]["name"] \
        in run.result("vms")["msg"]

    # Power operations.
    run = run_playbook(vm_play(grown, state="poweredoff"))
    assert run.rc == 0 and run.result("vms")["counts"]["update"] == 60, run.stdout
    assert {vcsim.describe(vm)["power"] for vm in vcsim.vms(prefix)} == {"poweredOff"}
    run = run_playbook(vm_play(grown, state="poweredoff"))
    assert run.rc == 0 and run.changed == 0
    run = run_playbook(vm_play(grown[:3], state="restarted"))
    assert run.rc == 0 and [v["changes"] for v in run.result("vms")["vms"]] == [["power:poweron"]] * 3
    run = run_playbook(vm_play(grown[:3], state="restarted"))
    assert [v["changes"] for v in run.result("vms")["vms"]] == [["power:restart"]] * 3

    # Absent: check mode predicts 60 removals and keeps them, the run removes them.
    run = run_playbook(vm_play(grown, state="absent"), check=True)
    assert run.result("vms")["counts"]["destroy"] == 60 and len(vcsim.vms(prefix)) == 60
    run = run_playbook(vm_play(grown, state="absent"))
    assert run.rc == 0 and run.result("vms")["counts"]["destroy"] == 60, run.stdout
    assert vcsim.vms(prefix) == []
    run = run_playbook(vm_play(grown, state="absent"))
    assert run.rc == 0 and run.changed == 0


def test_same_name_without_marker_is_never_touched(run_playbook, vcsim, prefix):
    [item] = vm_items(prefix, per_site=1, sites=("esoc",))
    # A VM of the same name, not made by us, in another folder.
    decoy_folder = vcsim.folder("/ESOC/vm").CreateFolder(f"{prefix}-decoy")
    template = vcsim.content.searchIndex.FindByInventoryPath("ESOC/vm/templates/debian-12-template")
    pool = [c for c in vcsim._all(__import__("pyVmomi").vim.ClusterComputeResource) if c.name == "ESOC-CL01"][0]
    from pyVmomi import vim
    spec = vim.vm.ConfigSpec(name=item["name"], guestId="debian12_64Guest", numCPUs=1, memoryMB=512,
                             files=vim.vm.FileInfo(vmPathName=f"[esoc-ds01] {prefix}-decoy"))
    task = decoy_folder.CreateVM_Task(config=spec, pool=pool.resourcePool)
    while task.info.state in ("queued", "running"):
        pass
    assert task.info.state == "success", task.info.error
    del template
    decoy = task.info.result
    before = vcsim.describe(decoy)

    run = run_playbook(vm_play([item]))
    assert run.rc == 0 and run.result("vms")["counts"]["create"] == 1, run.stdout
    run = run_playbook(vm_play([item], state="absent"))
    assert run.rc == 0 and run.result("vms")["counts"]["destroy"] == 1, run.stdout
    assert vcsim.describe(decoy) == before  # untouched by create and remove

    # In the VM's own folder, an unmarked VM is a conflict for present and is kept by absent.
    run = run_playbook(vm_play([dict(item, folder=f"/ESOC/vm/{prefix}-decoy")]))
    assert run.rc != 0 and run.changed == 0
    assert "/ESOC/vm/%s-decoy/%s exists without the S2P marker" % (prefix, item["name"]) in run.result("vms")["msg"]
    run = run_playbook(vm_play([dict(item, folder=f"/ESOC/vm/{prefix}-decoy")], state="absent"))
    assert run.rc == 0 and run.changed == 0
    assert "has no S2P marker: not removed" in run.result("vms")["vms"][0]["notes"][0]
    assert vcsim.describe(decoy) == before


@pytest.mark.smoke
def test_marked_vm_in_the_wrong_folder_is_moved(run_playbook, vcsim, prefix):
    vms = vm_items(prefix, per_site=1, sites=("esrin",))
    run = run_playbook(vm_play(vms))
    assert run.rc == 0, run.stdout
    (vm,) = vcsim.vms(prefix)
    uuid, old = vcsim.describe(vm)["uuid"], vms[0]["folder"]
    moved = [dict(vms[0], folder=f"/ESRIN/vm/s2p/{prefix}/moved/ire")]

    # Check mode predicts the move, with both folders in the diff, and moves nothing.
    run = run_playbook(vm_play(moved), check=True, diff=True)
    assert run.rc == 0, run.stdout
    predicted = run.result("vms")
    assert predicted["changed"] and predicted["vms"][0]["changes"] == ["folder"]
    assert [(d["before"]["folder"], d["after"]["folder"]) for d in predicted["diff"]] == [(old, moved[0]["folder"])]
    assert vcsim.describe(vm)["path"] == f"{old}/{vms[0]['name']}"

    run = run_playbook(vm_play(moved), diff=True)
    assert run.rc == 0, run.stdout
    assert run.result("vms")["vms"][0]["changes"] == ["folder"]
    (vm,) = vcsim.vms(prefix)  # the same VM, moved (the missing folder made on the way), not a copy
    got = vcsim.describe(vm)
    assert (got["path"], got["uuid"]) == (f"{moved[0]['folder']}/{vms[0]['name']}", uuid)
    run = run_playbook(vm_play(moved))
    assert run.rc == 0 and run.changed == 0, run.stdout
    run = run_playbook(vm_play(moved, state="absent"))
    assert run.rc == 0, run.stdout


def test_bad_batch_names_every_problem_and_creates_nothing(run_playbook, vcsim, prefix):
    vms = vm_items(prefix, per_site=2, sites=("esoc",))
    bad = copy.deepcopy(vms) + vm_items(prefix, per_site=1, sites=("esrin",))
    bad[0]["datacenter"] = "MARS"
    bad[0]["folder"] = "/MARS/vm/s2p"
    bad[1]["template"] = "no-such-template"
    bad[2]["network"] = "no-such-net"
    run = run_playbook(vm_play(bad))
    assert run.rc != 0 and run.changed == 0
    result = run.result("vms")
    assert result["changed"] is False
    assert any(e.startswith("vms[%s].datacenter: datacenter 'MARS' not found in vCenter (found: ESEC, ESOC, ESRIN)"
                            % bad[0]["name"]) for e in result["errors"]), result["errors"]
    assert any(e.startswith("vms[%s].template: template 'no-such-template' not found in datacenter ESOC "
                            "(looked for /ESOC/vm/**/no-such-template" % bad[1]["name"]) for e in result["errors"])
    assert any("vms[%s].networks[0]: port group 'no-such-net' not found" % bad[2]["name"] in e
               for e in result["errors"])
    assert vcsim.vms(prefix) == []


@pytest.mark.parametrize("case", ["wrong_password", "vcenter_down"])
def test_connection_errors_are_clear(run_playbook, closed_port, secret_marker, case):
    options = {"password": secret_marker} if case == "wrong_password" else {"port": closed_port}
    run = run_playbook(vm_play(vm_items("tconn", 1, sites=("esoc",)), **options), verbosity=4)
    assert run.rc != 0 and run.changed == 0
    msg = run.result("vms")["msg"]
    if case == "wrong_password":
        assert "login failed for user s2p-admin@vsphere.local at 127.0.0.1:" in msg, msg
    else:
        assert "cannot reach vSphere at 127.0.0.1:%d" % closed_port in msg, msg
    assert "Traceback" not in msg
    if case == "wrong_password":
        assert_no_marker(run, secret_marker)  # the password never shows, even at -vvvv
