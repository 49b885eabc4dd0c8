"""playbooks/drift.yml on a private copy of the lab model (site_helpers.prefixed_model: the lab
model's own objects are never touched): on the converged copy the report is empty and the run
says "no drift"; after drift planted with the backends' own clients (pyVmomi, dnspython with
TSIG, ldap3, hvac, the docker SDK) every planted object is in the report with what differs,
drift__fail fails the run with the counts, no planted secret appears in the report or the -vvvv
output, and the backends read before and after each drift run are the same (it only reads)."""

from __future__ import annotations

import json

import dns.query
import dns.rdatatype
import dns.tsig
import dns.update
import docker
import ldap3
import pytest
from dns_helpers import Bind
from health_helpers import assert_no_marker
from identity_helpers import BASE, kv_paths, ldap_admin, vault_root
from site_helpers import cleanup, prefixed_model, swarm_objects, vault_keys
from vsphere_helpers import Vcsim, _wait, endpoint_with_password
from pyVmomi import vim

from conftest import ROOT

SITE = ROOT / "playbooks" / "site.yml"
DRIFT = ROOT / "playbooks" / "drift.yml"
TABLE = "Drift per site and backend"
FAIL = "Fail on drift"
PLANTED_MEMORY_MB = 1024
PLANTED_ADDRESS = "10.254.254.254"


@pytest.fixture
def model(lab, prefix):
    """neocc only (dev, ire, preope at esrin, ope at esrin and esoc), no station."""
    model = prefixed_model(prefix, projects=["neocc"], stations=[])
    model["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]
    yield model
    cleanup(lab, prefix)


def backends(lab: dict, prefix: str) -> dict:
    """What the copy holds in every backend, read with the backends' own clients."""
    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        vms = {vm.name: (vm.config.hardware.numCPU, vm.config.hardware.memoryMB, str(vm.runtime.powerState),
                         vm.config.changeVersion) for vm in vcsim.vms(prefix)}
    finally:
        vcsim.close()
    bind, records = Bind(lab), set()
    for zone in ("s2p.esa.int", "10.in-addr.arpa"):
        for message in dns.query.xfr(bind.server, zone, port=bind.port, keyring={bind.key.name: bind.key},
                                     keyname=bind.key.name, relativize=False, lifetime=30):
            records.update(rrset.to_text() for rrset in message.answer
                           if prefix in rrset.name.to_text() or any(prefix in r.to_text() for r in rrset))
    conn = ldap_admin(lab)
    try:
        conn.search(BASE, f"(|(uid={prefix}*)(cn={prefix}*))", attributes=["*", "modifyTimestamp"])
        entries = {e["dn"]: json.dumps(dict(e["attributes"]), sort_keys=True, default=str)
                   for e in conn.response if e["type"] == "searchResEntry"}
    finally:
        conn.unbind()
    vault, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    versions = {path: vault.secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount)["data"]["current_version"]
                for path in vault_keys(lab, prefix)}
    policies = {n: vault.sys.read_acl_policy(n)["data"]["policy"]
                for n in vault.sys.list_acl_policies()["data"]["keys"] if prefix in n}
    swarm = swarm_objects(lab, prefix)
    # the spec, not the version index: swarm's own bookkeeping (an update's status) moves the index
    services = {s["Spec"]["Name"]: json.dumps(s["Spec"], sort_keys=True) for s in swarm["services"]}
    return {"vms": vms, "dns": records, "ldap": entries, "vault": versions, "policies": policies,
            "services": services, "secrets": sorted(s["Spec"]["Name"] for s in swarm["secrets"])}


def rows_of(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_drift_refuses_to_run_outside_check_mode(run_playbook, model, lab, prefix):
    run = run_playbook(DRIFT, extravars=model)
    assert run.rc != 0 and run.changed == 0
    assert "must not change anything: run it with --check --diff" in run.stdout, run.stdout[-3000:]
    assert backends(lab, prefix)["vms"] == {}  # nothing of site.yml ran


def plant(lab: dict, prefix: str, marker: str) -> dict:
    """Drift in every backend, through its own client; returns what was planted where."""
    neocc, domain = f"{prefix}-neocc", f"{prefix}.s2p.esa.int"
    planted = {}
    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        vms = {vm.name: vm for vm in vcsim.vms(prefix)}
        memory_vm, gone_vm = vms[f"esoc-{neocc}-ope-db01"], vms[f"esrin-{neocc}-ire-app01"]
        planted["memory"] = (memory_vm.name, memory_vm.config.hardware.memoryMB)
        _wait(memory_vm.ReconfigVM_Task(vim.vm.ConfigSpec(memoryMB=PLANTED_MEMORY_MB)))
        planted["gone"] = gone_vm.name  # (the power of an existing VM is not the model's: state present)
        _wait(gone_vm.PowerOffVM_Task())
        _wait(gone_vm.Destroy_Task())
    finally:
        vcsim.close()

    bind = Bind(lab)
    name = f"web.{neocc}.ire.{domain}"
    update = dns.update.Update("s2p.esa.int", keyring={bind.key.name: bind.key}, keyname=bind.key.name)
    update.replace(name + ".", 3600, "A", PLANTED_ADDRESS)
    assert dns.query.tcp(update, bind.server, port=bind.port, timeout=10).rcode() == 0
    planted["dns"] = name

    conn = ldap_admin(lab)
    try:
        conn.search(f"ou=groups,{BASE}", f"(cn={neocc}*)", attributes=["cn", "member"])
        group = next(e for e in conn.response if e["type"] == "searchResEntry" and len(e["attributes"]["member"]) > 1)
        member = sorted(group["attributes"]["member"])[-1]
        assert conn.modify(group["dn"], {"member": [(ldap3.MODIFY_DELETE, [member])]}), conn.result
        planted["group"] = (group["attributes"]["cn"][0], member)
    finally:
        conn.unbind()

    vault, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    cred_path = f"pd/{neocc}/ope/ldap-bind"
    data = vault.secrets.kv.v2.read_secret_version(path=cred_path, mount_point=mount)["data"]["data"]
    vault.secrets.kv.v2.create_or_update_secret(path=cred_path, mount_point=mount,
                                                secret=dict(data, password=marker + "-bind"))
    planted["credential"] = f"{neocc}-ope"
    app_secret = next(p for p in kv_paths(vault, mount, f"pd/{neocc}/ire/") if "db-password" in p)
    data = vault.secrets.kv.v2.read_secret_version(path=app_secret, mount_point=mount)["data"]["data"]
    vault.secrets.kv.v2.create_or_update_secret(path=app_secret, mount_point=mount,
                                                secret=dict((k, marker + "-app") for k in data))
    planted["stack secret"] = f"{neocc}-ire"

    client = docker.DockerClient(base_url=lab["swarm_sites"]["docker_host"])
    try:
        service = client.services.get(f"{neocc}-preope_web")
        service.remove()
        planted["service"] = (f"{neocc}-preope", service.name)
        scaled = client.services.get(f"{neocc}-ope_api")  # `docker service scale`: no label changes
        scaled.scale(3)
        planted["scaled"] = (f"{neocc}-ope", scaled.name)
    finally:
        client.close()
    return planted


def test_no_drift_on_the_converged_copy_then_every_planted_object_is_reported(
        run_playbook, model, lab, prefix, tmp_path, secret_marker):
    converged = run_playbook(SITE, extravars=model)
    assert converged.rc == 0, converged.stdout[-5000:]

    report = tmp_path / "reports" / "drift.jsonl"  # the folder is made by the run
    before = backends(lab, prefix)
    clean = run_playbook(DRIFT, extravars=dict(model, drift__report_path=str(report)), check=True, diff=True)
    assert clean.rc == 0, clean.stdout[-5000:]
    assert report.read_text() == "" and clean.changed == 0
    assert clean.result(TABLE)["msg"][0] == "no drift: every object of the model matches its backend"
    assert backends(lab, prefix) == before

    planted = plant(lab, prefix, secret_marker)
    before = backends(lab, prefix)
    drifted = run_playbook(DRIFT, extravars=dict(model, drift__report_path=str(report), drift__fail=True),
                           check=True, diff=True, verbosity=4)
    assert backends(lab, prefix) == before  # the drift run only read
    assert drifted.rc != 0
    rows = rows_of(report)
    assert secret_marker not in report.read_text()
    assert_no_marker(drifted, secret_marker)
    print(json.dumps(rows, indent=1))  # shown when an assertion below fails
    by_name = {}
    for row in rows:
        by_name.setdefault((row["backend"], row["name"]), []).append(row)

    vm, memory = planted["memory"]
    [row] = by_name[("vsphere", vm)]
    assert row["site"] == "esoc" and row["change"] == "update"
    assert row["before"]["memory_mb"] == PLANTED_MEMORY_MB and row["after"]["memory_mb"] == memory, row
    [row] = by_name[("vsphere", planted["gone"])]
    assert (row["site"], row["change"], row["summary"], row["before"]) == ("esrin", "create", "missing", {}), row
    assert row["after"]["memory_mb"] and row["after"]["folder"].endswith("/ire"), row

    [row] = by_name[("dns", planted["dns"])]
    assert row["kind"] == "A record" and row["before"]["values"] == [PLANTED_ADDRESS], row
    assert PLANTED_ADDRESS not in row["after"]["values"]

    group, member = planted["group"]
    [row] = by_name[("identity", group)]
    assert row["site"] == "all" and member not in row["before"]["member"] and member in row["after"]["member"], row

    cred = by_name[("vault", planted["credential"])]
    assert {r["site"] for r in cred} == {"esoc", "esrin"} and {r["change"] for r in cred} == {"reapply"}
    assert "secret version" in cred[0]["summary"] and "before" not in cred[0]

    [row] = by_name[("stacks", planted["stack secret"])]
    assert "db-password" in row["summary"] and row["site"] == "esrin", row
    stack, service = planted["service"]
    [row] = by_name[("stacks", stack)]
    assert f"create service {service}" in row["summary"], row

    stack_scaled, scaled = planted["scaled"]
    scaled_rows = by_name[("stacks", stack_scaled)]  # one stack of an environment at two sites: a row each
    assert {r["site"] for r in scaled_rows} == {"esoc", "esrin"}, scaled_rows
    assert all(f"update service {scaled} (3 replicas, not 1)" in r["summary"] for r in scaled_rows), scaled_rows

    planted_names = {vm, planted["gone"], planted["dns"], group, planted["credential"], planted["stack secret"], stack,
                     stack_scaled}
    assert {row["name"] for row in rows} == planted_names, rows  # nothing else: no false positive
    message = drifted.result(FAIL)["msg"]
    assert message.startswith("8 objects drifted from the model (dns 1, identity 1, stacks 3, vault 1, vsphere 2)")
    assert str(report) in message
    table = drifted.result(TABLE)["msg"]
    assert table[0].split() == ["site", "backend", "kind", "name", "change"] and len(table) == len(rows) + 3
