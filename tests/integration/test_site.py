"""playbooks/site.yml, everything in order, on a private copy of the lab model (site_helpers:
every name carries the test's prefix, so the lab model's own objects, which `make run` and
other tests use, are never touched): the first run converges and ends with a summary per
site, the second run changes nothing (changed=0 for every task), and the state is read back
with the backends' own clients. The copy keeps two projects (neocc at two sites, swe-kp) and no station,
so the test stays within its time budget; `make run` and bench/bench_site.py run the whole
lab model, test_telescope_backend.py the stations."""

from __future__ import annotations

import re

import docker
import pytest
from dns_helpers import Bind
from identity_helpers import can_bind, kv_read
from site_helpers import cleanup, prefixed_model, swarm_objects
from vsphere_helpers import Vcsim, endpoint_with_password

from conftest import ROOT

SITE = ROOT / "playbooks" / "site.yml"
SUMMARY = "Summary per site"
PROJECTS = ["neocc", "swe-kp"]  # neocc: dev, ire, preope at esrin, ope at esrin and esoc; swe-kp at esoc


@pytest.fixture
def model(lab, prefix):
    model = prefixed_model(prefix, projects=PROJECTS, stations=[])
    model["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]
    yield model
    cleanup(lab, prefix)


def summary_rows(run) -> dict:
    """{site: {kind: (count, changed)}} from the summary lines."""
    rows = {}
    for line in run.result(SUMMARY)["msg"]:
        site, _sep, rest = line.partition(" ")
        if site in ("esoc", "esec", "esrin"):
            found = re.findall(r"(\d+) ([A-Za-z ]+?)(?: \((\d+) changed[^)]*\))?(?:, |$)", rest.strip())
            rows[site] = {kind: (int(count), int(moved or 0)) for count, kind, moved in found}
    return rows


def test_site_converges_then_a_rerun_changes_nothing(lab, run_playbook, model, prefix):
    first = run_playbook(SITE, extravars=model)
    assert first.rc == 0, first.stdout[-5000:]
    rows = summary_rows(first)
    assert sorted(rows) == ["esec", "esoc", "esrin"], first.result(SUMMARY)["msg"]
    # esoc: swe-kp (ire, preope, ope) and neocc ope (app01, app02, db01); esrin: neocc dev 1, ire 3, preope 1, ope 3
    assert rows["esoc"]["VMs"] == (3 + 3, 6) and rows["esrin"]["VMs"] == (1 + 3 + 1 + 3, 8), rows
    assert rows["esec"] == {kind: (0, 0) for kind in rows["esec"]}, rows
    assert all(rows[site][kind][1] == rows[site][kind][0] for site in rows for kind in ("VMs", "stacks", "accounts"))
    assert rows["esoc"]["stacks"][0] == 3 + 1 and rows["esrin"]["stacks"][0] == 3  # no dev stack: DEV is local
    assert first.result(SUMMARY)["msg"][-1].endswith("changed in this run")

    # the backends' own view
    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        names = sorted(vm.name for vm in vcsim.vms(prefix))
    finally:
        vcsim.close()
    assert len(names) == sum(rows[site]["VMs"][0] for site in rows) == len(set(names))
    bind = Bind(lab)
    domain = model["s2p_domain"]
    neocc = f"{prefix}-neocc"
    assert len(bind.rrset(f"web.{neocc}.{domain}", "A")) == 6  # ope: 3 VMs at esrin and 3 at esoc
    assert bind.rrset(f"api.{neocc}.ire.{domain}", "A")
    secret = kv_read(lab, f"pd/{neocc}/ope/ldap-bind")
    assert can_bind(lab, f"uid={neocc}-ope,ou=services,dc=s2p,dc=esa,dc=int", secret["data"]["password"])
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    services = swarm_objects(lab, prefix)["services"]
    assert len(services) == 2 * 3 + 1 * 3  # neocc (web, api) and swe-kp (api) in ire, preope and ope
    for service in services:
        status = service.get("UpdateStatus", {}).get("State")
        assert status in (None, "completed"), (service["Spec"]["Name"], status)
        tasks = client.tasks(filters={"service": service["Spec"]["Name"], "desired-state": "running"})
        assert tasks and all(t["Status"]["State"] == "running" for t in tasks), service["Spec"]["Name"]

    second = run_playbook(SITE, extravars=model)
    assert second.rc == 0, second.stdout[-5000:]
    changed = [e["event_data"]["task"] for e in second.events if e.get("event") == "runner_on_ok"
               and e["event_data"]["res"].get("changed")]
    assert second.changed == 0, changed
    assert second.result(SUMMARY)["msg"][-1] == "nothing changed in this run"
    assert all(moved == 0 for site in summary_rows(second).values() for _count, moved in site.values())
