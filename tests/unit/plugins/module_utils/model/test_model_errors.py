"""Bad models: each must fail with an error that names the item path AND the field.

Every case breaks one thing in a good model (the `model` fixture) and expects exactly
`count` errors, one of them starting with `<path>: ` and containing `words`.
"""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model

LONG_DOMAIN = ".".join(["x" * 60] * 3) + ".s2p.esa.int"  # 194 characters


def _set(var, value):
    def change(m):
        m[var] = value
    return change


def _project(index, **fields):
    def change(m):
        m["s2p_projects"][index].update(fields)
    return change


def _neocc(change):
    """Change neocc (the first project) through a function of it."""
    return lambda m: change(m["s2p_projects"][0])


def _site(index, **fields):
    def change(m):
        m["s2p_sites"][index].update(fields)
    return change


def _station(**fields):
    def change(m):
        m["s2p_stations"][0].update(fields)
    return change


def _drop(key):
    return lambda item: item.pop(key)


def _envs(**envs):
    return _neocc(lambda p: p.update(environments=envs))


# (id, change, path, words, count)
BAD = [
    # names: case, spaces, unicode, characters, length, type
    ("project-upper-case", _project(0, name="NEOCC"), "s2p_projects[0].name", "it has upper-case letters", 1),
    ("project-space", _project(0, name="neo cc"), "s2p_projects[0].name", "it has spaces", 1),
    ("project-unicode", _project(0, name="néocc"), "s2p_projects[0].name", "non-ASCII characters (é)", 1),
    ("project-too-long", _project(0, name="n" * 25), "s2p_projects[0].name", "25 characters long", 1),
    ("project-digit-first", _project(0, name="1neocc"), "s2p_projects[0].name", "does not start with a letter", 1),
    ("project-hyphen-last", _project(0, name="neocc-"), "s2p_projects[0].name", "ends with '-'", 1),
    ("project-double-hyphen", _project(0, name="neo--cc"), "s2p_projects[0].name", "it has '--'", 1),
    ("project-underscore", _project(0, name="neo_cc"), "s2p_projects[0].name", "it has '_'", 1),
    ("project-empty", _project(0, name=""), "s2p_projects[0].name", "it is empty", 1),
    ("project-not-string", _project(0, name=42), "s2p_projects[0].name", "got an integer", 1),
    ("project-reserved", _project(0, name="stations"), "s2p_projects[0].name", "reserved", 1),
    ("project-name-missing", _neocc(_drop("name")), "s2p_projects[0].name", "required field is missing", 1),
    ("duplicate-project", lambda m: m["s2p_projects"].append(dict(m["s2p_projects"][1])),
     "s2p_projects[2].name", "duplicate project name 'dish' (first defined at s2p_projects[dish])", 1),
    ("projects-as-mapping", _set("s2p_projects", {"neocc": {"segment": "pd"}}), "s2p_projects",
     "must be a list of projects, got a mapping", 1),
    ("project-not-mapping", lambda m: m["s2p_projects"].append(["x"]), "s2p_projects[2]",
     "must be a mapping with 'name'", 1),
    ("project-unknown-field", _project(0, servcies=["web"]), "s2p_projects[neocc].servcies",
     "unknown field (allowed: address_block, description, environments, ldap_groups, name, secrets, segment, "
     "services, vms)", 1),
    ("segment-missing", _neocc(_drop("segment")), "s2p_projects[neocc].segment", "required field is missing", 1),
    # references: unknown site / segment / environment, project without a site
    ("unknown-segment", _project(0, segment="pdx"), "s2p_projects[neocc].segment",
     "unknown segment 'pdx' (known: dsdc, pd, sd, swe)", 1),
    ("unknown-environment", _envs(prod={"sites": ["esoc"]}), "s2p_projects[neocc].environments.prod",
     "unknown environment 'prod' (known: dev, ire, ope, preope)", 1),
    ("unknown-site", _envs(ire={"sites": ["esox"]}), "s2p_projects[neocc].environments.ire.sites[0]",
     "unknown site 'esox' (known: esec, esoc, esrin)", 1),
    ("site-upper-case-reference", _envs(ire={"sites": ["ESOC"]}), "s2p_projects[neocc].environments.ire.sites[0]",
     "unknown site 'ESOC'", 1),
    ("environment-without-site", _envs(ire={"sites": []}), "s2p_projects[neocc].environments.ire.sites",
     "the project has no site in this environment", 1),
    ("environment-empty", _envs(ire=None), "s2p_projects[neocc].environments.ire.sites",
     "needs at least one site", 1),
    ("environment-sites-missing", _envs(ire={"vms": []}), "s2p_projects[neocc].environments.ire.sites",
     "required field is missing", 1),
    ("sites-not-a-list", _envs(ire={"sites": "esoc"}), "s2p_projects[neocc].environments.ire.sites",
     "must be a list of site names, got a string", 1),
    ("site-listed-twice", _envs(ire={"sites": ["esoc", "esoc"]}), "s2p_projects[neocc].environments.ire.sites[1]",
     "site 'esoc' is listed twice", 1),
    ("no-environment", _envs(), "s2p_projects[neocc].environments", "a project needs at least one environment", 1),
    ("environments-as-list", _project(0, environments=["ire"]), "s2p_projects[neocc].environments",
     "must be a mapping of environment name", 1),
    # services, VMs, secrets, LDAP groups
    ("service-label-64", _project(0, services=["s" * 64]), "s2p_projects[neocc].services[0].name",
     "64 characters long", 1),
    ("service-upper-case", _project(0, services=["Web"]), "s2p_projects[neocc].services[0].name",
     "upper-case", 1),
    ("service-duplicate", _project(0, services=["web", "api", "web"]), "s2p_projects[neocc].services[2].name",
     "duplicate service name 'web'", 1),
    ("service-port", _project(0, services=[{"name": "api", "port": 70000}]),
     "s2p_projects[neocc].services[api].port", "from 1 to 65535, got 70000", 1),
    ("vm-role-digit-last", _project(0, vms=[{"role": "app2"}]), "s2p_projects[neocc].vms[0].role",
     "does not end with a letter", 1),
    ("vm-count", _project(0, vms=[{"role": "app", "count": 100}]), "s2p_projects[neocc].vms[app].count",
     "from 1 to 99, got 100", 1),
    ("vm-count-bool", _project(0, vms=[{"role": "app", "count": True}]), "s2p_projects[neocc].vms[app].count",
     "got True", 1),
    ("vm-role-duplicate", _project(0, vms=["app", "app"]), "s2p_projects[neocc].vms[1].role",
     "duplicate VM role name 'app'", 1),
    ("env-vms-override", _envs(ire={"sites": ["esrin"], "vms": [{"role": "app", "cpus": 0}]}),
     "s2p_projects[neocc].environments.ire.vms[app].cpus", "from 1 to 128, got 0", 1),
    ("secret-slash", _project(0, secrets=["db/password"]), "s2p_projects[neocc].secrets[0].name", "it has '/'", 1),
    ("ldap-member-upper", _project(0, ldap_groups=[{"name": "developers", "members": ["JDoe"]}]),
     "s2p_projects[neocc].ldap_groups[developers].members[0]", "upper-case", 1),
    ("ldap-group-space", _project(0, ldap_groups=["dev team"]), "s2p_projects[neocc].ldap_groups[0].name",
     "spaces", 1),
    # domain and settings
    ("domain-outside", _set("s2p_domain", "example.org"), "s2p_domain", "outside s2p.esa.int", 1),
    ("domain-lookalike", _set("s2p_domain", "evil-s2p.esa.int"), "s2p_domain", "outside s2p.esa.int", 1),
    ("domain-parent", _set("s2p_domain", "esa.int"), "s2p_domain", "outside s2p.esa.int", 1),
    ("domain-upper-case", _set("s2p_domain", "S2P.ESA.INT"), "s2p_domain", "upper-case", 1),
    ("domain-over-253", _set("s2p_domain", ".".join(["x" * 60] * 4) + ".s2p.esa.int"), "s2p_domain",
     "a DNS name has at most 253", 1),
    ("fqdn-over-253", lambda m: (m.update(s2p_domain=LONG_DOMAIN), m["s2p_projects"][0].update(services=["s" * 60])),
     "s2p_projects[neocc].services[" + "s" * 60 + "].name", "a DNS name has at most 253", 2),
    ("base-dn", _set("s2p_ldap_base_dn", "s2p.esa.int"), "s2p_ldap_base_dn", "is not a DN", 1),
    ("vault-mount", _set("s2p_vault_kv_mount", "S2P/kv"), "s2p_vault_kv_mount", "upper-case", 1),
    # sites
    ("site-name-upper", _site(1, name="ESEC"), "s2p_sites[1].name", "upper-case", 1),
    ("site-name-too-long", _site(1, name="esecredusite"), "s2p_sites[1].name", "12 characters long", 1),
    ("site-missing-cluster", lambda m: m["s2p_sites"][1].pop("cluster"), "s2p_sites[esec].cluster",
     "required field is missing", 1),
    ("site-unknown-field", _site(1, clusterr="x"), "s2p_sites[esec].clusterr", "unknown field", 1),
    ("site-datastore-slash", _site(1, datastore="esec/ds01"), "s2p_sites[esec].datastore",
     "not a valid vSphere datastore name", 1),
    ("site-subnet", _site(1, subnet="10.12.0.0/33"), "s2p_sites[esec].subnet", "not a network in CIDR notation", 1),
    ("site-gateway-outside", _site(1, gateway="10.99.0.1"), "s2p_sites[esec].gateway",
     "not a host address of the subnet 10.12.0.0/16", 1),
    ("site-subnet-overlap", _site(1, subnet="10.11.128.0/17", gateway="10.11.128.1"), "s2p_sites[esec].subnet",
     "overlaps s2p_sites[esoc].subnet 10.11.0.0/16", 1),
    ("site-dns-server", _site(1, dns_servers=["10.12.0.300"]), "s2p_sites[esec].dns_servers[0]",
     "not an IP address", 1),
    ("site-duplicate", lambda m: m["s2p_sites"].append(dict(m["s2p_sites"][1])), "s2p_sites[3].name",
     "duplicate site name 'esec'", 1),
    ("sites-missing", lambda m: m.pop("s2p_sites"), "s2p_sites", "is required", 1),
    ("sites-empty", _set("s2p_sites", []), "s2p_sites", "defines no site", 1),
    # segments and environments
    ("environment-too-long", _set("s2p_environments", ["dev", "ire", "preope", "ope", "integration"]),
     "s2p_environments[4].name", "11 characters long", 1),
    ("environments-not-list", _set("s2p_environments", "dev,ire"), "s2p_environments",
     "must be a list of environments, got a string", 1),
    ("environment-duplicate", _set("s2p_environments", ["dev", "ire", "preope", "ope", "ire"]),
     "s2p_environments[4].name", "duplicate environment name 'ire'", 1),
    ("segment-unicode", _set("s2p_segments", ["swe", "sd", "pd", "dsdc", "spé"]), "s2p_segments[4].name",
     "non-ASCII", 1),
    ("segment-description-type", _set("s2p_segments", [{"name": "swe"}, {"name": "sd"}, {"name": "dsdc"},
                                                       {"name": "pd", "description": ["x"]}]),
     "s2p_segments[pd].description", "must be a string, got a list", 1),
    # stations
    ("station-unknown-site", _station(site="esox"), "s2p_stations[flyeye-1].site", "unknown site 'esox'", 1),
    ("flyeye-cameras", _station(cameras=12), "s2p_stations[flyeye-1].cameras",
     "a flyeye station has 16 cameras, got 12", 1),
    ("station-type", _station(type="hubble"), "s2p_stations[flyeye-1].type",
     "unknown value 'hubble' (allowed: flyeye, telescope)", 1),
    ("telescope-cameras", _station(type="telescope"), "s2p_stations[flyeye-1].cameras",
     "required field is missing for a telescope station", 1),
    ("station-name-long", _station(name="f" * 33), "s2p_stations[0].name", "33 characters long", 1),
    # a station's backend is named like a project's ope environment: project-length names only
    ("station-name-25", _station(name="f" * 25), "s2p_stations[" + "f" * 25 + "].name", "25 characters long", 1),
    ("station-is-a-project", _station(name="dish"), "s2p_stations[dish].name", "'dish' is also a project", 1),
    ("station-segment", _station(segment="pdx"), "s2p_stations[flyeye-1].segment", "unknown segment 'pdx'", 1),
    # addresses
    ("address-block-zero", _project(0, address_block=0), "s2p_projects[neocc].address_block",
     "from 1 to 254, got 0", 1),
    ("address-block-shared", lambda m: (m["s2p_projects"][0].update(address_block=5),
                                        m["s2p_stations"][0].update(address_block=5)),
     "s2p_stations[flyeye-1].address_block", "block 5 is already used by s2p_projects[neocc]", 1),
    ("address-block-outside-subnet", lambda m: (m["s2p_sites"][2].update(subnet="10.13.0.0/20", gateway="10.13.0.1"),
                                                m["s2p_projects"][0].update(address_block=20)),
     "s2p_projects[neocc].address_block", "at esrin: address_block: block 20 does not fit in the site subnet "
     "10.13.0.0/20 (4096 addresses): use a lower address_block or a larger subnet", 1),
    ("address-too-many-vms", lambda m: m["s2p_projects"][0].update(address_block=3, vms=[{"role": "app", "count": 63}]),
     "s2p_projects[neocc].vms[app].count", "environment ire at esrin: ordinal: must be a whole number from 1 to 62", 3),
    ("address-slot", lambda m: m.update(s2p_environments=[{"name": "ire", "address_slot": 4}, "ope"]),
     "s2p_environments[ire].address_slot", "from 0 to 3, got 4", 1),
]


@pytest.mark.parametrize("change, path, words, count", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_names_item_and_field(model, change, path, words, count):
    change(model)
    with pytest.raises(ValidationError) as caught:
        build_model(model)
    errors = caught.value.errors
    matching = [e for e in errors if e.startswith(path + ": ") and words in e]
    assert matching, "no error at %r containing %r in:\n%s" % (path, words, "\n".join(errors))
    assert len(errors) == count, "\n".join(errors)
    assert caught.value.as_fail_kwargs()["changed"] is False


def test_there_are_at_least_30_bad_inputs():
    assert len(BAD) >= 30
    assert len(set(case[0] for case in BAD)) == len(BAD)


def test_every_problem_is_reported_in_one_pass(model):
    model["s2p_domain"] = "example.org"
    model["s2p_sites"][1]["gateway"] = "10.99.0.1"
    neocc, dish = model["s2p_projects"]
    neocc["segment"] = "pdx"
    neocc["environments"] = {"ire": {"sites": ["esox"]}, "prod": {"sites": ["esoc"]}, "dev": {"sites": []}}
    neocc["services"] = ["Web", "my svc", "wéb"]
    model["s2p_projects"].append(dict(dish))
    model["s2p_stations"][0]["cameras"] = 8
    with pytest.raises(ValidationError) as caught:
        build_model(model)
    expected = [
        "s2p_domain: 'example.org' is outside s2p.esa.int",
        "s2p_sites[esec].gateway: 10.99.0.1 is not a host address of the subnet 10.12.0.0/16",
        "s2p_projects[neocc].segment: unknown segment 'pdx'",
        "s2p_projects[neocc].services[0].name: 'Web' is not a valid service name",
        "s2p_projects[neocc].services[1].name: 'my svc' is not a valid service name",
        "s2p_projects[neocc].services[2].name: 'wéb' is not a valid service name",
        "s2p_projects[neocc].environments.ire.sites[0]: unknown site 'esox'",
        "s2p_projects[neocc].environments.prod: unknown environment 'prod'",
        "s2p_projects[neocc].environments.dev.sites: is empty",
        "s2p_projects[2].name: duplicate project name 'dish'",
        "s2p_stations[flyeye-1].cameras: a flyeye station has 16 cameras, got 8",
    ]
    errors = caught.value.errors
    for start in expected:
        assert any(e.startswith(start) for e in errors), start
    assert len(errors) == len(expected), "\n".join(errors)
    assert str(caught.value).startswith("%d problem(s) in the input, nothing was changed:" % len(expected))
