"""Role esa.s2p.telescope_backend (playbooks/telescope_backend.yml) on the lab, for one Flyeye
station of a private copy of the lab model (site_helpers): check mode predicts the first run,
the first run builds everything, a rerun and a check-mode rerun change nothing, and the
state is read back with the backends' own clients (pyVmomi, ldap3, hvac, dnspython, docker
SDK). Then state=absent removes what the station had, and nothing else of the station's
site."""

from __future__ import annotations

import docker
import pytest
from dns_helpers import Bind
from identity_helpers import can_bind, kv_read, ldap_admin
from site_helpers import cleanup, prefixed_model, swarm_objects
from vsphere_helpers import Vcsim, endpoint_with_password

from conftest import ROOT

PLAYBOOK = ROOT / "playbooks" / "telescope_backend.yml"
SUMMARY = "Summary of the stations"
STEPS = ["VMs of the stations (ingest, processing, archive) at their sites", "Upload accounts of the stations",
         "Upload credentials in Vault, applied to LDAP", "Certificates of the ingest endpoints",
         "Stacks of the stations (one ingest service per camera and the pipeline)"]


@pytest.fixture
def station(lab, prefix):
    model = prefixed_model(prefix, projects=[], stations=["flyeye-1"])
    model["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]
    yield model, model["s2p_stations"][0]["name"]
    cleanup(lab, prefix)


def test_station_backend_first_run_rerun_check_mode_and_removal(lab, run_playbook, station, prefix):
    model, name = station
    domain, block = model["s2p_domain"], model["s2p_stations"][0]["address_block"]

    predicted = run_playbook(PLAYBOOK, extravars=model, check=True)
    assert predicted.rc == 0, predicted.stdout[-4000:]
    # the credentials of accounts still to be created are predicted with the accounts (no entry to check yet)
    assert [step for step in STEPS if not predicted.result(step)["changed"]] == [STEPS[2]]
    assert predicted.result(STEPS[2])["credentials"] == []
    assert [a["action"] for a in predicted.result(STEPS[1])["accounts"]] == ["create"]
    assert predicted.result(STEPS[0])["counts"]["create"] == 3
    assert swarm_objects(lab, prefix)["services"] == []  # check mode wrote nothing
    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        assert vcsim.vms(prefix) == []

        first = run_playbook(PLAYBOOK, extravars=model)
        assert first.rc == 0, first.stdout[-4000:]
        assert first.result(STEPS[0])["counts"]["create"] == 3
        summary = first.result(SUMMARY)["msg"]
        assert summary[0].startswith(f"{name} esrin  16 cameras, VMs ingest/processing/archive, stack {name}-ope "
                                     "(17 services)")
        assert summary[-1].startswith("changed: VMs 3 created")

        # vSphere: three VMs at ESRIN in the station's folder, marked, with the station's attributes
        vms = {vm.name: vcsim.describe(vm) for vm in vcsim.vms(prefix)}
        assert sorted(vms) == [f"esrin-{name}-ope-{role}01" for role in ("archive", "ingest", "processing")]
        for vm in vms.values():
            assert vm["path"].startswith(f"/ESRIN/vm/s2p/pd/{name}/ope/") and vm["marker"]
            assert vm["attributes"]["s2p.project"] == name and vm["attributes"]["s2p.environment"] == "ope"
    finally:
        vcsim.close()

    # DNS: VM names with PTRs, the ingest endpoint, the station and its 16 cameras
    bind = Bind(lab)
    ingest_ip = f"10.13.{block}.101"
    assert bind.rrset(f"esrin-{name}-ope-ingest01.{domain}", "A") == {ingest_ip}
    assert bind.rrset(f"101.{block}.13.10.in-addr.arpa", "PTR") == {f"esrin-{name}-ope-ingest01.{domain}."}
    assert bind.rrset(f"ingest.{name}.stations.{domain}", "A") == {ingest_ip}
    assert bind.rrset(f"{name}.stations.{domain}", "A") == {f"10.13.{block}.1"}
    for camera in range(1, 17):
        assert bind.rrset(f"cam{camera:02d}.{name}.stations.{domain}", "A") == {f"10.13.{block}.{camera + 1}"}

    # LDAP + Vault: the upload account binds with the password Vault keeps
    dn = f"uid={name}-ope,ou=services,dc=s2p,dc=esa,dc=int"
    secret = kv_read(lab, f"pd/{name}/ope/ldap-bind")
    assert secret and can_bind(lab, dn, secret["data"]["password"])
    # the ingest certificate in Vault KV, for the ingest name
    tls = kv_read(lab, f"pd/{name}/ope/tls")
    assert tls and "BEGIN CERTIFICATE" in str(tls["data"])

    # Swarm: 16 ingest services and the pipeline, all placed at the station's site, running
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    services = {s["Spec"]["Name"]: s for s in swarm_objects(lab, prefix)["services"]}
    expected = [f"{name}-ope_ingest-cam{i:02d}" for i in range(1, 17)] + [f"{name}-ope_pipeline"]
    assert sorted(services) == sorted(expected)
    sites = {n["ID"]: n["Spec"]["Labels"].get("site") for n in client.nodes()}
    for service in services:
        tasks = client.tasks(filters={"service": service, "desired-state": "running"})
        assert [sites[t["NodeID"]] for t in tasks] == ["esrin"], service
        assert all(t["Status"]["State"] == "running" for t in tasks), service

    again = run_playbook(PLAYBOOK, extravars=model)
    assert again.rc == 0 and again.changed == 0, again.stdout[-4000:]
    assert again.result(SUMMARY)["msg"][-1].startswith("changed: VMs 0 created, 0 updated; DNS owners 0 of 2")
    checked = run_playbook(PLAYBOOK, extravars=model, check=True)
    assert checked.rc == 0 and checked.changed == 0, checked.stdout[-4000:]

    removed = run_playbook(PLAYBOOK, extravars=dict(model, telescope_backend__state="absent"))
    assert removed.rc == 0, removed.stdout[-4000:]
    assert swarm_objects(lab, prefix)["services"] == []
    assert bind.rrset(f"ingest.{name}.stations.{domain}", "A") == set()
    assert bind.rrset(f"101.{block}.13.10.in-addr.arpa", "PTR") == set()
    conn = ldap_admin(lab)
    try:
        assert not conn.search(dn, "(objectClass=*)", search_scope="BASE")
    finally:
        conn.unbind()
    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        assert vcsim.vms(prefix) == []
    finally:
        vcsim.close()


def test_unknown_station_fails_before_anything_is_touched(run_playbook, station):
    model, _name = station
    run = run_playbook(PLAYBOOK, extravars=dict(model, telescope_backend__stations=["nosuch"]))
    assert run.rc != 0 and run.changed == 0
    assert "telescope_backend: unknown stations ['nosuch']" in run.stdout
