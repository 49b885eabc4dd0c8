"""The per-VM diff of esa.s2p.vsphere_vm (VMPlan.after / diff) and the netmask of the guest
customisation: pure logic on plain data."""

from __future__ import annotations

from ansible_collections.esa.s2p.plugins.module_utils.vsphere.vm_ops import _mask
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.vm_plan import GB_KB, VMPlan

CURRENT = {"name": "esoc-x-ire-app01", "folder": "/ESOC/vm/s2p/x/ire", "cpus": 2, "memory_mb": 2048,
           "disks_kb": [20 * GB_KB, 5 * GB_KB], "networks": ["esoc-vm-net"], "attributes": {"project": "x"},
           "power": "poweredon", "instance_uuid": "u-1", "build_state": "ready"}
WANT = {"name": "esoc-x-ire-app01", "folder": "/ESOC/vm/s2p/x/ire", "datacenter": "ESOC", "state": "present",
        "cpus": 4, "memory_mb": 2048, "disks_gb": [30, 5, 10], "networks": ["esoc-mgmt-net"],
        "attributes": {"project": "x", "owner": "ops"}}


def plan(**extra):
    p = VMPlan(dict(WANT))
    p.vm = object()
    p.current = dict(CURRENT)
    for key, value in extra.items():
        setattr(p, key, value)
    return p


def test_after_grows_adds_and_keeps_extra_state():
    after = plan(changes=["cpus"]).after()
    assert after["cpus"] == 4 and after["memory_mb"] == 2048
    assert after["disks_gb"] == [30, 5, 10]
    assert after["networks"] == ["esoc-mgmt-net"]
    assert after["attributes"] == {"project": "x", "owner": "ops"}
    assert after["power"] == "poweredon"


def test_diff_shows_only_managed_fields_and_removal():
    diff = plan(changes=["cpus"], power="poweroff").diff()
    assert set(diff["before"]) == {"folder", "cpus", "memory_mb", "disks_gb", "networks", "attributes", "power"}
    assert diff["before"]["disks_gb"] == [20, 5] and diff["after"]["power"] == "poweredoff"
    removed = plan(destroy=True).diff()
    assert removed["after"] == {} and removed["before"]["cpus"] == 2


def test_move_shows_both_folders():
    moved = plan(changes=["folder"], current=dict(CURRENT, folder="/ESOC/vm/s2p/elsewhere"))
    diff = moved.diff()
    assert (diff["before"]["folder"], diff["after"]["folder"]) == ("/ESOC/vm/s2p/elsewhere", "/ESOC/vm/s2p/x/ire")
    assert moved.result()["folder"] == "/ESOC/vm/s2p/x/ire" and moved.result()["action"] == "update"
    assert plan(changes=["cpus"]).after()["folder"] == CURRENT["folder"]


def test_new_vm_has_empty_before():
    p = plan(create=True)
    p.vm = None
    assert p.diff()["before"] == {} and p.result()["action"] == "create"


def test_new_vm_diff_is_the_same_once_the_clone_exists():
    """The real run sets `vm` to the clone (its state is the template's) before it takes the diff:
    the diff must still be the one check mode showed."""
    predicted = plan(create=True, vm=None).diff()
    assert plan(create=True).diff() == predicted and predicted["before"] == {}


def test_netmask_from_prefix():
    assert [_mask(p) for p in (8, 16, 22, 32)] == ["255.0.0.0", "255.255.0.0", "255.255.252.0", "255.255.255.255"]
