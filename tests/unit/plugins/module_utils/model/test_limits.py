"""VM sizes and vSphere names, written once in model/ and read by the model and by vsphere_vm."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.model.limits import VM_LIMITS, Limit
from ansible_collections.esa.s2p.plugins.module_utils.model.model import VM_DEFAULTS, build_model
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.vm_spec import normalise_batch

VM = {"name": "esoc-neocc-ope-app01", "datacenter": "ESOC", "cluster": "ESOC-CL01", "datastore": "esoc-ds01",
      "folder": "/ESOC/vm/s2p", "template": "debian-12-template", "cpus": 2, "memory_mb": 4096, "disk_gb": 40}


def model_errors(model, **sizes):
    model = copy.deepcopy(model)
    model["s2p_projects"][0]["vms"] = [dict({"role": "app"}, **sizes)]
    try:
        build_model(model)
    except ValidationError as exc:
        return exc.errors
    return []


def module_errors(**sizes):
    try:
        normalise_batch([dict(VM, **sizes)], "present")
    except ValidationError as exc:
        return exc.errors
    return []


# --- the table -------------------------------------------------------------------------------

@pytest.mark.parametrize("field", sorted(VM_LIMITS))
def test_a_policy_lies_within_the_platform(field):
    """Whatever the model allows, vsphere_vm accepts: a policy only narrows the platform."""
    limit = VM_LIMITS[field]
    assert limit.policy or limit.platform
    if limit.policy and limit.platform:
        assert limit.platform[0] <= limit.policy[0] <= limit.policy[1] <= limit.platform[1]
        assert limit.policy[0] % limit.step == 0


@pytest.mark.parametrize("field", sorted(VM_DEFAULTS))
def test_every_model_vm_field_has_a_limit_and_its_default_is_allowed(field):
    assert VM_LIMITS[field].problem(VM_DEFAULTS[field]) is None


def test_memory_is_where_policy_and_platform_differ():
    memory = VM_LIMITS["memory_mb"]
    assert memory.bounds(policy=True) == (512, 4194304)
    assert memory.bounds(policy=False) == (4, 4194304)
    assert memory.problem(256, policy=False) is None
    assert memory.problem(256) == ("must be a whole number of MB from 512 to 4194304, got 256 "
                                   "(the S2P policy; vSphere itself accepts 4 to 4194304)")
    assert memory.problem(2, policy=False) == \
        "must be a whole number of MB from 4 to 4194304, got 2 (the vSphere limit)"


@pytest.mark.parametrize("policy", [True, False])
def test_the_step_is_a_platform_rule_both_levels_keep(policy):
    assert VM_LIMITS["memory_mb"].problem(4097, policy) == \
        "4097 is not a multiple of 4 MB (vSphere allocates memory in 4 MB steps)"


def test_a_policy_without_a_platform_limit_gives_its_reason():
    assert VM_LIMITS["count"].problem(100) == ("must be a whole number of VMs from 1 to 99, got 100 "
                                               "(the S2P policy: a VM name ends in a two-digit index)")
    assert VM_LIMITS["count"].bounds() == (1, naming.MAX_VM_INDEX)


@pytest.mark.parametrize("value", [True, "2", 2.0, 2.5, None])
def test_only_a_whole_number_is_one(value):
    """Types are checked without a rule: the caller turns templating's 2.0 into 2 if it accepts it."""
    assert VM_LIMITS["cpus"].problem(value) == "must be a whole number of CPUs from 1 to 128, got %r" % (value,)


def test_a_platform_only_limit_is_the_same_at_both_levels():
    limit = Limit("GB", platform=(1, 10))
    assert limit.bounds(True) == limit.bounds(False) == (1, 10)
    assert limit.problem(11) == limit.problem(11, policy=False) == \
        "must be a whole number of GB from 1 to 10, got 11 (the vSphere limit)"


# --- both sides read it -------------------------------------------------------------------------

def test_the_model_checks_the_policy(model):
    [error] = model_errors(model, memory_mb=256)
    assert error == ("s2p_projects[neocc].vms[app].memory_mb: must be a whole number of MB from 512 to 4194304, "
                     "got 256 (the S2P policy; vSphere itself accepts 4 to 4194304)")
    assert model_errors(model, memory_mb=512, cpus=128, disk_gb=65536, count=99) == []


def test_vsphere_vm_checks_the_platform():
    assert module_errors(memory_mb=256) == []
    assert module_errors(memory_mb=2) == ["vms[esoc-neocc-ope-app01].memory_mb: must be a whole number of MB from 4 "
                                          "to 4194304, got 2 (the vSphere limit)"]
    assert module_errors(cpus=2.0, memory_mb=512.0) == []


@pytest.mark.parametrize("field, bad", [("cpus", 129), ("disk_gb", 0), ("memory_mb", 1026)])
def test_both_sides_give_the_same_message_for_a_platform_rule(model, field, bad):
    [from_model] = model_errors(model, **{field: bad})
    [from_module] = module_errors(**{field: bad})
    assert from_model.split(": ", 1)[1] == from_module.split(": ", 1)[1] == VM_LIMITS[field].problem(bad)


# --- vSphere names ------------------------------------------------------------------------------

@pytest.mark.parametrize("value, wrong", [
    ("ES/OC", "it has '/'"), ("a%b\\c", "it has '%', '\\'"), ("", "it is empty"),
    (" ESOC", "it has leading or trailing spaces"), ("x" * 81, "it is 81 characters long"),
])
def test_vsphere_name_rule(value, wrong):
    assert naming.vsphere_name_error(value, "datacenter") == \
        "'%s' is not a valid datacenter name: %s (allowed: %s)" % (value, wrong, naming.VSPHERE_NAME_ALLOWED)


@pytest.mark.parametrize("value", ["ESOC", "ESOC Cluster 01", "x" * 80, "debian-12 (template)"])
def test_good_vsphere_names(value):
    assert naming.vsphere_name_error(value, "datacenter") is None


def test_a_vm_name_is_always_a_vsphere_name():
    name = naming.vm_name("s" * 8, "p" * 24, "e" * 8, "r" * 10, 99)
    assert naming.vsphere_name_error(name, "VM") is None


def test_folders_are_vsphere_names_between_slashes():
    assert naming.vsphere_folder_ok(["s2p", "pd", "neocc"])
    assert not naming.vsphere_folder_ok(["s2p", "", "neocc"])
    assert not naming.vsphere_folder_ok(["s2p", "a%b"])


def test_model_and_vsphere_vm_apply_the_same_name_rule(model):
    model["s2p_sites"][0]["datastore"] = "esoc/ds01"
    with pytest.raises(ValidationError) as info:
        build_model(model)
    [from_model] = info.value.errors
    [from_module] = module_errors(datastore="esoc/ds01")
    assert from_model.endswith(naming.vsphere_name_error("esoc/ds01", "vSphere datastore"))
    assert from_module.endswith(naming.vsphere_name_error("esoc/ds01", "datastore"))
