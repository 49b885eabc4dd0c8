"""The naming filters as Ansible runs them: through a real Templar and the plugin loader."""

from __future__ import annotations

import re

import pytest
import yaml
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.esa.s2p.plugins.filter.awx import FilterModule as AWXFilters
from ansible_collections.esa.s2p.plugins.filter.dns_model import FilterModule as DNSModelFilters
from ansible_collections.esa.s2p.plugins.filter.drift import FilterModule as DriftFilters
from ansible_collections.esa.s2p.plugins.filter.plans import FilterModule as PlanFilters
from ansible_collections.esa.s2p.plugins.filter.preflight import FilterModule as PreflightFilters
from ansible_collections.esa.s2p.plugins.filter.summary import FilterModule as SummaryFilters
from ansible_collections.esa.s2p.plugins.filter.naming import FilterModule
from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model


@pytest.fixture
def render(inventory_model):
    templar = Templar(loader=DataLoader(), variables={"s2p_model": build_model(inventory_model("lab"))})

    def _render(expression: str):
        return templar.evaluate_expression(trust_as_template(expression))
    return _render


@pytest.mark.parametrize("expression, expected", [
    ("'web' | esa.s2p.fqdn('neocc', 'ope')", "web.neocc.s2p.esa.int"),
    ("'web' | esa.s2p.fqdn('neocc', 'ire')", "web.neocc.ire.s2p.esa.int"),
    ("'web' | esa.s2p.fqdn(project='neocc', env='preope', domain='lab.s2p.esa.int')",
     "web.neocc.preope.lab.s2p.esa.int"),
    ("'api' | esa.s2p.fqdn('neocc', 'ire', model=s2p_model)", "api.neocc.ire.s2p.esa.int"),
    ("'app' | esa.s2p.vm_name('esoc', 'neocc', 'ope', 2)", "esoc-neocc-ope-app02"),
    ("'app' | esa.s2p.vm_name(site='esrin', project='neocc', env='ire', model=s2p_model)", "esrin-neocc-ire-app01"),
    ("'esoc-neocc-ope-app01' | esa.s2p.host_fqdn", "esoc-neocc-ope-app01.s2p.esa.int"),
    ("'flyeye-2' | esa.s2p.station_fqdn", "flyeye-2.stations.s2p.esa.int"),
    ("'flyeye-2' | esa.s2p.station_fqdn(camera=16, model=s2p_model)", "cam16.flyeye-2.stations.s2p.esa.int"),
    ("'neocc' | esa.s2p.ldap_dn('service', env='ire')", "uid=neocc-ire,ou=services,dc=s2p,dc=esa,dc=int"),
    ("'jdoe' | esa.s2p.ldap_dn('person', base_dn='dc=lab')", "uid=jdoe,ou=people,dc=lab"),
    ("'developers' | esa.s2p.ldap_dn('group', project='dish', model=s2p_model)",
     "cn=dish-developers,ou=groups,dc=s2p,dc=esa,dc=int"),
    ("'neocc' | esa.s2p.service_account('ire')", "neocc-ire"),
    ("'db-password' | esa.s2p.vault_path('pd', 'neocc', 'ire')", "pd/neocc/ire/db-password"),
    ("'s3-key' | esa.s2p.vault_path(project='archive', env='ope', model=s2p_model)", "dsdc/archive/ope/s3-key"),
    ("'neocc' | esa.s2p.vault_policy('ope')", "s2p-neocc-ope"),
    ("'swe-portal' | esa.s2p.stack_name('ire', model=s2p_model)", "swe-portal-ire"),
    ("'neocc' | esa.s2p.dns_owner('preope', model=s2p_model)", "neocc/preope"),
    ("'10.13.2.7' | esa.s2p.reverse_dns", "7.2.13.10.in-addr.arpa"),
])
def test_filter_gives_the_name(render, expression, expected):
    assert render(expression) == expected


def test_filters_agree_with_the_model(render):
    vm = render("s2p_model.projects.dish.environments.ope.vms[0]")
    assert render("'%s' | esa.s2p.vm_name('%s', 'dish', 'ope', %d)" % (vm["role"], vm["site"], vm["index"])) \
        == vm["name"]
    assert render("'%s' | esa.s2p.host_fqdn" % vm["name"]) == vm["fqdn"]


@pytest.mark.parametrize("expression, words", [
    ("'Web' | esa.s2p.fqdn('neocc', 'ire')", "service: 'Web' is not a valid service name: it has upper-case"),
    ("'web' | esa.s2p.fqdn('neocc', 'IRE')", "env: 'IRE' is not a valid environment name"),
    ("'web' | esa.s2p.fqdn('neocc', 'ire', domain='example.org')", "domain: 'example.org' is outside s2p.esa.int"),
    ("'web' | esa.s2p.fqdn('neocc', 'ire2', model=s2p_model)",
     "env: unknown environment 'ire2' (known: dev, ire, ope, preope)"),
    ("'web' | esa.s2p.fqdn('swe-portal', 'dev', model=s2p_model)",
     "env: project 'swe-portal' has no environment 'dev' (its environments: ire, ope, preope)"),
    ("'web' | esa.s2p.fqdn('neo', 'ire', model=s2p_model)", "project: unknown project 'neo'"),
    ("'app' | esa.s2p.vm_name('esox', 'neocc', 'ire', model=s2p_model)",
     "site: unknown site 'esox' (known: esec, esoc, esrin)"),
    ("'app' | esa.s2p.vm_name('esoc', 'neocc', 'ire', 100)", "index: must be a whole number from 1 to 99"),
    ("'app 1' | esa.s2p.vm_name('esoc', 'neocc', 'ire')", "role: 'app 1' is not a valid VM role name"),
    ("'flyeye-9' | esa.s2p.station_fqdn(model=s2p_model)", "station: unknown station 'flyeye-9'"),
    ("'flyeye-1' | esa.s2p.station_fqdn(camera=17, model=s2p_model)", "camera: must be a whole number from 1 to 16"),
    ("'neocc' | esa.s2p.ldap_dn('robot')", "kind: unknown LDAP entry kind 'robot' (allowed: group, person, service)"),
    ("'neocc' | esa.s2p.ldap_dn('service')", "env: is required for kind=service"),
    ("'developers' | esa.s2p.ldap_dn('group')", "project: is required for kind=group"),
    ("'John Doe' | esa.s2p.ldap_dn('person')", "uid: 'John Doe' is not a valid person (uid) name"),
    ("'db-password' | esa.s2p.vault_path(project='neocc', env='ire')",
     "segment: is required unless model=s2p_model is given"),
    ("'db-password' | esa.s2p.vault_path('pdx', 'neocc', 'ire', model=s2p_model)", "segment: unknown segment 'pdx'"),
    ("'db password' | esa.s2p.vault_path('pd', 'neocc', 'ire')", "secret: 'db password' is not a valid secret name"),
    ("'neocc' | esa.s2p.stack_name('ire', model={'x': 1})", "model: must be the normalised model"),
    ("'neocc' | esa.s2p.vault_policy('ope ')", "env: 'ope ' is not a valid environment name: it has spaces"),
    ("'neocc' | esa.s2p.service_account('ire', model=s2p_model) | esa.s2p.host_fqdn(domain='s2p.esa.com')",
     "domain: 's2p.esa.com' is outside s2p.esa.int"),
    ("'neocc' | esa.s2p.dns_owner('ire2', model=s2p_model)", "env: unknown environment 'ire2'"),
    ("'10.11.0.256' | esa.s2p.reverse_dns", "ip: '10.11.0.256' is not an IP address"),
])
def test_filter_refuses_bad_input_with_a_clear_error(render, expression, words):
    with pytest.raises(AnsibleError) as caught:
        render(expression)
    assert words in str(caught.value)
    assert "esa.s2p." in str(caught.value)  # Ansible names the failing filter


FILTER_DIR = "plugins/filter"


def _docs(root):
    return {path.stem: yaml.safe_load(path.read_text()) for path in sorted((root / FILTER_DIR).glob("*.yml"))}


def test_every_filter_has_its_docs_file_and_every_docs_file_a_filter(root):
    docs = _docs(root)
    filters = [name for module in (FilterModule, DNSModelFilters, SummaryFilters, PlanFilters, PreflightFilters,
                                   AWXFilters, DriftFilters) for name in module().filters()]
    assert sorted(filters) == sorted(docs)
    for name, doc in docs.items():
        assert doc["DOCUMENTATION"]["name"] == name
        assert doc["DOCUMENTATION"]["options"]["_input"]["required"] is True
        assert doc["EXAMPLES"].strip()
        if name in FilterModule().filters():  # naming filters return names; the DNS model ones data
            assert doc["RETURN"]["_value"]["type"] == "string"


# `"{{ expression }}"  # expected` lines of the EXAMPLES sections
_EXAMPLE = re.compile(r'"\{\{ (.+?) \}\}"\s+# (\S+)$')


def test_examples_in_the_docs_give_what_they_say(root, render):
    checked = 0
    for doc in _docs(root).values():
        for line in doc["EXAMPLES"].splitlines():
            found = _EXAMPLE.search(line)
            if found:
                assert render(found.group(1)) == found.group(2), line
                checked += 1
    assert checked >= 12
