"""playbooks/decommission.yml for a project: a check-mode report first (counts per backend, nothing
touched), and only with decommission_confirm=true the removal of every environment of the project,
the copies duplicate_environment.yml made of them (not in the model, found by their stacks) and its
VMs, while every other project's VMs, records, accounts, secrets and stacks stay exactly as they
were (read through pyVmomi, ldap3, hvac, dnspython and the docker SDK before and after)."""

from __future__ import annotations

import pytest
from projenv_helpers import (PLAYBOOKS, addresses, clean_all, count, of_unit, only, picture, stack_vars,
                             write_inventory)
from test_project_environment import MODULE_DEFAULTS
from vsphere_helpers import SITES, Vcsim, endpoint_with_password


SMALL_VM = {"role": "app", "cpus": 1, "memory_mb": 512, "disk_gb": 20}


def vm_picture(session: Vcsim, prefix: str) -> dict:
    return {vm.name: (session.describe(vm)["uuid"], vm.config.changeVersion) for vm in session.vms(prefix)}


@pytest.fixture
def inventory(tmp_path, prefix):
    """Projects <prefix>a (ire and preope, one VM each) and <prefix>b (ire, one VM)."""
    a, b = f"{prefix}a", f"{prefix}b"
    projects = [
        {"name": a, "segment": "pd", "services": ["web"], "vms": [SMALL_VM],
         "ldap_groups": [{"name": "developers", "members": ["jdoe"]}],
         "environments": {"ire": {"sites": ["esrin"]}, "preope": {"sites": ["esrin"]}}},
        {"name": b, "segment": "pd", "services": ["web"], "vms": [SMALL_VM],
         "ldap_groups": ["developers"], "environments": {"ire": {"sites": ["esrin"]}}},
    ]
    return write_inventory(tmp_path, projects), a, b


@pytest.fixture
def estate(inventory, lab, prefix, run_playbook):
    """The model built by the model-wide roles (vm, service_account, dns, certificate, project_stack)
    in one play."""
    inventory, a, b = inventory
    ips = addresses([f"esrin-{a}-ire-app01", f"esrin-{a}-preope-app01", f"esrin-{b}-ire-app01"])
    stacks = [{"name": "Stack", "ansible.builtin.include_role": {"name": "esa.s2p.project_stack"},
               "vars": {"project_stack__project": p, "project_stack__environment": e}}
              for p, e in ((a, "ire"), (a, "preope"), (b, "ire"))]
    play = [{"name": "estate", "hosts": "localhost", "gather_facts": False,
             "module_defaults": dict(MODULE_DEFAULTS, **{"group/esa.s2p.vsphere": "{{ s2p_vsphere_connection }}"}),
             "roles": ["esa.s2p.model", "esa.s2p.vm", "esa.s2p.service_account", "esa.s2p.dns",
                       "esa.s2p.certificate"],
             "tasks": stacks}]
    session = Vcsim(endpoint_with_password(lab))
    try:
        built = run_playbook(play, inventory=inventory, extravars=dict(stack_vars(lab), dns__addresses=ips))
        assert built.rc == 0, built.stdout[-4000:]
        yield inventory, a, b, session
    finally:
        clean_all(lab, prefix)
        for vm in session.vms(prefix):
            if vm.runtime.powerState == "poweredOn":
                vm.PowerOffVM_Task()
            vm.Destroy_Task()
        for dc in SITES.values():
            for project in (a, b):
                folder = session.folder(f"/{dc}/vm/s2p/pd/{project}")
                if folder is not None:
                    folder.Destroy_Task()
        session.close()


def test_report_first_then_only_the_project_is_removed(lab, run_playbook, prefix, estate):
    inventory, a, b, session = estate
    # a copy of a's ire (ire2, not in the model), as a test campaign would make it
    copy = run_playbook(PLAYBOOKS / "duplicate_environment.yml", inventory=inventory, extravars=dict(
        stack_vars(lab), project=a, from_env="ire", to_env="ire2",
        project_environment__addresses=addresses([f"esrin-{a}-ire2-app01"])))
    assert copy.rc == 0 and copy.changed > 0, copy.stdout[-4000:]
    before, vms_before = picture(lab, prefix), vm_picture(session, prefix)
    copied = of_unit(before, a, "ire2")
    assert list(copied["vault_policies"]) == [f"s2p-{a}-ire2"]
    assert list(copied["swarm"]["services"]) == [f"{a}-ire2_web"]
    assert sorted(vms_before) == sorted([f"esrin-{a}-ire-app01", f"esrin-{a}-preope-app01", f"esrin-{b}-ire-app01"])
    of_a = picture(lab, a)
    assert of_a["ldap"] and of_a["vault_kv"] and of_a["dns"] and of_a["swarm"]["services"]

    report = run_playbook(PLAYBOOKS / "decommission.yml", inventory=inventory, extravars={"project": a})
    assert report.rc == 0, report.stdout[-4000:]
    assert report.changed > 0  # predicted, in check mode
    assert f"decommission of project {a} (ire, preope; copies: ire2) would remove:" in report.stdout
    # per environment and copy: policy with AppRole, ldap-bind, tls; VM, service and PTR records; a
    # service and a network; plus the project's group with the last environment, and its two VMs
    assert report.result("Report per backend")["msg"][1:] == [
        "vault        9", "ldap         4", "dns          9", "certificate  0", "swarm        6", "vsphere      2"]
    assert "Not confirmed: nothing was removed" in report.stdout
    assert picture(lab, prefix) == before and vm_picture(session, prefix) == vms_before

    removed = run_playbook(PLAYBOOKS / "decommission.yml", inventory=inventory,
                           extravars={"project": a, "decommission_confirm": True})
    assert removed.rc == 0 and removed.changed > 0, removed.stdout[-4000:]
    assert f"decommission of project {a} (ire, preope; copies: ire2) removed:" in removed.stdout
    tables = [r["msg"] for r in removed.results("Report per backend")]
    assert len(tables) == 2 and tables[0][1:] == tables[1][1:]  # the report predicted the removal exactly
    assert count(picture(lab, a)) == 0
    assert [name for name in vm_picture(session, prefix) if a in name] == []
    # every other project's VMs, records, accounts, secrets and stacks are exactly as before
    after = picture(lab, prefix)
    assert after == only(before, b)
    assert count(only(before, b)) > 15
    assert vm_picture(session, prefix) == {n: v for n, v in vms_before.items() if b in n}
    # the folders its VMs leave empty go too (environments', then the project's); b's stay
    assert session.folder(f"/ESRIN/vm/s2p/pd/{a}") is None
    assert session.folder(f"/ESRIN/vm/s2p/pd/{b}/ire") is not None
    predicted, done = [r["folders_removed"] for r in removed.results("Converge the selected VMs in one batch")]
    assert sorted(done) == sorted(predicted) == sorted(f"/ESRIN/vm/s2p/pd/{a}{env}" for env in ("", "/ire", "/preope"))

    again = run_playbook(PLAYBOOKS / "decommission.yml", inventory=inventory,
                         extravars={"project": a, "decommission_confirm": True})
    assert again.rc == 0 and again.changed == 0, again.stdout[-4000:]


def test_project_or_station_is_required(run_playbook, inventory):
    inventory, a, _b = inventory
    run = run_playbook(PLAYBOOKS / "decommission.yml", inventory=inventory, extravars={"project": a + "x"})
    assert run.rc != 0 and run.changed == 0
    assert "give exactly one of project (known:" in run.stdout
