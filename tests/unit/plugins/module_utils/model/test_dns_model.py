"""Records and certificates derived from the lab model (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.filter.dns_model import dns_change_counts, owned_records
from ansible_collections.esa.s2p.plugins.module_utils.model import dns_records as model_dns
from ansible_collections.esa.s2p.plugins.module_utils.model import plans
from ansible_collections.esa.s2p.plugins.module_utils.dns.records import validate_records
from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model

MODEL = Path(__file__).resolve().parents[5] / "inventories" / "lab" / "group_vars" / "all" / "model.yml"


def lab_model():
    return build_model(yaml.safe_load(MODEL.read_text()))


def test_records_per_owner_with_round_robin_services_and_valid_input():
    model = lab_model()
    found = model_dns.records_by_owner(model, {
        "esrin-neocc-ire-app01": "10.250.9.1", "esrin-neocc-ire-app02.s2p.esa.int": ["10.250.9.2"],
        "flyeye-1-cam01": "10.250.9.11"})
    assert sorted(found) == ["neocc/ire", "telescopes/ope"]
    web = [r for r in found["neocc/ire"] if r["name"] == "web.neocc.ire.s2p.esa.int"]
    assert web == [{"name": "web.neocc.ire.s2p.esa.int", "type": "A", "values": ["10.250.9.1", "10.250.9.2"],
                    "ttl": 3600}]
    assert found["telescopes/ope"][0]["name"] == "cam01.flyeye-1.stations.s2p.esa.int"
    for records in found.values():  # what the role hands to dns_record passes its validation
        validate_records(records, ["s2p.esa.int", "10.in-addr.arpa"])


def test_the_dns_stage_holds_every_record_of_the_stations_backends():
    """site.yml's DNS stage converges the stations' names too: exactly the records the telescope_backend
    plan has, the ingest endpoint (an A of the ingest VM, no PTR: the VM's own name keeps it) included."""
    model = lab_model()
    found = model_dns.records_by_owner(model, model["addresses"])
    station = model["stations"]["flyeye-1"]
    ingest = [r for r in found[station["dns_owner"]] if r["name"] == station["ingest_fqdn"]]
    assert ingest == [{"name": station["ingest_fqdn"], "type": "A", "values": [station["vms"][0]["ip"]], "ttl": 3600}]
    plan = plans.telescope_backend_plan(model, {"addresses": model["addresses"]})
    for owner, records in plan["records"].items():
        assert found[owner] == records, owner


def test_no_addresses_no_records():
    assert model_dns.records_by_owner(lab_model(), {}) == {}


def test_certificates_one_per_deployment_with_services():
    certs = model_dns.certificates(lab_model(), path="/etc/ssl/s2p", issuer={"default": "vault_pki", "ope": "acme"},
                                   pki_roles={"default": "s2p-esa-int"}, environments=["ope", "ire"])
    by_name = {c["name"]: c for c in certs}
    assert by_name["neocc-ope"]["issuer"] == "acme" and "pki_role" not in by_name["neocc-ope"]
    assert by_name["neocc-ire"]["issuer"] == "vault_pki" and by_name["neocc-ire"]["pki_role"] == "s2p-esa-int"
    assert "web.neocc.s2p.esa.int" in by_name["neocc-ope"]["names"]
    assert by_name["neocc-ire"]["vault_kv_path"].endswith("/neocc/ire/tls")
    assert all(c["name"].endswith(("-ope", "-ire")) for c in certs)


def test_owned_records_flattens_the_owners_into_one_valid_batch():
    found = model_dns.records_by_owner(lab_model(), {"esrin-neocc-ire-app01": "10.250.9.1",
                                                     "flyeye-1-cam01": "10.250.9.11"})
    items = owned_records(found)
    assert len(items) == sum(len(v) for v in found.values())
    assert {i["owner"] for i in items} == {"neocc/ire", "telescopes/ope"}
    assert all("state" not in i for i in items) and "owner" not in found["neocc/ire"][0]  # input untouched
    assert {i["state"] for i in owned_records(found, state="absent")} == {"absent"}
    rrsets = validate_records(items, ["s2p.esa.int", "10.in-addr.arpa"])
    assert {r.owner for r in rrsets} == {"neocc/ire", "telescopes/ope"}
    with pytest.raises(AnsibleFilterError, match="mapping of owner to record items"):
        owned_records([])


def test_change_counts_per_owner_and_action_without_ownership_records():
    changes = [{"owner": "neocc/ope", "action": "create", "ownership": False},
               {"owner": "neocc/ope", "action": "create", "ownership": True},
               {"owner": "neocc/ope", "action": "delete", "ownership": False},
               {"owner": "neocc/ire", "action": "update", "ownership": False}]
    assert dns_change_counts(changes) == {"neocc/ope": {"create": 1, "update": 0, "delete": 1},
                                          "neocc/ire": {"create": 0, "update": 1, "delete": 0}}
    assert dns_change_counts([]) == {}
    with pytest.raises(AnsibleFilterError, match="changes list"):
        dns_change_counts({"changes": []})
