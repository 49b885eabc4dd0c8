"""A known drift made behind the collection's back, with each backend's own client, before the
`check` phase of bench_scale.py: one VM's memory and another's power in vSphere, one A record in
BIND, one member of an LDAP group, one Vault policy and one new version of a Vault secret, one
swarm service's replicas. Every object is of copy 00 of the scaled model (the prefix), so the
drift touches nothing else. Returns what it changed, one dict each: `change` (a phrase), `name`
(what the drift report names: the object, or for a service its stack's row) and `drift` (whether
the model makes it drift: a secret's value is its owners', the collection only creates missing
secrets; and vsphere_vm's state present leaves the power state of a complete VM alone)."""

from __future__ import annotations

from pathlib import Path

import dns.query
import dns.tsig
import dns.update
import docker
from identity_helpers import ldap_admin, vault_root
from pyVmomi import vim
from vsphere_helpers import Vcsim, _wait, endpoint_with_password


def _planted(change: str, name: str, drift: bool = True) -> dict:
    return {"change": change, "name": name, "drift": drift}


def missed(planted: list[dict], rows: list[dict]) -> list[str]:
    """The planted changes that make drift but that no row of the drift report names (a service
    is named in its stack's row)."""
    return [p["change"] for p in planted if p["drift"] and not any(
        p["name"] == row["name"] or p["name"] in (row.get("summary") or "") for row in rows)]


def _vsphere(lab: dict, prefix: str) -> list[dict]:
    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        vms = sorted(vcsim.vms(prefix + "00-"), key=lambda vm: vm.name)[:2]
        bigger = vim.vm.ConfigSpec(memoryMB=vms[0].config.hardware.memoryMB * 2)
        _wait(vms[0].ReconfigVM_Task(bigger))
        _wait(vms[1].PowerOffVM_Task())
        return [_planted(f"vsphere {vms[0].name} memory x2", vms[0].name),
                _planted(f"vsphere {vms[1].name} powered off", vms[1].name, drift=False)]
    finally:
        vcsim.close()


def _dns(lab: dict, model: dict) -> list[dict]:
    bind = lab["bind"]
    key = dns.tsig.Key(bind["tsig_key_name"], Path(bind["tsig_secret_file"]).read_text().strip(),
                       bind["tsig_algorithm"])
    fqdn = next(vm["fqdn"] for vm in model["vms"] if vm["ip"])  # a name the dns role owns
    update = dns.update.UpdateMessage("s2p.esa.int", keyring={key.name: key}, keyname=key.name)
    update.replace(fqdn + ".", 300, "A", "10.200.0.99")
    dns.query.tcp(update, bind["server"], port=int(bind["port"]), timeout=10)
    return [_planted(f"dns {fqdn} A -> 10.200.0.99", fqdn)]


def _ldap(lab: dict, model: dict) -> list[dict]:
    group = next(g for g in model["ldap_groups"] if g["members"])
    conn = ldap_admin(lab)
    try:
        conn.search(group["dn"], "(objectClass=*)", search_scope="BASE", attributes=["member"])
        member = conn.response[0]["attributes"]["member"][0]
        conn.modify(group["dn"], {"member": [("MODIFY_DELETE", [member])]})
        return [_planted(f"ldap {group['dn']} without {member}", group["cn"])]
    finally:
        conn.unbind()


def _vault(lab: dict, model: dict) -> list[dict]:
    client, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    deployment = model["deployments"][0]
    policy = deployment["vault_policy"]
    client.sys.create_or_update_acl_policy(name=policy, policy='path "s2p/data/drift" { capabilities = ["read"] }')
    secret = model["secrets"][0]["path"]
    client.secrets.kv.v2.create_or_update_secret(path=secret, secret={"value": "drifted"}, mount_point=mount)
    return [_planted(f"vault policy {policy} rewritten", policy),
            _planted(f"vault {secret} new version", secret, drift=False)]


def _swarm(lab: dict, prefix: str) -> list[dict]:
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    try:
        service = sorted((s for s in client.services() if s["Spec"]["Name"].startswith(prefix + "00-")),
                         key=lambda s: s["Spec"]["Name"])[0]
        spec = service["Spec"]
        spec["Mode"] = {"Replicated": {"Replicas": 2}}
        client.update_service(service["ID"], service["Version"]["Index"], task_template=spec["TaskTemplate"],
                              name=spec["Name"], labels=spec.get("Labels"), mode=docker.types.ServiceMode(
                                  "replicated", replicas=2),
                              endpoint_spec=spec.get("EndpointSpec"), networks=spec["TaskTemplate"].get("Networks"))
        return [_planted(f"swarm {spec['Name']} replicas 2", spec["Name"])]
    finally:
        client.close()


def drift(lab: dict, prefix: str, model: dict) -> list[dict]:
    """Change one or two objects per backend; `model` is the normalised model (s2p_model)."""
    return (_vsphere(lab, prefix) + _dns(lab, model) + _ldap(lab, model) + _vault(lab, model)
            + _swarm(lab, prefix))
