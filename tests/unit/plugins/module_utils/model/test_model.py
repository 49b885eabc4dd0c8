"""Normalisation of good models: defaults, keys by name, derived names."""

from __future__ import annotations

import json

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model


def test_defaults_are_filled_in(model):
    result = build_model(model)
    assert result["domain"] == "s2p.esa.int"
    assert result["ldap_base_dn"] == "dc=s2p,dc=esa,dc=int"
    assert result["vault_kv_mount"] == "s2p"
    assert list(result["segments"]) == ["swe", "sd", "pd", "dsdc"]
    assert result["segments"]["pd"]["description"] == "Planetary Defence"
    assert list(result["environments"]) == ["dev", "ire", "preope", "ope"]
    assert result["production_environment"] == "ope"


def test_items_are_keyed_by_name_and_shorthands_expanded(model):
    result = build_model(model)
    assert sorted(result["sites"]) == ["esec", "esoc", "esrin"]
    assert sorted(result["projects"]) == ["dish", "neocc"]
    neocc = result["projects"]["neocc"]
    assert [s["name"] for s in neocc["services"]] == ["web", "api"]
    assert neocc["services"][0]["port"] is None and neocc["services"][1]["port"] == 8000
    assert neocc["secrets"] == [{"name": "db-password", "description": ""}]


def test_deployment_names(model):
    ire = build_model(model)["projects"]["neocc"]["environments"]["ire"]
    assert ire["stack"] == "neocc-ire"
    assert ire["vault_policy"] == ire["vault_approle"] == "s2p-neocc-ire"
    assert ire["service_account"] == {"uid": "neocc-ire", "dn": "uid=neocc-ire,ou=services,dc=s2p,dc=esa,dc=int"}
    assert [s["fqdn"] for s in ire["services"]] == ["web.neocc.ire.s2p.esa.int", "api.neocc.ire.s2p.esa.int"]
    assert ire["secrets"] == [{"name": "db-password", "description": "", "project": "neocc", "environment": "ire",
                               "mount": "s2p", "path": "pd/neocc/ire/db-password"}]


def test_production_names_have_no_environment_label(model):
    ope = build_model(model)["projects"]["neocc"]["environments"]["ope"]
    assert [s["fqdn"] for s in ope["services"]] == ["web.neocc.s2p.esa.int", "api.neocc.s2p.esa.int"]


def test_vms_per_site_with_placement(model):
    result = build_model(model)
    ope = result["projects"]["neocc"]["environments"]["ope"]
    assert [vm["name"] for vm in ope["vms"]] == [
        "esrin-neocc-ope-app01", "esrin-neocc-ope-app02", "esrin-neocc-ope-db01",
        "esoc-neocc-ope-app01", "esoc-neocc-ope-app02", "esoc-neocc-ope-db01"]
    vm = ope["vms"][3]
    assert vm["fqdn"] == "esoc-neocc-ope-app01.s2p.esa.int"
    assert (vm["datacenter"], vm["cluster"], vm["datastore"], vm["network"], vm["template"]) == (
        "ESOC", "ESOC-CL01", "esoc-ds01", "esoc-vm-net", "debian-12-template")
    assert vm["folder"] == "/ESOC/vm/s2p/pd/neocc/ope"
    assert (vm["cpus"], vm["memory_mb"], vm["disk_gb"], vm["index"]) == (2, 4096, 40, 1)
    assert (vm["subnet"], vm["gateway"], vm["dns_servers"]) == ("10.11.0.0/16", "10.11.0.1", ["10.11.0.53"])
    assert vm["ip"] is None  # the project has no address_block: DHCP, no DNS address
    # ire at esrin + ope at two sites; dish has no VMs; the station's three VMs come last
    assert len(result["vms"]) == 3 + 6 + 3
    assert [vm["name"] for vm in result["vms"][-3:]] == [
        "esrin-flyeye-1-ope-ingest01", "esrin-flyeye-1-ope-processing01", "esrin-flyeye-1-ope-archive01"]


def test_environment_vms_replace_the_project_vms(model):
    model["s2p_projects"][0]["environments"]["ire"]["vms"] = [{"role": "app", "template": "debian-13", "cpus": 8}]
    model["s2p_projects"][0]["environments"]["ope"]["vms"] = []
    result = build_model(model)
    ire = result["projects"]["neocc"]["environments"]["ire"]["vms"]
    assert [(vm["name"], vm["template"], vm["cpus"]) for vm in ire] == [("esrin-neocc-ire-app01", "debian-13", 8)]
    assert result["projects"]["neocc"]["environments"]["ope"]["vms"] == []


def test_ldap_groups(model):
    group = build_model(model)["projects"]["neocc"]["ldap_groups"][0]
    assert group["cn"] == "neocc-developers"
    assert group["dn"] == "cn=neocc-developers,ou=groups,dc=s2p,dc=esa,dc=int"
    assert group["member_dns"] == ["uid=jdoe,ou=people,dc=s2p,dc=esa,dc=int"]


def test_stations(model):
    station = build_model(model)["stations"]["flyeye-1"]
    assert (station["type"], station["site"], station["fqdn"]) == ("flyeye", "esrin", "flyeye-1.stations.s2p.esa.int")
    assert len(station["cameras"]) == 16
    assert station["cameras"][15] == {"name": "cam16", "index": 16, "fqdn": "cam16.flyeye-1.stations.s2p.esa.int",
                                      "service": "ingest-cam16", "ip": None}


def test_station_backend_is_named_like_an_ope_environment(model):
    station = build_model(model)["stations"]["flyeye-1"]
    assert (station["segment"], station["environment"], station["stack"]) == ("pd", "ope", "flyeye-1-ope")
    assert station["service_account"] == {"uid": "flyeye-1-ope",
                                          "dn": "uid=flyeye-1-ope,ou=services,dc=s2p,dc=esa,dc=int"}
    assert (station["credential_path"], station["tls_path"]) == ("pd/flyeye-1/ope/ldap-bind", "pd/flyeye-1/ope/tls")
    assert station["ingest_fqdn"] == "ingest.flyeye-1.stations.s2p.esa.int"
    assert (station["dns_owner"], station["pipeline_service"]) == ("flyeye-1/ope", "pipeline")
    ingest = station["vms"][0]
    assert (ingest["role"], ingest["cpus"], ingest["folder"]) == ("ingest", 4, "/ESRIN/vm/s2p/pd/flyeye-1/ope")
    assert (ingest["project"], ingest["environment"], ingest["site"]) == ("flyeye-1", "ope", "esrin")


def test_static_addresses_from_the_address_blocks(model):
    model["s2p_projects"][0]["address_block"] = 7
    model["s2p_stations"][0]["address_block"] = 200
    result = build_model(model)
    neocc = result["projects"]["neocc"]
    assert neocc["address_block"] == 7
    # ire: slot 1 (offsets 65...), ope: slot 3 (offsets 193...); counted per site
    assert [vm["ip"] for vm in neocc["environments"]["ire"]["vms"]] == ["10.13.7.65", "10.13.7.66", "10.13.7.67"]
    assert [vm["ip"] for vm in neocc["environments"]["ope"]["vms"]] == [
        "10.13.7.193", "10.13.7.194", "10.13.7.195", "10.11.7.193", "10.11.7.194", "10.11.7.195"]
    station = result["stations"]["flyeye-1"]
    assert station["ip"] == "10.13.200.1" and station["cameras"][0]["ip"] == "10.13.200.2"
    assert [vm["ip"] for vm in station["vms"]] == ["10.13.200.101", "10.13.200.102", "10.13.200.103"]
    addresses = result["addresses"]
    assert addresses["esoc-neocc-ope-db01"] == "10.11.7.195" and addresses["flyeye-1-cam16"] == "10.13.200.17"
    assert addresses["flyeye-1"] == "10.13.200.1" and addresses["esrin-flyeye-1-ope-archive01"] == "10.13.200.103"
    assert "esoc-dish-ope-app01" not in addresses  # dish has no address_block


def test_an_environment_may_choose_its_address_slot(model):
    model["s2p_environments"] = [{"name": "ire", "address_slot": 2}, {"name": "ope", "address_slot": 0},
                                 {"name": "ire2"}]
    model["s2p_projects"][0]["address_block"] = 7
    model["s2p_projects"][1]["environments"] = {"ire2": {"sites": ["esoc"]}}
    model["s2p_projects"][1]["address_block"] = 8
    model["s2p_projects"][1]["vms"] = ["app"]
    result = build_model(model)
    assert result["projects"]["neocc"]["environments"]["ire"]["vms"][0]["ip"] == "10.13.7.129"
    assert result["projects"]["neocc"]["environments"]["ope"]["vms"][0]["ip"] == "10.13.7.1"
    # an environment without a slot (not one of dev/ire/preope/ope, none given) gets no static address
    assert result["projects"]["dish"]["environments"]["ire2"]["vms"][0]["ip"] is None


def test_telescope_with_its_own_camera_count(model):
    model["s2p_stations"].append({"name": "tbt-1", "site": "esoc", "type": "telescope", "cameras": 2})
    assert [c["name"] for c in build_model(model)["stations"]["tbt-1"]["cameras"]] == ["cam01", "cam02"]


def test_settings_change_every_derived_name(model):
    model.update(s2p_domain="lab.s2p.esa.int", s2p_ldap_base_dn="dc=lab,dc=s2p", s2p_vault_kv_mount="kv")
    result = build_model(model)
    ire = result["projects"]["neocc"]["environments"]["ire"]
    assert ire["services"][0]["fqdn"] == "web.neocc.ire.lab.s2p.esa.int"
    assert ire["vms"][0]["fqdn"] == "esrin-neocc-ire-app01.lab.s2p.esa.int"
    assert ire["service_account"]["dn"] == "uid=neocc-ire,ou=services,dc=lab,dc=s2p"
    assert ire["secrets"][0]["mount"] == "kv"
    assert result["stations"]["flyeye-1"]["fqdn"] == "flyeye-1.stations.lab.s2p.esa.int"


def test_flat_lists_for_batch_tasks(model):
    result = build_model(model)
    assert [(d["project"], d["environment"]) for d in result["deployments"]] == [
        ("neocc", "ire"), ("neocc", "ope"), ("dish", "ope")]
    assert "vms" not in result["deployments"][0] and result["deployments"][2]["stack"] == "dish-ope"
    assert len(result["services"]) == 4 and len(result["secrets"]) == 2
    assert [g["dn"] for g in result["ldap_groups"]] == ["cn=neocc-developers,ou=groups,dc=s2p,dc=esa,dc=int"]


def test_result_is_plain_json_data(model):
    result = build_model(model)
    assert json.loads(json.dumps(result)) == result


def test_input_is_not_modified(model):
    before = json.dumps(model, sort_keys=True)
    build_model(model)
    assert json.dumps(model, sort_keys=True) == before


@pytest.mark.parametrize("inventory, projects, vms, stations", [("lab", 10, 48, 2), ("production", 12, 115, 2)])
def test_inventory_models_are_valid(inventory_model, inventory, projects, vms, stations):
    result = build_model(inventory_model(inventory))
    assert (len(result["projects"]), len(result["vms"]), len(result["stations"])) == (projects, vms, stations)
    assert sorted(result["sites"]) == ["esec", "esoc", "esrin"]
    assert set(p["segment"] for p in result["projects"].values()) == {"swe", "sd", "pd", "dsdc"}
    names = [vm["name"] for vm in result["vms"]] + [s["fqdn"] for s in result["services"]]
    assert len(names) == len(set(names))
    # every VM has a static address, all different
    addresses = [vm["ip"] for vm in result["vms"]]
    assert None not in addresses and len(addresses) == len(set(addresses))


def test_lab_model_matches_the_lab_vcsim(inventory_model):
    sites = build_model(inventory_model("lab"))["sites"]
    for name, octet in (("esoc", 11), ("esec", 12), ("esrin", 13)):
        site = sites[name]
        assert site["datacenter"] == name.upper() and site["cluster"] == name.upper() + "-CL01"
        assert site["datastore"] == name + "-ds01" and site["network"] == name + "-vm-net"
        assert site["template"] == "debian-12-template" and site["subnet"] == "10.%d.0.0/16" % octet
