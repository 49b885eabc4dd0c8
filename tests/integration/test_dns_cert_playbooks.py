"""playbooks/dns.yml (role esa.s2p.dns) and playbooks/renew_certificates.yml (role
esa.s2p.certificate) on the lab model, with the domain moved under a random prefix so the
shared zone keeps nothing of the test."""

from __future__ import annotations

import re

import dns_helpers

from conftest import ROOT

PLAYBOOKS = ROOT / "playbooks"


bind = dns_helpers.bind_fixture  # the fixture `bind`: the lab BIND, names of the prefix deleted after


def test_dns_playbook_writes_the_model_records_once(run_playbook, bind, prefix):
    domain = f"{prefix}.s2p.esa.int"
    extravars = {"s2p_domain": domain, "dns__addresses": {
        "esrin-neocc-ire-app01": "10.250.9.1", "esrin-neocc-ire-app02": ["10.250.9.2"],
        "flyeye-1": "10.250.9.10", "flyeye-1-cam01": "10.250.9.11"}}
    run = run_playbook(PLAYBOOKS / "dns.yml", extravars=extravars)
    assert run.rc == 0, run.stdout[-3000:]
    assert bind.rrset(f"esrin-neocc-ire-app01.{domain}", "A") == {"10.250.9.1"}
    assert bind.rrset(f"web.neocc.ire.{domain}", "A") == {"10.250.9.1", "10.250.9.2"}
    assert bind.rrset(f"cam01.flyeye-1.stations.{domain}", "A") == {"10.250.9.11"}
    assert bind.rrset("1.9.250.10.in-addr.arpa", "PTR") == {f"esrin-neocc-ire-app01.{domain}."}
    assert bind.rrset(f"_s2p-owner.web.neocc.ire.{domain}", "TXT") == {"s2p-owner=neocc/ire types=A"}
    # the summary counts each owner's changes (esa.s2p.dns_change_counts) without the ownership records:
    # neocc/ire declares 4 RRsets and gets a PTR for each of its 2 VM addresses
    assert re.search(r"neocc/ire +4 RRsets  created 6, updated 0, deleted 0", run.stdout), run.stdout[-3000:]
    # ONE dns_record task for every owner: each change names the owner it was written for
    (batch,) = run.results("DNS records of every deployment, in one batch")
    owners = {c["owner"] for c in batch["changes"]}
    assert owners == {"neocc/ire", "telescopes/ope"}, owners
    assert {c["owner"] for c in batch["changes"] if c["name"] == f"_s2p-owner.web.neocc.ire.{domain}"} == {"neocc/ire"}
    again = run_playbook(PLAYBOOKS / "dns.yml", extravars=extravars)
    assert again.rc == 0 and again.changed == 0, again.stdout[-3000:]
    assert re.search(r"neocc/ire +4 RRsets  created 0, updated 0, deleted 0", again.stdout), again.stdout[-3000:]


def test_renew_certificates_issues_missing_then_reports_nothing_due(run_playbook, bind, prefix, tmp_path):
    extravars = {"s2p_domain": f"{prefix}.s2p.esa.int", "certificate__environments": ["ire"],
                 "certificate__path": str(tmp_path / "tls"), "certificate__kv": False,
                 "certificate__account_key_path": str(tmp_path / "account.key")}
    run = run_playbook(PLAYBOOKS / "renew_certificates.yml", extravars=extravars)
    assert run.rc == 0, run.stdout[-3000:]
    report = run.result("Report")["msg"]
    assert report[0].split() == ["certificate", "action", "valid", "until", "why"]
    rows = report[1:-1]
    assert rows and all(r.split()[1] == "issued" and r.endswith("missing") for r in rows), report
    assert report[-1] == f"{len(rows)} due within 30 days, {len(rows)} renewed"
    assert (tmp_path / "tls" / "neocc-ire.fullchain.pem").exists()
    again = run_playbook(PLAYBOOKS / "renew_certificates.yml", extravars=extravars)
    assert again.rc == 0 and again.changed == 0, again.stdout[-3000:]
    assert again.result("Report")["msg"][-1] == "0 due within 30 days, 0 renewed"
    # A window longer than the certificates' lifetime makes every one due.
    window = run_playbook(PLAYBOOKS / "renew_certificates.yml", extravars=dict(extravars, renew__days=4000))
    assert window.rc == 0, window.stdout[-3000:]
    rows = window.result("Report")["msg"][1:-1]
    assert rows and all(r.split()[1] == "renewed" and "expires within 4000 days" in r for r in rows), rows
