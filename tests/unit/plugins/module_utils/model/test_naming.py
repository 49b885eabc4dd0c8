"""The naming rules of module_utils/model/naming.py, one function at a time."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import NamingError


def test_vm_name():
    assert naming.vm_name("esoc", "neocc", "ope", "app", 1) == "esoc-neocc-ope-app01"
    assert naming.vm_name("esrin", "swe-portal", "preope", "db", 12) == "esrin-swe-portal-preope-db12"


def test_longest_vm_name_is_one_dns_label():
    name = naming.vm_name("s" * 8, "p" * 24, "e" * 8, "r" * 10, 99)
    assert len(name) == 55 and len(name) <= naming.MAX_LABEL


@pytest.mark.parametrize("args, arg, words", [
    (("ESOC", "neocc", "ope", "app", 1), "site", "upper-case"),
    (("esoc", "neo cc", "ope", "app", 1), "project", "spaces"),
    (("esoc", "neocc", "opé", "app", 1), "env", "non-ASCII"),
    (("esoc", "neocc", "ope", "app2", 1), "role", "does not end with a letter"),
    (("esoc", "neocc", "ope", "app", 0), "index", "from 1 to 99"),
    (("esoc", "neocc", "ope", "app", 100), "index", "from 1 to 99"),
    (("esoc", "neocc", "ope", "app", True), "index", "from 1 to 99"),
    (("esoc", "n" * 25, "ope", "app", 1), "project", "25 characters long"),
])
def test_vm_name_rejects(args, arg, words):
    with pytest.raises(NamingError) as caught:
        naming.vm_name(*args)
    assert str(caught.value).startswith(arg + ": ")
    assert words in str(caught.value)


def test_service_fqdn_production_has_no_environment_label():
    assert naming.service_fqdn("web", "neocc", "ope") == "web.neocc.s2p.esa.int"
    assert naming.service_fqdn("web", "neocc", "ire") == "web.neocc.ire.s2p.esa.int"
    assert naming.service_fqdn("web", "neocc", "preope", "lab.s2p.esa.int") == "web.neocc.preope.lab.s2p.esa.int"


@pytest.mark.parametrize("domain, words", [
    ("example.org", "outside s2p.esa.int"),
    ("evil-s2p.esa.int", "outside s2p.esa.int"),
    ("esa.int", "outside s2p.esa.int"),
    ("s2p.esa.int.", "label '': it is empty"),
    ("S2P.esa.int", "upper-case"),
    ("-x.s2p.esa.int", "starts with '-'"),
    ("x" * 64 + ".s2p.esa.int", "64 characters long"),
    (".".join(["x" * 60] * 4) + ".s2p.esa.int", "at most 253"),
    (None, "got null"),
])
def test_domain_rules(domain, words):
    with pytest.raises(NamingError) as caught:
        naming.service_fqdn("web", "neocc", "ope", domain)
    assert str(caught.value).startswith("domain: ") and words in str(caught.value)


def test_domain_may_be_under_the_programme_domain_and_start_with_a_digit():
    assert naming.check_domain("9lab.s2p.esa.int") == "9lab.s2p.esa.int"


def test_fqdn_longer_than_253_is_refused():
    domain = ".".join(["x" * 60] * 3) + ".s2p.esa.int"
    assert len(naming.service_fqdn("web", "neocc", "ire", domain)) < 253
    with pytest.raises(NamingError, match="would be 265 characters long"):
        naming.service_fqdn("s" * 60, "neocc", "ire", domain)


def test_host_and_station_fqdns():
    assert naming.host_fqdn("esoc-neocc-ope-app01") == "esoc-neocc-ope-app01.s2p.esa.int"
    assert naming.station_fqdn("flyeye-1") == "flyeye-1.stations.s2p.esa.int"
    assert naming.station_fqdn("flyeye-1", camera=16) == "cam16.flyeye-1.stations.s2p.esa.int"
    assert naming.camera_name(3) == "cam03"
    with pytest.raises(NamingError, match="^camera: "):
        naming.station_fqdn("flyeye-1", camera=0)
    with pytest.raises(NamingError, match="^vm: .*'esoc_app01'"):
        naming.host_fqdn("esoc_app01")


def test_vm_folder():
    assert naming.vm_folder("ESOC", "s2p/", "pd", "neocc", "ire") == "/ESOC/vm/s2p/pd/neocc/ire"


@pytest.mark.parametrize("ip, name", [
    ("10.11.0.5", "5.0.11.10.in-addr.arpa"),
    ("2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"),
])
def test_reverse_dns(ip, name):
    assert naming.reverse_dns(ip) == name


@pytest.mark.parametrize("bad", ["10.11.0.300", "esoc", "", None, 167772161])
def test_reverse_dns_rejects(bad):
    with pytest.raises(NamingError, match="^ip: .* is not an IP address"):
        naming.reverse_dns(bad)


def test_ldap_dns():
    uid = naming.service_account_uid("neocc", "ire")
    assert uid == "neocc-ire"
    assert naming.ldap_dn("service", uid) == "uid=neocc-ire,ou=services,dc=s2p,dc=esa,dc=int"
    assert naming.ldap_dn("person", "john.doe") == "uid=john.doe,ou=people,dc=s2p,dc=esa,dc=int"
    cn = naming.ldap_group_cn("neocc", "developers")
    assert naming.ldap_dn("group", cn, "dc=lab,dc=s2p") == "cn=neocc-developers,ou=groups,dc=lab,dc=s2p"


@pytest.mark.parametrize("call, arg", [
    (lambda: naming.ldap_dn("robot", "x"), "kind"),
    (lambda: naming.ldap_dn("person", "J Doe"), "uid"),
    (lambda: naming.ldap_dn("service", ""), "value"),
    (lambda: naming.ldap_dn("person", "jdoe", "s2p.esa.int"), "base_dn"),
    (lambda: naming.ldap_group_cn("neocc", "Dev Team"), "group"),
])
def test_ldap_rejects(call, arg):
    with pytest.raises(NamingError) as caught:
        call()
    assert str(caught.value).startswith(arg + ": ")


@pytest.mark.parametrize("value, escaped", [
    ("plain", "plain"),
    ("a,b", "a\\,b"),
    ("a+b=c", "a\\+b=c"),
    ('say "hi"', 'say \\"hi\\"'),
    ("back\\slash", "back\\\\slash"),
    ("<a;b>", "\\<a\\;b\\>"),
    ("#first", "\\#first"),
    ("mid#dle", "mid#dle"),
    (" padded ", "\\ padded\\ "),
    ("in side", "in side"),
    ("nul\x00", "nul\\00"),
])
def test_rfc4514_escaping(value, escaped):
    assert naming.escape_dn_value(value) == escaped


def test_vault_and_swarm_names():
    assert naming.vault_kv_path("pd", "neocc", "ire", "db-password") == "pd/neocc/ire/db-password"
    assert naming.vault_policy_name("neocc", "ope") == "s2p-neocc-ope"
    assert naming.stack_name("swe-portal", "preope") == "swe-portal-preope"
    with pytest.raises(NamingError, match="^secret: 'db/password' .*'/'"):
        naming.vault_kv_path("pd", "neocc", "ire", "db/password")


@pytest.mark.parametrize("kind, value, words", [
    ("project", "stations", "reserved"),
    ("environment", "stations", "reserved"),
    ("project", "-neocc", "does not start with a letter"),
    ("project", "neocc-", "ends with '-'"),
    ("project", "neo--cc", "'--'"),
    ("project", "", "it is empty"),
    ("project", ["neocc"], "got a list"),
    ("site", "es-oc", "'-'"),
    ("person", "j.doe_", "ends with '_'"),
    ("service", "web\t", "spaces"),
])
def test_name_rules(kind, value, words):
    message = naming.name_error(kind, value)
    assert message and words in message


def test_name_error_lists_every_problem_and_what_is_allowed():
    message = naming.name_error("project", "Neö CC_")
    for words in ("upper-case", "spaces", "non-ASCII characters (ö)", "it has '_'"):
        assert words in message
    assert "allowed: lower-case letters a-z, digits and '-'" in message and "at most 24 characters" in message
    assert naming.name_error("project", "neocc") is None


def test_naming_error_is_an_s2p_error():
    assert issubclass(NamingError, S2PError) and issubclass(NamingError, ValueError)


def test_station_endpoint_and_ingest_service():
    assert naming.station_endpoint_fqdn("ingest", "flyeye-1") == "ingest.flyeye-1.stations.s2p.esa.int"
    assert naming.station_endpoint_fqdn("ingest", "flyeye-1", "lab.s2p.esa.int") == \
        "ingest.flyeye-1.stations.lab.s2p.esa.int"
    assert naming.station_ingest_service(7) == "ingest-cam07"
    with pytest.raises(NamingError, match="^endpoint: 'cam01' looks like a camera name"):
        naming.station_endpoint_fqdn("cam01", "flyeye-1")
    with pytest.raises(NamingError, match="^endpoint: .*upper-case"):
        naming.station_endpoint_fqdn("Ingest", "flyeye-1")
    with pytest.raises(NamingError, match="^camera: "):
        naming.station_ingest_service(0)


def test_addresses_in_the_site_subnet():
    assert naming.block_address("10.11.0.0/16", 7, 65) == "10.11.7.65"
    assert naming.vm_address("10.11.0.0/16", 7, 0, 1) == "10.11.7.1"
    assert naming.vm_address("10.11.0.0/16", 7, 3, 62) == "10.11.7.254"
    assert naming.station_address("10.13.0.0/16", 200) == "10.13.200.1"
    assert naming.station_address("10.13.0.0/16", 200, camera=16) == "10.13.200.17"
    assert naming.station_address("10.13.0.0/16", 200, vm_ordinal=3) == "10.13.200.103"
    # slots never overlap: the last address of a slot is below the first of the next
    assert naming.vm_address("10.11.0.0/16", 1, 1, 62) < naming.vm_address("10.11.0.0/16", 1, 2, 1)


@pytest.mark.parametrize("args, arg, words", [
    (("10.11.0.0/16", 0, 1), "address_block", "from 1 to 254, got 0"),
    (("10.11.0.0/16", 255, 1), "address_block", "from 1 to 254, got 255"),
    (("10.11.0.0/16", 1, 255), "offset", "from 1 to 254, got 255"),
    (("10.11.0.0/20", 16, 1), "address_block", "block 16 does not fit in the site subnet 10.11.0.0/20"),
    (("10.11.0.0/33", 1, 1), "subnet", "not a network"),
    ((None, 1, 1), "subnet", "not a network"),
])
def test_block_address_rejects(args, arg, words):
    with pytest.raises(NamingError) as caught:
        naming.block_address(*args)
    assert str(caught.value).startswith(arg + ": ") and words in str(caught.value)


def test_vm_address_rejects_bad_slots_and_ordinals():
    with pytest.raises(NamingError, match="^address_slot: must be 0, 1, 2 or 3"):
        naming.vm_address("10.11.0.0/16", 1, 4, 1)
    with pytest.raises(NamingError, match="^address_slot: "):
        naming.vm_address("10.11.0.0/16", 1, True, 1)
    with pytest.raises(NamingError, match="^ordinal: must be a whole number from 1 to 62, got 63"):
        naming.vm_address("10.11.0.0/16", 1, 0, 63)


@pytest.mark.parametrize("path, problem", [
    ("pd/neocc/ope/ldap-bind", None),
    ("a/" + "x" * 63, None),
    ("a/" + "x" * 64, "element 'xxxxxxxxxxxxxxxxxxxx'... is 64 characters long (at most 63)"),
    ("/".join(["abcdefgh"] * 29), "'abcdefgh/abcdefgh/abcdefgh/abcdefgh/abcd'... is 260 characters long (at most 255)"),
    ("pd/Neocc", "'pd/Neocc' is not a KV path"),
    ("pd//x", "'pd//x' is not a KV path"),
    ("../x", "'../x' is not a KV path"),
    ("", "must be a KV path"),
    ({"a": 1}, "must be a KV path like pd/neocc/ope/ldap-bind, got {'a': 1}"),
])
def test_kv_path_rule(path, problem):
    found = naming.kv_path_error(path)
    assert (found is None) if problem is None else found.startswith(problem), found
