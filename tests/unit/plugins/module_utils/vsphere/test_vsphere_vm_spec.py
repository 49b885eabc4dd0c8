"""Batch validation of esa.s2p.vsphere_vm (module_utils/vsphere/vm_spec.py): pure logic."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.vm_spec import normalise_batch

GOOD = {"name": "esoc-neocc-ope-app01", "datacenter": "ESOC", "cluster": "ESOC-CL01", "datastore": "esoc-ds01",
        "folder": "/ESOC/vm/s2p/pd/neocc/ope", "template": "debian-12-template", "network": "esoc-vm-net",
        "cpus": 2, "memory_mb": 4096, "disk_gb": 40, "segment": "pd", "project": "neocc", "environment": "ope",
        "fqdn": "esoc-neocc-ope-app01.s2p.esa.int", "subnet": "10.11.0.0/16", "gateway": "10.11.0.1",
        "dns_servers": ["10.11.0.53"]}


def vm(**changes):
    item = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is ...:
            item.pop(key)
        else:
            item[key] = value
    return item


def test_model_vms_are_accepted_as_they_are(inventory_model):
    model = build_model(inventory_model("lab"))
    wanted = normalise_batch(model["vms"], "present")
    assert len(wanted) == len(model["vms"]) > 10
    first = wanted[0]
    assert first["folder"].startswith("/%s/vm/s2p/" % first["datacenter"])
    assert first["disks_gb"] == [model["vms"][0]["disk_gb"]]
    assert first["attributes"]["segment"] == model["vms"][0]["segment"]
    assert first["guest"]["domain"] == "s2p.esa.int" and first["guest"]["prefix"] == 16


def test_relative_folder_and_template_path_are_made_absolute():
    [want] = normalise_batch([vm(folder="s2p/x", template="templates/debian-12-template")], "present")
    assert want["folder"] == "/ESOC/vm/s2p/x"
    assert want["template"] == "templates/debian-12-template"


def test_absent_needs_only_name_datacenter_folder():
    [want] = normalise_batch([{"name": "esoc-x-ope-app01", "datacenter": "ESOC", "folder": "s2p"}], "absent")
    assert want["state"] == "absent"


BAD = [
    ("unknown field", vm(colour="red"), "vms[esoc-neocc-ope-app01].colour: unknown field"),
    ("upper-case name", vm(name="ESOC-app01"), ".name: 'ESOC-app01' is not a valid VM name"),
    ("name with underscore", vm(name="esoc_app"), "is not a valid VM name"),
    ("name missing", vm(name=...), ".name: must be a VM name"),
    ("datacenter missing", vm(datacenter=...), ".datacenter: required field is missing"),
    ("datacenter with slash", vm(datacenter="ES/OC"), "is not a valid datacenter name"),
    ("template missing", vm(template=...), ".template: required field is missing"),
    ("cluster missing", vm(cluster=...), ".cluster: required field is missing"),
    ("datastore not a string", vm(datastore=3), ".datastore: must be a string"),
    ("folder in another datacenter", vm(folder="/ESEC/vm/s2p"), "is not under the VM folder of datacenter ESOC"),
    ("folder with empty element", vm(folder="s2p//x"), "has an empty or invalid folder name"),
    ("cpus 0", vm(cpus=0), ".cpus: must be a whole number of CPUs from 1 to 128, got 0"),
    ("cpus not a number", vm(cpus="two"), ".cpus: must be a whole number"),
    ("cpus a boolean", vm(cpus=True), ".cpus: must be a whole number"),
    ("cpus missing", vm(cpus=...), ".cpus: required field is missing"),
    ("memory not whole MB", vm(memory_mb=4096.5), ".memory_mb: must be a whole number of MB"),
    ("memory not a multiple of 4", vm(memory_mb=4097), ".memory_mb: 4097 is not a multiple of 4 MB"),
    ("memory missing", vm(memory_mb=...), ".memory_mb: required field is missing"),
    ("disk 0", vm(disk_gb=0), ".disk_gb: must be a whole number of GB"),
    ("disk_gb and disks_gb", vm(disks_gb=[40]), "give either disk_gb"),
    ("disks_gb not a list", vm(disk_gb=..., disks_gb=40), ".disks_gb: must be a list"),
    ("network and networks", vm(networks=["a"]), "give either network or networks"),
    ("networks empty", vm(network=..., networks=[]), ".networks: must be a non-empty list"),
    ("bad segment", vm(segment="Space Weather"), ".segment: 'Space Weather' is not a valid segment name"),
    ("fqdn of another VM", vm(fqdn="other.s2p.esa.int"), ".fqdn: 'other.s2p.esa.int' must be the VM name"),
    ("ip outside the subnet", vm(ip="10.99.0.5"), ".ip: 10.99.0.5 is outside the site's subnet 10.11.0.0/16"),
    ("ip not an address", vm(ip="10.11.0"), ".ip: '10.11.0' is not an IP address"),
    ("dns server not an address", vm(dns_servers=["dns1"]), ".dns_servers[0]: 'dns1' is not an IP address"),
    ("owner empty", vm(owner=" "), ".owner: must be a non-empty string"),
    ("item not a mapping", "esoc-app01", "vms[1]: must be a mapping"),
]


@pytest.mark.parametrize("item, expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_names_vm_and_field(item, expected):
    with pytest.raises(ValidationError) as info:
        normalise_batch([vm(name="esoc-good-ope-app01", fqdn=...), item], "present")
    assert any(expected in e for e in info.value.errors), info.value.errors
    assert info.value.as_fail_kwargs()["changed"] is False


def test_duplicate_names_in_one_batch():
    with pytest.raises(ValidationError) as info:
        normalise_batch([vm(), vm(cpus=4)], "present")
    assert info.value.errors == ["vms[1].name: duplicate VM name 'esoc-neocc-ope-app01' (first at vms[0]); "
                                 "VM names are unique in a batch"]


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as info:
        normalise_batch([vm(cpus=0, memory_mb=3), vm(name="esoc-b-ope-app01", datacenter=...)], "present")
    assert len(info.value.errors) >= 4
    assert "4 problem(s)" in str(info.value) or "problem(s) in the input" in str(info.value)


def test_unknown_state():
    with pytest.raises(ValidationError, match="state: unknown value 'running'"):
        normalise_batch([vm()], "running")
