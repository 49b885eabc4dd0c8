"""Every module refuses options given with the wrong shape, for the whole batch, before it contacts
its backend: changed=false, nothing touched. Three wrong shapes per module, in one playbook run.

Ansible would otherwise convert them (`attributes: "cn=x"` into {"cn": "x"}, `values: "10.0.0.1"`
into a list, a list into its text), and the module would act on what was never meant; see
plugins/module_utils/core/strict_types.py."""

from __future__ import annotations

from identity_helpers import BASE, ldap_admin

GROUPS = {b: "{{ s2p_%s_connection }}" % b for b in ("vsphere", "ldap", "vault", "dns", "acme", "swarm")}


def cases(prefix: str) -> list[tuple[str, dict, str]]:
    """(module, parameters, the option path the failure must name)."""
    uid = f"{prefix}-wrong"
    fqdn = f"{prefix}-wrong.s2p.esa.int"
    return [
        ("vsphere_vm", {"vms": f"{prefix}-a,{prefix}-b"}, "vms"),
        ("vsphere_vm", {"vms": [f"name={prefix}-a"]}, "vms[0]"),
        ("vsphere_vm", {"vms": {"name": f"{prefix}-a"}}, "vms"),
        ("vsphere_vm_info", {"names": f"{prefix}-a,{prefix}-b"}, "names"),
        ("vsphere_vm_info", {"names": [[f"{prefix}-a"]]}, "names[0]"),
        ("vsphere_vm_info", {"names": [{"name": f"{prefix}-a"}]}, "names[0]"),
        ("vsphere_health", {"datacenters": "ESOC,ESEC"}, "datacenters"),
        ("vsphere_health", {"datacenters": [["ESOC"]]}, "datacenters[0]"),
        ("vsphere_health", {"datacenters": [{"name": "ESOC"}]}, "datacenters[0]"),
        ("ldap_account", {"accounts": [{"uid": uid, "attributes": "cn=x"}]}, "accounts[0].attributes"),
        ("ldap_account", {"accounts": [{"uid": uid, "groups": "g1,g2"}]}, "accounts[0].groups"),
        ("ldap_account", {"accounts": [{"uid": [uid]}]}, "accounts[0].uid"),
        ("ldap_group", {"groups": [{"cn": f"{prefix}-g", "members": f"uid={uid}"}]}, "groups[0].members"),
        ("ldap_group", {"groups": f"cn={prefix}-g"}, "groups"),
        ("ldap_group", {"groups": [{"cn": {"name": f"{prefix}-g"}}]}, "groups[0].cn"),
        ("ldap_health", {"required_entries": "ou=people,ou=groups"}, "required_entries"),
        ("ldap_health", {"required_entries": [{"dn": "ou=people"}]}, "required_entries[0]"),
        ("ldap_health", {"base_dn": [BASE]}, "base_dn"),
        ("credential", {"credentials": [{"uid": uid, "path": [f"{prefix}/x"]}], "vault": GROUPS["vault"]},
         "credentials[0].path"),
        ("credential", {"credentials": f"uid={uid}", "vault": GROUPS["vault"]}, "credentials"),
        ("credential", {"credentials": [{"uid": uid, "path": f"{prefix}/x"}], "vault": "url=https://127.0.0.1"},
         "vault"),
        ("vault_project", {"projects": f"{prefix}p"}, "projects"),
        ("vault_project", {"projects": [{"segment": "pd", "project": [f"{prefix}p"], "environment": "ire"}]},
         "projects[0].project"),
        ("vault_project", {"projects": [{"segment": {"name": "pd"}, "project": f"{prefix}p", "environment": "ire"}]},
         "projects[0].segment"),
        ("vault_kv_folder", {"folders": f"pd/{prefix}p/ire"}, "folders"),
        ("vault_kv_folder", {"folders": [{"path": f"pd/{prefix}p/ire"}]}, "folders[0]"),
        ("vault_kv_folder", {"folders": [[f"pd/{prefix}p/ire"]]}, "folders[0]"),
        ("vault_health", {"mounts": "s2p=kv-v2"}, "mounts"),
        ("vault_health", {"mounts": ["s2p"]}, "mounts"),
        ("vault_health", {"url": ["https://127.0.0.1"]}, "url"),
        ("dns_record", {"records": [{"name": fqdn, "type": "A", "values": "10.250.99.1"}]}, "records[0].values"),
        ("dns_record", {"records": f"name={fqdn}"}, "records"),
        ("dns_record", {"records": [{"name": [fqdn], "type": "A", "values": ["10.250.99.1"]}]}, "records[0].name"),
        ("dns_record_info", {"names": f"{fqdn},www.{fqdn}"}, "names"),
        ("dns_record_info", {"names": [fqdn], "types": "A,AAAA"}, "types"),
        ("dns_record_info", {"names": [{"name": fqdn}]}, "names[0]"),
        ("dns_health", {"zones": "s2p.esa.int,esa.int"}, "zones"),
        ("dns_health", {"zones": [["s2p.esa.int"]]}, "zones[0]"),
        ("dns_health", {"zones": {"s2p.esa.int": 1}}, "zones"),
        ("acme_health", {"acme_directory": ["https://127.0.0.1/dir"]}, "acme_directory"),
        ("acme_health", {"acme_directory": {"url": "https://127.0.0.1/dir"}}, "acme_directory"),
        ("acme_health", {"ca_path": ["/etc/ssl"]}, "ca_path"),
        ("certificate", {"certificates": [{"name": f"{prefix}c", "names": fqdn}], "zones": ["s2p.esa.int"]},
         "certificates[0].names"),
        ("certificate", {"certificates": f"name={prefix}c", "zones": ["s2p.esa.int"]}, "certificates"),
        ("certificate", {"certificates": [{"name": f"{prefix}c", "names": [fqdn]}], "zones": "s2p.esa.int"}, "zones"),
        ("swarm_cluster", {"nodes": [{"name": f"{prefix}n", "docker_host": "unix:///x", "labels": "site=esoc"}]},
         "nodes[0].labels"),
        ("swarm_cluster", {"nodes": f"name={prefix}n"}, "nodes"),
        ("swarm_cluster", {"nodes": [{"name": [f"{prefix}n"], "docker_host": "unix:///x"}]}, "nodes[0].name"),
        ("swarm_stack", {"stacks": f"{prefix}-ire"}, "stacks"),
        ("swarm_stack", {"stacks": [{"name": f"{prefix}-ire", "services": "web"}]}, "stacks[0].services"),
        ("swarm_stack", {"stacks": [{"name": [f"{prefix}-ire"], "services": []}]}, "stacks[0].name"),
        ("swarm_stack_info", {"names": f"{prefix}-ire,{prefix}-ope"}, "names"),
        ("swarm_stack_info", {"names": [[f"{prefix}-ire"]]}, "names[0]"),
        ("swarm_stack_info", {"names": {"name": f"{prefix}-ire"}}, "names"),
        ("swarm_health", {"docker_host": ["unix:///x"]}, "docker_host"),
        ("swarm_health", {"ca_path": {"file": "/x"}}, "ca_path"),
        ("swarm_health", {"api_version": ["1.41"]}, "api_version"),
    ]


def test_every_module_refuses_wrong_shapes_before_anything(run_playbook, lab, prefix):
    tried = cases(prefix)
    modules = {m for m, _p, _o in tried}
    assert len(modules) == 19 and all(sum(1 for c in tried if c[0] == m) >= 3 for m in modules)
    tasks = [{"name": f"case {i}", f"esa.s2p.{module}": params, "ignore_errors": True}
             for i, (module, params, _option) in enumerate(tried)]
    play = [{"name": "wrong types", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {f"group/esa.s2p.{b}": c for b, c in GROUPS.items()}, "tasks": tasks}]
    run = run_playbook(play)
    assert "Traceback" not in run.stdout
    failed_tasks = {e["event_data"]["task"] for e in run.events if e.get("event") == "runner_on_failed"}
    wrong = []
    for i, (module, _params, option) in enumerate(tried):
        result = run.result(f"case {i}")
        named = f"{option}: must be" in result["msg"]
        if f"case {i}" not in failed_tasks or result.get("changed") is not False or not named:
            wrong.append((module, option, result.get("msg", "")[:300]))
    assert not wrong, "\n".join(map(str, wrong))
    conn = ldap_admin(lab)
    try:
        conn.search(BASE, f"(|(uid={prefix}*)(cn={prefix}*))", attributes=["uid"])
        assert conn.entries == []
    finally:
        conn.unbind()
