"""The drift report (module_utils/model/drift.py): rows from the check-mode results of the site
stages, mapped to sites through the model's names, with what differs and never a secret."""

from __future__ import annotations

import json

from ansible_collections.esa.s2p.plugins.module_utils.model.drift import (
    drift_counts, drift_rows, drift_table, drift_verdict)
from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model
from ansible_collections.esa.s2p.plugins.filter.drift import drift_json_lines

STAMP = "2026-12-07T04:00:00Z"


def _model(model):
    model["s2p_projects"][0]["address_block"] = 7
    model["s2p_stations"][0]["address_block"] = 200
    return build_model(model)


def _by(rows, name, backend=None):
    """{site: row} of the rows naming `name` (of `backend` when given)."""
    return dict((r["site"], r) for r in rows if r["name"] == name and backend in (None, r["backend"]))


def test_a_converged_estate_has_no_rows(model):
    quiet = {
        "vms": {"vms": [{"name": "esoc-neocc-ope-db01", "changed": False, "action": "none"}], "diff": []},
        "dns": [{"changes": []}],
        "certificates": {"certificates": [{"name": "neocc-ope", "action": "none", "reason": None}]},
        "accounts": {"accounts": [{"uid": "neocc-ope", "action": "none"}]},
        "credentials": [{"credentials": [{"uid": "neocc-ope", "action": "none"}]}, {"skipped": True}],
        "groups": {"groups": [{"cn": "neocc-developers", "action": "none"}]},
        "vault_projects": {"projects": [{"name": "s2p-neocc-ope", "action": "none"}]},
        "swarm": {"nodes": [{"name": "esoc", "actions": []}]},
        "stack_batch": {"stacks": [{"name": "neocc-ope", "changed": False, "actions": []}]},
    }
    rows = drift_rows(_model(model), quiet, STAMP)
    assert rows == []
    assert drift_table(rows) == ["no drift: every object of the model matches its backend"]
    assert drift_json_lines(rows) == ""


def test_a_vm_that_differs_is_named_with_its_site_and_the_fields(model):
    results = {"vms": {"vms": [{"name": "esoc-neocc-ope-db01", "changed": True, "action": "update",
                                "changes": ["memory_mb", "power:on"]}],
                       "diff": [{"before_header": "esoc-neocc-ope-db01", "after_header": "esoc-neocc-ope-db01",
                                 "before": {"cpus": 2, "memory_mb": 2048, "power": "poweredOff"},
                                 "after": {"cpus": 2, "memory_mb": 4096, "power": "poweredOn"}}]}}
    [row] = drift_rows(_model(model), results, STAMP)
    assert row == {"timestamp": STAMP, "site": "esoc", "backend": "vsphere", "kind": "vm",
                   "name": "esoc-neocc-ope-db01", "change": "update",
                   "summary": "memory_mb: 2048 -> 4096, power: poweredOff -> poweredOn",
                   "before": {"memory_mb": 2048, "power": "poweredOff"},
                   "after": {"memory_mb": 4096, "power": "poweredOn"}}


def test_without_diff_mode_the_module_s_own_words_are_the_summary(model):
    results = {"vms": {"vms": [{"name": "esoc-neocc-ope-db01", "changed": True, "action": "update",
                                "changes": ["memory_mb", "power:on"]}]}}
    [row] = drift_rows(_model(model), results, STAMP)
    assert row["summary"] == "memory_mb, power:on" and "before" not in row


def test_a_name_at_two_sites_gives_a_row_at_each_and_counts_once(model):
    change = {"name": "web.neocc.s2p.esa.int.", "type": "A", "action": "update", "ownership": False,
              "before": {"ttl": 3600, "values": ["10.7.1.5"]},
              "after": {"ttl": 3600, "values": ["10.7.1.5", "10.7.2.5"]}}
    owner = {"name": "_s2p-owner.web.neocc.s2p.esa.int.", "type": "TXT", "action": "create", "ownership": True,
             "before": None, "after": {"ttl": 3600, "values": ['"neocc/ope"']}}
    rows = drift_rows(_model(model), {"dns": [{"changes": [change, owner]}]}, STAMP)
    web = _by(rows, "web.neocc.s2p.esa.int")
    assert sorted(web) == ["esoc", "esrin"]
    assert web["esoc"]["summary"] == 'values: ["10.7.1.5"] -> ["10.7.1.5", "10.7.2.5"]'
    assert web["esoc"]["before"] == {"values": ["10.7.1.5"]} and web["esoc"]["kind"] == "A record"
    assert sorted(_by(rows, "_s2p-owner.web.neocc.s2p.esa.int")) == ["esoc", "esrin"]
    assert drift_counts(rows) == {"dns": 2}
    assert drift_verdict(rows) == "2 objects drifted from the model (dns 2)"


def test_identity_vault_swarm_and_stacks(model):
    results = {
        "accounts": {"accounts": [{"uid": "neocc-ire", "dn": "uid=neocc-ire,ou=services,dc=s2p,dc=esa,dc=int",
                                   "action": "update", "changed_attributes": ["description"]}]},
        "credentials": [{"credentials": [{"uid": "neocc-ope", "action": "reapply"}]},
                        {"credentials": [{"uid": "neocc-ope", "action": "reapply"}]}],  # rotation stage again
        "groups": {"groups": [{"cn": "neocc-developers", "dn": "cn=neocc-developers,ou=groups", "action": "update"}],
                   "diff": {"before": {"cn=neocc-developers,ou=groups": {"member": ["uid=a"]}},
                            "after": {"cn=neocc-developers,ou=groups": {"member": ["uid=a", "uid=b"]}}}},
        "vault_projects": {"projects": [{"name": "s2p-neocc-ope", "action": "update"}]},
        "swarm": {"nodes": [{"name": "esrin", "actions": ["label site: None -> esrin"]}]},
        "stack_batch": {"stacks": [{"name": "neocc-ope", "changed": True,
                                    "actions": ["create service neocc-ope_web"]}]},
    }
    rows = drift_rows(_model(model), results, STAMP)
    assert _by(rows, "neocc-ire")["esrin"]["summary"] == "attributes: description"
    cred = _by(rows, "neocc-ope", "vault")  # the credential (its two stages give one row per site)
    assert sorted(cred) == ["esoc", "esrin"] and cred["esoc"]["kind"] == "credential"
    assert "secret version" in cred["esoc"]["summary"]
    group = _by(rows, "neocc-developers")["all"]
    assert group["before"] == {"member": ["uid=a"]} and group["after"] == {"member": ["uid=a", "uid=b"]}
    assert sorted(_by(rows, "s2p-neocc-ope")) == ["esoc", "esrin"]
    assert _by(rows, "esrin")["esrin"]["kind"] == "node"
    stack = _by(rows, "neocc-ope", "stacks")
    assert sorted(stack) == ["esoc", "esrin"] and stack["esoc"]["change"] == "create"
    assert drift_counts(rows) == {"identity": 2, "stacks": 1, "swarm": 1, "vault": 2}


def test_station_objects_in_the_site_stages_are_reported_at_the_station_s_site(model):
    """site.yml converges the stations in its stage batches: their rows carry the stage's backend."""
    results = {
        "certificates": {"certificates": [{"name": "flyeye-1-ope", "action": "issue", "reason": "missing"}]},
        "accounts": {"accounts": [{"uid": "flyeye-1-ope", "dn": "uid=flyeye-1-ope", "action": "create"}]},
        "stack_batch": {"stacks": [{"name": "flyeye-1-ope", "changed": True,
                                    "actions": ["update service flyeye-1-ope_ingest-cam01"]}]}}
    rows = drift_rows(_model(model), results, STAMP)
    assert sorted((r["site"], r["backend"], r["kind"]) for r in rows) == [
        ("esrin", "certificates", "certificate"), ("esrin", "identity", "ldap account"), ("esrin", "stacks", "stack")]


def test_secret_values_in_a_diff_are_hidden(model):
    marker = "s3cr3t-marker-4711"
    results = {"accounts": {
        "accounts": [{"uid": "neocc-ire", "dn": "uid=neocc-ire", "action": "update", "changed_attributes": []}],
        "diff": {"before": {"uid=neocc-ire": {"userPassword": marker, "secret_id": marker, "mail": "a@b"}},
                 "after": {"uid=neocc-ire": {"userPassword": marker + "x", "secret_id": "y", "mail": "c@d"}}}}}
    rows = drift_rows(_model(model), results, STAMP)
    assert marker not in json.dumps(rows) and marker not in "\n".join(drift_table(rows))
    assert rows[0]["before"] == {"mail": "a@b"}  # the hidden values compare equal: not a difference shown


def test_table_and_json_lines(model):
    results = {"certificates": {"certificates": [{"name": "neocc-ope", "action": "issue", "reason": "missing"}]}}
    rows = drift_rows(_model(model), results, STAMP)
    table = drift_table(rows)
    assert table[0].split() == ["site", "backend", "kind", "name", "change"]
    assert table[1].split()[:4] == ["esoc", "certificates", "certificate", "neocc-ope"]
    assert table[1].endswith("issue: missing") and table[-1] == "1 objects drifted from the model (certificates 1)"
    lines = drift_json_lines(rows).splitlines()
    assert [json.loads(line)["site"] for line in lines] == ["esoc", "esrin"]
    assert all(json.loads(line)["timestamp"] == STAMP for line in lines)


def test_an_object_two_stages_report_is_one_row_of_the_first(model):
    vm = {"name": "esrin-flyeye-1-ingest01", "changed": True, "action": "create", "changes": []}
    diff = [{"before_header": vm["name"], "before": {}, "after": {"cpus": 2}}]
    results = {"vms": [{"vms": [vm], "diff": diff}, {"vms": [vm], "diff": diff}]}
    [row] = drift_rows(_model(model), results, STAMP)
    assert (row["backend"], row["summary"], row["after"]) == ("vsphere", "missing", {"cpus": 2})


def test_a_stack_missing_a_service_is_updated_and_a_stack_of_nothing_created(model):
    def stack(name, before):
        return {"name": name, "changed": True, "actions": ["create service %s_web" % name]}, {
            "before_header": "stack " + name, "before": before,
            "after": {"services": {name + "_web": {"replicas": 2}}, "networks": [], "secrets": []}}
    kept, kept_diff = stack("neocc-ope", {"services": {"neocc-ope_api": {}}, "networks": [], "secrets": []})
    new, new_diff = stack("neocc-ire", {"services": {}, "networks": [], "secrets": []})
    rows = drift_rows(_model(model), {"stack_batch": {"stacks": [kept, new], "diff": [kept_diff, new_diff]}}, STAMP)
    assert _by(rows, "neocc-ope")["esoc"]["change"] == "update"
    assert _by(rows, "neocc-ire")["esrin"]["change"] == "create"
    assert _by(rows, "neocc-ope")["esoc"]["after"] == {"services": {"neocc-ope_web": {"replicas": 2}}}
