"""The roles' plans (module_utils/model/plans.py) on the lab model and on edge cases: what each
role hands to its modules, valid for those modules, for every project and environment."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.filter.plans import FilterModule
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.dns.records import validate_records
from ansible_collections.esa.s2p.plugins.module_utils.model import plans
from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_spec import validate_stacks

MODEL = Path(__file__).resolve().parents[5] / "inventories" / "lab" / "group_vars" / "all" / "model.yml"
ZONES = ["s2p.esa.int", "10.in-addr.arpa"]
LAB_VARS = yaml.safe_load(MODEL.read_text())
LAB = build_model(LAB_VARS)
PAIRS = [(d["project"], d["environment"]) for d in LAB["deployments"]]
FILTERS = FilterModule().filters()


def unit(project, env, **options):
    return plans.project_environment_plan(LAB, dict(project=project, environment=env, **options))


# ---- project_environment -----------------------------------------------------------------

@pytest.mark.parametrize("project,env", PAIRS, ids=["%s-%s" % p for p in PAIRS])
def test_every_plan_of_every_lab_unit_is_valid_input_for_its_modules(project, env):
    """Issue 15: the role failed for every project without ldap_groups. Every plan of every
    project and environment of the lab model: the unit's plan, its stack, its share of the
    model-wide service_account plan, all of it valid input of the modules."""
    d = LAB["projects"][project]["environments"][env]
    plan = unit(project, env, addresses=LAB["addresses"], certificate_path="/etc/ssl/s2p")
    assert plan["stack"] == d["stack"] and plan["segment"] == d["segment"]
    assert plan["dns_owner"] == "%s/%s" % (project, env)
    assert plan["folder"] == "%s/%s/%s" % (d["segment"], project, env)
    assert plan["credential"]["path"] == plan["folder"] + "/ldap-bind"
    assert plan["account"]["uid"] == plan["credential"]["uid"] == d["service_account"]["uid"]
    assert isinstance(plan["groups"], list)  # [] for a project without ldap_groups, never None
    assert [g["cn"] for g in plan["groups"]] == [g["cn"] for g in LAB["projects"][project]["ldap_groups"]]
    assert plan["records"], "the lab model gives every VM an address"
    validate_records(plan["records"], ZONES)
    assert len(plan["certificates"]) == (1 if d["services"] else 0)
    assert plan["certificate_files"] == (["/etc/ssl/s2p/%s%s" % (d["stack"], s) for s in plans.CERTIFICATE_FILES]
                                         if d["services"] else [])
    stacks = plans.project_stacks(LAB, {"project": project, "environment": env, "default_image": "busybox"})
    assert [s["name"] for s in stacks["stacks"]] == [d["stack"]]
    assert stacks["reads_vault"] == bool(d["secrets"])
    validate_stacks(stacks["stacks"], list(LAB["sites"]))
    identity = plans.service_account_plan(LAB, {"accounts": [d["service_account"]["uid"]]})
    assert identity["accounts"] == [plan["account"]] and identity["credentials"] == [plan["credential"]]
    assert identity["vault_projects"] == [plan["vault_project"]] and identity["groups"] == plan["groups"]


def test_projects_without_ldap_groups_plan_no_group():
    without = sorted(p for p, v in LAB["projects"].items() if not v["ldap_groups"])
    assert without == ["fragdb", "reentry", "swe-hapi", "swe-kp"]
    for project in without:
        for env in LAB["projects"][project]["environments"]:
            assert unit(project, env)["groups"] == []


def test_unit_plan_items_and_options():
    plan = unit("neocc", "ire", credential_secret="bind", rotation_period_days="30", secret_id_num_uses="5",
                token_ttl="2h", certificate_issuer={"default": "acme", "ire": "vault_pki"},
                certificate_pki_roles={"default": "s2p-esa-int"}, certificate_kv=False, dns_ptr=False, dns_ttl=60,
                addresses={"esrin-neocc-ire-app01": "10.13.9.1"})
    assert plan["vault_project"] == {"project": "neocc", "environment": "ire", "segment": "pd",
                                     "secret_id_ttl": "24h", "secret_id_num_uses": 5, "token_ttl": "2h",
                                     "token_max_ttl": "4h"}
    assert plan["account"] == {"uid": "neocc-ire", "kind": "service",
                               "attributes": {"description": "neocc-ire service account of neocc in ire"}}
    assert plan["credential"] == {"uid": "neocc-ire", "path": "pd/neocc/ire/bind", "owner": "neocc",
                                  "project": "neocc", "rotation_period_days": 30, "force": False}
    assert plan["groups"][0] == {"cn": "neocc-developers", "exclusive": True, "description": "developers of neocc",
                                 "members": ["uid=asmith,ou=people,dc=s2p,dc=esa,dc=int",
                                             "uid=jdoe,ou=people,dc=s2p,dc=esa,dc=int"]}
    assert plan["certificates"] == [{"name": "neocc-ire", "issuer": "vault_pki", "pki_role": "s2p-esa-int",
                                     "names": ["api.neocc.ire.s2p.esa.int", "web.neocc.ire.s2p.esa.int"]}]
    assert plan["certificate_files"] == []  # no certificate_path: nothing on disk
    vm = [r for r in plan["records"] if r["name"] == "esrin-neocc-ire-app01.s2p.esa.int"]
    assert vm == [{"name": "esrin-neocc-ire-app01.s2p.esa.int", "type": "A", "values": ["10.13.9.1"], "ttl": 60,
                   "ptr": False}]


def test_unit_with_vms_but_no_address_says_where_addresses_come_from():
    assert unit("neocc", "ire")["idle"] == {
        "dns": "no address for the unit's VMs (set dns__addresses or project_environment__addresses)"}
    assert unit("neocc", "ire", addresses=LAB["addresses"])["idle"] == {}


def test_unit_without_addresses_or_services_plans_no_record_and_no_certificate():
    model = build_model({"s2p_sites": LAB_VARS["s2p_sites"], "s2p_projects": [
        {"name": "lonely", "segment": "sd", "environments": {"ire": {"sites": ["esoc"]}}}]})
    plan = plans.project_environment_plan(model, {"project": "lonely", "environment": "ire",
                                                  "certificate_path": "/x"})
    assert plan["records"] == [] and plan["certificates"] == [] and plan["certificate_files"] == []
    assert plan["groups"] == []
    # the run's summary says why DNS and the certificate are skipped (issue 15: DNS was skipped silently)
    assert plan["idle"] == {"dns": "the unit has no VMs", "certificate": "the unit has no services"}
    stacks = plans.project_stacks(model, {"project": "lonely", "environment": "ire"})
    assert stacks == {"stacks": [{"name": "lonely-ire", "state": "present", "networks": ["default"], "secrets": [],
                                  "services": []}], "reads_vault": False}


def test_unknown_unit_names_what_the_model_has():
    with pytest.raises(S2PError) as err:
        unit("neocc", "nope")
    assert str(err.value) == ("project_environment: no environment 'nope' of project 'neocc' in the model "
                              "(projects: archive, dish, fragdb, monitoring, neocc, orbit-det, reentry, swe-hapi, "
                              "swe-kp, swe-portal; environments of neocc: dev, ire, ope, preope)")
    with pytest.raises(S2PError, match=r"no environment 'ire' of project 'nosuch' in the model \(projects: archive"):
        unit("nosuch", "ire")


def test_options_are_checked():
    with pytest.raises(S2PError, match="project_environment_plan: unknown option.s. dns_tll"):
        unit("neocc", "ire", dns_tll=60)
    with pytest.raises(S2PError, match="must be a mapping, got a list"):
        plans.service_account_plan(LAB, [])


# ---- counts --------------------------------------------------------------------------------

def test_counts_of_registered_results_and_skipped_tasks():
    results = {
        "vault": {"projects": [{"action": "create"}]},
        "secrets": {"folders": [{"removed": ["a/b/ldap-bind", "a/b/tls"]}]},
        "credentials": {"credentials": [{"action": "none"}, {"action": "rotate"}]},
        "accounts": {"skipped": True, "changed": False},
        "groups": {"groups": [{"action": "update"}, {"action": "none"}]},
        "dns": {"changes": [{"name": "x", "ownership": False}, {"name": "_s2p-owner.x", "ownership": True}]},
        "certificate": {"certificates": [{"action": "issue"}, {"action": "unchanged"}]},
        "certificate_files": {"results": [{"changed": True}, {"changed": False}]},
        "stack": {"stacks": [{"actions": ["create service a_web", "create network a_default"]}]},
    }
    assert plans.project_environment_counts(results) == {"vault": 4, "ldap": 1, "dns": 1, "certificate": 2,
                                                         "swarm": 2}
    empty = dict.fromkeys(results, {})
    assert plans.project_environment_counts(empty) == dict.fromkeys(("vault", "ldap", "dns", "certificate", "swarm"), 0)
    assert plans.project_environment_counts({}) == plans.project_environment_counts(empty)


def test_add_counts():
    assert plans.add_counts({}, {"vault": 2}) == {"vault": 2}
    assert plans.add_counts({"vault": 2, "dns": 1}, {"vault": 3, "swarm": 1}) == {"vault": 5, "dns": 1, "swarm": 1}
    assert plans.add_counts(None, {}) == {}


# ---- service_account -----------------------------------------------------------------------

def test_service_account_plan_of_the_whole_model_and_selections():
    everything = plans.service_account_plan(LAB, {})
    assert len(everything["accounts"]) == len(everything["credentials"]) == len(LAB["deployments"])
    assert everything["groups"] == plans.service_account_plan(LAB, {"projects": list(LAB["projects"])})["groups"]
    assert len(everything["groups"]) == len(LAB["ldap_groups"])
    swe = plans.service_account_plan(LAB, {"segments": ["swe"], "force_rotation": True, "secret": "bind"})
    assert {c["project"] for c in swe["credentials"]} == {"swe-portal", "swe-kp", "swe-hapi"}
    assert all(c["force"] is True and c["path"].endswith("/bind") for c in swe["credentials"])
    one = plans.service_account_plan(LAB, {"projects": ["reentry"], "accounts": ["reentry-ope", "neocc-ire"]})
    assert [a["uid"] for a in one["accounts"]] == ["reentry-ope"] and one["groups"] == []
    assert one["vault_projects"] == [{"project": "reentry", "environment": "ope", "segment": "sd",
                                      "secret_id_ttl": "24h", "secret_id_num_uses": 10, "token_ttl": "1h",
                                      "token_max_ttl": "4h"}]


def test_service_account_empty_selection_and_unknown_names():
    nothing = plans.service_account_plan(LAB, {"projects": ["neocc"], "segments": ["swe"]})
    assert nothing == {"accounts": [], "credentials": [], "vault_projects": [], "groups": []}
    with pytest.raises(S2PError) as err:
        plans.service_account_plan(LAB, {"projects": ["nosuch", "nosuch"], "accounts": ["neocc-dev", "x-ire"]})
    assert str(err.value).startswith("service_account: unknown names in the selection: projects ['nosuch'], "
                                     "segments [], accounts ['x-ire'] (known projects: archive, dish,")


def test_service_account_plan_takes_the_stations_accounts_and_credentials_into_its_batch():
    """site.yml: the identity stage converges the stations' upload accounts and credentials too."""
    stations = plans.telescope_backend_plan(LAB, {"image": "img:1"})
    joined = plans.service_account_plan(LAB, {"extra_accounts": stations["accounts"], "force_rotation": True,
                                              "extra_credentials": stations["credentials"]})
    alone = plans.service_account_plan(LAB, {})
    assert joined["accounts"] == alone["accounts"] + stations["accounts"]
    uids = [c["uid"] for c in alone["credentials"] + stations["credentials"]]
    assert [c["uid"] for c in joined["credentials"]] == uids
    assert joined["credentials"][-1] == dict(stations["credentials"][-1], force=True)
    assert joined["groups"] == alone["groups"] and joined["vault_projects"] == alone["vault_projects"]
    with pytest.raises(S2PError, match=r"^service_account_plan: extra_accounts names neocc-ire, already in the plan$"):
        plans.service_account_plan(LAB, {"extra_accounts": [{"uid": "neocc-ire"}]})
    with pytest.raises(S2PError, match=r"extra_credentials must be a list of items each with a uid"):
        plans.service_account_plan(LAB, {"extra_credentials": [{"path": "x"}]})


# ---- telescope_backend ---------------------------------------------------------------------

def test_telescope_plan_of_every_station():
    plan = plans.telescope_backend_plan(LAB, {"image": "img:1", "pipeline_image": "img:2",
                                              "ingest_command": ["httpd"], "addresses": LAB["addresses"]})
    assert plan["stations"] == list(LAB["stations"])
    assert len(plan["vms"]) == 3 * len(LAB["stations"])
    for records in plan["records"].values():
        validate_records(records, ZONES)
    owners = set(plan["records"])
    assert "telescopes/ope" in owners and "flyeye-1/ope" in owners
    ingest = [r for r in plan["records"]["flyeye-1/ope"] if r["name"] == LAB["stations"]["flyeye-1"]["ingest_fqdn"]]
    assert ingest == [{"name": LAB["stations"]["flyeye-1"]["ingest_fqdn"], "type": "A",
                       "values": [LAB["stations"]["flyeye-1"]["vms"][0]["ip"]], "ttl": 3600}]
    assert plan["certificates"][0] == {"name": "flyeye-1-ope", "names": [LAB["stations"]["flyeye-1"]["ingest_fqdn"]],
                                       "issuer": "acme", "vault_kv_path": "pd/flyeye-1/ope/tls"}
    assert plan["credentials"][0] == {"uid": "flyeye-1-ope", "path": "pd/flyeye-1/ope/ldap-bind",
                                      "owner": "flyeye-1", "project": "flyeye-1", "rotation_period_days": 90}
    stack = plan["stacks"][0]
    assert len(stack["services"]) == 17  # 16 cameras and the pipeline
    assert stack["services"][0]["command"] == ["httpd"] and "command" not in stack["services"][-1]
    assert stack["services"][-1]["image"] == "img:2" and stack["services"][-1]["env"]["S2P_CAMERAS"] == "16"
    validate_stacks(plan["stacks"], list(LAB["sites"]))


def test_telescope_plan_selection_issuer_and_unknown_stations():
    plan = plans.telescope_backend_plan(LAB, {"stations": ["flyeye-2"], "certificate_issuer": "vault_pki",
                                              "addresses": {}})
    assert plan["stations"] == ["flyeye-2"] and plan["records"] == {}
    assert plan["certificates"][0]["pki_role"] == "s2p-esa-int"
    none = build_model({"s2p_sites": LAB_VARS["s2p_sites"], "s2p_projects": LAB_VARS["s2p_projects"][:1]})
    assert plans.telescope_backend_plan(none, {})["stacks"] == []
    with pytest.raises(S2PError, match=r"^telescope_backend: unknown stations \['nosuch'\] \(known: flyeye-1, "):
        plans.telescope_backend_plan(LAB, {"stations": ["nosuch"]})


# ---- project_stack -------------------------------------------------------------------------

def test_project_stack_items():
    found = plans.project_stacks(LAB, {
        "project": "neocc", "environment": "ope", "default_image": "img:0", "images": {"web": "img:web"},
        "replicas": "3", "commands": {"api": ["serve"]}, "published_ports": {"web": "8081"},
        "healthcheck": {"test": ["CMD", "true"]}, "secret_values": {"db-password": "x"},
        "secret_generate": {"length": 32}})
    stack = found["stacks"][0]
    assert found["reads_vault"] is True
    assert stack["secrets"] == [{"name": "db-password", "value": "x"},
                                {"name": "api-token", "vault_path": "pd/neocc/ope/api-token",
                                 "generate": {"length": 32}}]
    web, api = stack["services"]
    assert web == {"name": "web", "image": "img:web", "replicas": 3, "sites": ["esrin", "esoc"],
                   "env": {"S2P_PROJECT": "neocc", "S2P_ENVIRONMENT": "ope", "S2P_FQDN": "web.neocc.s2p.esa.int",
                           "S2P_PORT": "8080"},
                   "networks": ["default"], "secrets": ["db-password", "api-token"],
                   "ports": [{"published": 8081, "target": 8080}], "healthcheck": {"test": ["CMD", "true"]}}
    assert api["image"] == "img:0" and api["command"] == ["serve"] and "ports" not in api


def test_project_stack_without_vault_and_absent():
    only_values = plans.project_stacks(LAB, {"project": "neocc", "environment": "ire", "vault_secrets": False,
                                             "secret_values": {"api-token": "t"}, "default_image": "img"})
    assert only_values["stacks"][0]["secrets"] == [{"name": "api-token", "value": "t"}]
    assert only_values["reads_vault"] is False
    absent = plans.project_stacks(LAB, {"project": "neocc", "environment": "ire", "state": "absent"})
    assert absent["stacks"][0]["state"] == "absent" and absent["reads_vault"] is False
    with pytest.raises(S2PError, match="^project_stack: no environment 'dev' of project 'dish'"):
        plans.project_stacks(LAB, {"project": "dish", "environment": "dev"})


def test_project_stacks_selection_as_stacks_yml_takes_it():
    found = plans.project_stacks(LAB, {"environments": ["ire", "preope", "ope"], "default_image": "img",
                                       "command": ["httpd", "-p", "{port}"]})
    names = [s["name"] for s in found["stacks"]]
    assert names == [d["stack"] for d in LAB["deployments"] if d["environment"] != "dev"]
    neocc = found["stacks"][0]["services"]
    assert [s["command"] for s in neocc] == [["httpd", "-p", "8080"], ["httpd", "-p", "8000"]]
    assert found["reads_vault"] is True
    validate_stacks(found["stacks"], list(LAB["sites"]))
    assert plans.project_stacks(LAB, {"projects": ["swe-hapi"], "environments": ["dev"]})["stacks"] == []
    assert len(plans.project_stacks(LAB, {"default_image": "img"})["stacks"]) == len(LAB["deployments"])
    with pytest.raises(S2PError, match=r"unknown projects \['x'\] or environments \['qa'\]"):
        plans.project_stacks(LAB, {"projects": ["x", "neocc"], "environments": ["qa"]})


# ---- copies, declared environments, promoted images ----------------------------------------

def test_environment_copy_declares_the_target_like_the_source():
    out = plans.environment_copy(LAB, {"projects": LAB_VARS["s2p_projects"], "project": "neocc", "source": "ire",
                                       "target": "ire2"})
    neocc = [p for p in out["projects"] if p["name"] == "neocc"][0]
    assert neocc["environments"]["ire2"] == neocc["environments"]["ire"]
    assert out["environments"][-1] == {"name": "ire2", "description": "Copy of ire"}
    assert len(out["environments"]) == len(LAB["environments"]) + 1
    assert "ire2" not in [p for p in LAB_VARS["s2p_projects"] if p["name"] == "neocc"][0]["environments"]
    assert build_model(dict(LAB_VARS, s2p_projects=out["projects"], s2p_environments=out["environments"]))


@pytest.mark.parametrize("project,source,target,reason", [
    ("nosuch", "ire", "ire2", "unknown project"),
    ("neocc", "qa", "ire2", "the source is not an environment of the project"),
    ("neocc", "ire", "ope", "the target is an environment the model declares, it is never overwritten"),
])
def test_environment_copy_refuses(project, source, target, reason):
    with pytest.raises(S2PError) as err:
        plans.environment_copy(LAB, {"projects": LAB_VARS["s2p_projects"], "project": project, "source": source,
                                     "target": target})
    assert str(err.value).startswith("cannot copy environment '%s' of project '%s' as '%s': %s (" % (
        source, project, target, reason))


def test_declared_environments_and_copies_found_by_stacks():
    assert plans.declared_environments(LAB_VARS["s2p_projects"], "neocc") == ["dev", "ire", "ope", "preope"]
    assert plans.declared_environments(LAB_VARS["s2p_projects"] + ["junk"], "nosuch") == []
    stacks = ["neocc-ire", "neocc-ire2", "neocc-test-ire", "neocc-x-y", "neocc-Big", "dish-ire3", "neocc-qa1"]
    assert plans.environment_copies(stacks, "neocc", ["ire", "ope"], named=["gone"]) == ["gone", "ire2", "qa1"]
    assert plans.environment_copies([], "neocc", ["ire"]) == []


def test_stack_images_strip_the_stack_name():
    services = [{"name": "neocc-ire_web", "image": "r/web@sha256:1"}, {"name": "neocc-ire_api", "image": "r/api:2"}]
    assert plans.stack_images(services, "neocc-ire") == {"web": "r/web@sha256:1", "api": "r/api:2"}
    assert plans.stack_images([], "neocc-ire") == {}


# ---- the filters ---------------------------------------------------------------------------

def test_filters_turn_errors_into_filter_errors_naming_the_item():
    with pytest.raises(AnsibleFilterError, match="no environment 'nope' of project 'neocc'"):
        FILTERS["project_environment_plan"](LAB, {"project": "neocc", "environment": "nope"})
    with pytest.raises(AnsibleFilterError, match="project_stacks: the input must be the normalised model"):
        FILTERS["project_stacks"]([], {})
    with pytest.raises(AnsibleFilterError, match="stack_images: the input must be the services"):
        FILTERS["stack_images"]({}, "x")
    assert FILTERS["add_counts"](None, {"dns": 1}) == {"dns": 1}
    assert FILTERS["project_environment_counts"]({}) == {"vault": 0, "ldap": 0, "dns": 0, "certificate": 0,
                                                         "swarm": 0}


def test_plans_do_not_change_the_model():
    before = copy.deepcopy(LAB)
    for project, env in PAIRS:
        unit(project, env, addresses=LAB["addresses"])
    plans.telescope_backend_plan(LAB, {"addresses": LAB["addresses"]})
    plans.service_account_plan(LAB, {})
    plans.project_stacks(LAB, {"command": ["x"], "default_image": "img"})
    assert LAB == before


def test_a_stack_to_deploy_without_image_says_where_images_come_from():
    """Issue 15: the documented project_environment.yml command deployed image '' (the lab sets
    stacks__*); the plan now names the services and the variables before any module runs."""
    with pytest.raises(S2PError, match=r"^project_stacks: no image for the services of neocc-ire \(api\): set "
                                       r"stacks__default_image \(or stacks__images per service\) in the inventory"):
        plans.project_stacks(LAB, {"project": "neocc", "environment": "ire", "images": {"web": "img"}})
    with pytest.raises(S2PError, match=r"services of neocc-dev \(web, api\); .*; 26 more stacks: set"):
        plans.project_stacks(LAB, {})
    absent = plans.project_stacks(LAB, {"project": "neocc", "environment": "ire", "state": "absent"})
    assert absent["stacks"][0]["services"][0]["image"] == ""  # removal needs no image


# ---- selections ----------------------------------------------------------------------------

def test_selected_keeps_what_every_criterion_allows():
    vms = LAB["vms"]
    assert plans.selected(vms) == vms and plans.selected(vms, [], [], [], []) == vms
    esrin_neocc = plans.selected(vms, sites=["esrin"], projects=["neocc"])
    assert esrin_neocc and all(v["site"] == "esrin" and v["project"] == "neocc" for v in esrin_neocc)
    assert plans.selected(vms, segments=["sd"], environments=["ope"]) == [
        v for v in vms if v["segment"] == "sd" and v["environment"] == "ope"]
    assert plans.selected(vms, projects=["nosuch"]) == [] and plans.selected([], sites=["esoc"]) == []
    with pytest.raises(AnsibleFilterError, match="selected: sites must be a list"):
        FILTERS["selected"](vms, sites="esoc")
