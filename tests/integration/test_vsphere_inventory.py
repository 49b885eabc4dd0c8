"""esa.s2p.vsphere_vm_info and the inventory plugin esa.s2p.vsphere against the lab's vcsim."""

from __future__ import annotations

import json
import os
import subprocess

import yaml
from conftest import ROOT, VENV_BIN
import vsphere_helpers
from vsphere_helpers import vm_items, vm_play

TEMPLATED = "{{ 'tem' ~ 'plated' }}"

vcsim_endpoint = vsphere_helpers.vcsim_endpoint
vcsim = vsphere_helpers.vcsim


def _vms(prefix):
    vms = vm_items(prefix, per_site=1)
    vms[0].update(ip="10.11.7.7", subnet="10.11.0.0/16", gateway="10.11.0.1", dns_servers=["10.11.0.53"])
    return vms


def _plain(value):
    """ansible-inventory --list shows unsafe text as {"__ansible_unsafe": text}."""
    assert isinstance(value, dict) and set(value) == {"__ansible_unsafe"}, f"not marked unsafe: {value!r}"
    return value["__ansible_unsafe"]


def _inventory_file(tmp_path, endpoint, ca_file, **extra):
    config = {"plugin": "esa.s2p.vsphere", "hostname": endpoint["hostname"], "port": endpoint["port"],
              "username": endpoint["username"], "password": endpoint["password"], "ca_path": ca_file,
              "vcenters": [{}], **extra}
    path = tmp_path / "lab.vsphere.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_info_and_inventory(run_playbook, vcsim, vcsim_endpoint, lab, prefix, tmp_path):
    vms = _vms(prefix)
    run = run_playbook(vm_play(vms))
    assert run.rc == 0, run.stdout
    # Text in vCenter that looks like a template must reach plays literally (set behind our back).
    manager = vcsim.content.customFieldsManager
    key = next(f.key for f in manager.field if f.name == "s2p.owner")
    manager.SetField(entity=next(vm for vm in vcsim.vms(prefix) if vm.name == vms[1]["name"]), key=key,
                     value=TEMPLATED)

    info = [{"name": "info", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/esa.s2p.vsphere": "{{ s2p_vsphere_connection }}"},
             "tasks": [{"name": "all", "esa.s2p.vsphere_vm_info": {"project": prefix}},
                       {"name": "esoc", "esa.s2p.vsphere_vm_info": {"project": prefix, "site": "esoc"}},
                       {"name": "off", "esa.s2p.vsphere_vm_info": {"project": prefix, "power": "poweredoff"}}]}]
    run = run_playbook(info, check=True)
    assert run.rc == 0 and run.changed == 0, run.stdout
    found = run.result("all")["vms"]
    assert [v["name"] for v in found] == sorted(v["name"] for v in vms)
    first = next(v for v in found if v["name"] == vms[0]["name"])
    assert (first["site"], first["segment"], first["project"], first["environment"]) == ("esoc", "pd", prefix, "ire")
    assert first["datacenter"] == "ESOC" and first["folder"] == vms[0]["folder"] and first["managed"]
    assert first["power"] == "poweredon" and first["ip"] == "10.11.7.7"
    assert [v["name"] for v in run.result("esoc")["vms"]] == [vms[0]["name"]]
    assert run.result("off")["vms"] == []

    # ansible-inventory --list: groups by site/segment/project/environment/power, keyed groups, unsafe text.
    path = _inventory_file(tmp_path, vcsim_endpoint, lab["ca_file"],
                           keyed_groups=[{"key": "s2p_environment", "prefix": "env"}],
                           compose={"s2p_label": "s2p_site ~ '-' ~ s2p_project"})
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    listing = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", str(path), "--list"], env=env,
                             capture_output=True, text=True, check=False)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    hostvars = data["_meta"]["hostvars"]
    for item in vms:
        assert item["name"] in data[f"site_{item['site']}"]["hosts"]
        assert item["name"] in data[f"project_{prefix}"]["hosts"]
        assert item["name"] in data["segment_pd"]["hosts"] and item["name"] in data["environment_ire"]["hosts"]
        assert item["name"] in data["power_poweredon"]["hosts"] and item["name"] in data["env_ire"]["hosts"]
        assert _plain(hostvars[item["name"]]["s2p_label"]) == f"{item['site']}-{prefix}"
    assert _plain(hostvars[vms[0]["name"]]["ansible_host"]) == "10.11.7.7"
    # The documented variables, and no copies (every variable costs each host of a large inventory).
    first = hostvars[vms[0]["name"]]
    documented = {"s2p_site", "s2p_segment", "s2p_project", "s2p_environment", "s2p_owner", "s2p_power",
                  "s2p_instance_uuid", "s2p_vcenter", "s2p_datacenter", "s2p_folder", "s2p_managed",
                  "s2p_build_state", "s2p_ips"}
    assert documented <= set(first) and not {"s2p_ip", "s2p_moid", "s2p_name"} & set(first), sorted(first)
    assert [_plain(ip) for ip in first["s2p_ips"]] == ["10.11.7.7"] and first["s2p_managed"] is True
    assert _plain(hostvars[vms[1]["name"]]["s2p_owner"]) == TEMPLATED

    # From a playbook: the remote string stays literal.
    play = [{"name": "inventory", "hosts": f"project_{prefix}", "gather_facts": False,
             "tasks": [{"name": "owner", "ansible.builtin.set_fact": {"seen_owner": "{{ s2p_owner }}"}}]}]
    run = run_playbook(play, inventory=path)
    assert run.rc == 0, run.stdout
    owners = {r["ansible_facts"]["seen_owner"] for r in run.results("owner")}
    assert owners == {"s2p-tests", TEMPLATED}, owners

    run = run_playbook(vm_play(vms, state="absent"))
    assert run.rc == 0, run.stdout
