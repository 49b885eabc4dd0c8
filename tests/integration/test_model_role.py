"""The role esa.s2p.model in a real playbook run on the lab inventory.

It needs no lab server: the model is plain inventory data and the validation runs on the
controller (the lab's connection variables are never templated here)."""

from __future__ import annotations

import pytest

PLAY = [{
    "name": "Validate the model",
    "hosts": "localhost",
    "gather_facts": False,
    "roles": ["esa.s2p.model"],
    "tasks": [{
        "name": "Use the model",
        "ansible.builtin.debug": {"msg": {
            "fqdn": "{{ s2p_model.projects.neocc.environments.ire.services[0].fqdn }}",
            "filter": "{{ 'web' | esa.s2p.fqdn('neocc', 'ope', model=s2p_model) }}",
            "vms": "{{ s2p_model.vms | length }}",
        }},
    }],
}]
VALIDATE = "Validate the S2P model and publish s2p_model"


# site.yml imports playbooks that each start with the model role: a later play with the same
# input only reports (no new fact); a play whose input differs builds the model again.
AGAIN = [
    {"name": "Same input", "hosts": "localhost", "gather_facts": False, "roles": ["esa.s2p.model"]},
    {"name": "Fewer stations", "hosts": "localhost", "gather_facts": False, "vars": {"s2p_stations": []},
     "roles": ["esa.s2p.model"],
     "tasks": [{"name": "Stations seen", "ansible.builtin.debug": {"msg": "{{ s2p_model.stations | length }}"}}]},
    {"name": "The inventory's again", "hosts": "localhost", "gather_facts": False, "roles": ["esa.s2p.model"],
     "tasks": [{"name": "Stations again", "ansible.builtin.debug": {"msg": "{{ s2p_model.stations | length }}"}}]},
]


@pytest.mark.smoke
def test_good_model_sets_the_fact_and_changes_nothing(run_playbook):
    run = run_playbook(PLAY + AGAIN)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.changed == 0 and run.failed == 0
    result, same, fewer, back = run.results(VALIDATE)
    assert set(result["ansible_facts"]) == {"s2p_model", "s2p_model_input_sha256"}
    digest = result["ansible_facts"]["s2p_model_input_sha256"]
    assert "ansible_facts" not in same and same["msg"].endswith("(already validated in this run from the same input)")
    assert fewer["ansible_facts"]["s2p_model_input_sha256"] != digest
    assert run.result("Stations seen")["msg"] == 0
    assert back["ansible_facts"]["s2p_model_input_sha256"] == digest
    assert run.result("Stations again")["msg"] == 2
    model = result["ansible_facts"]["s2p_model"]
    assert sorted(model["projects"]) == ["archive", "dish", "fragdb", "monitoring", "neocc", "orbit-det", "reentry",
                                         "swe-hapi", "swe-kp", "swe-portal"]
    assert result["msg"].startswith("S2P model OK: 3 sites, 4 segments, 4 environments, 10 projects")
    assert run.result("Use the model")["msg"] == {
        "fqdn": "web.neocc.ire.s2p.esa.int", "filter": "web.neocc.s2p.esa.int", "vms": 48}


def test_check_mode_validates_too(run_playbook):
    run = run_playbook(PLAY, check=True)
    assert run.rc == 0 and run.changed == 0, run.stdout[-3000:]
    assert "s2p_model" in run.result(VALIDATE)["ansible_facts"]


def test_bad_model_fails_with_every_error_and_changes_nothing(run_playbook):
    bad = {
        "s2p_domain": "example.org",
        "s2p_projects": [
            {"name": "neocc", "segment": "pdx",
             "environments": {"ire": {"sites": ["esox"]}, "dev": {"sites": []}},
             "services": ["Web"]},
            {"name": "neocc", "segment": "pd", "environments": {"ope": {"sites": ["esoc"]}}},
        ],
    }
    run = run_playbook(PLAY, extravars=bad)
    assert run.rc != 0 and run.failed == 1 and run.changed == 0, run.stdout[-3000:]
    result = run.result(VALIDATE)
    assert result["changed"] is False
    assert result["errors"] == [
        "s2p_domain: 'example.org' is outside s2p.esa.int (allowed: s2p.esa.int or a name under it, "
        "e.g. lab.s2p.esa.int)",
        "s2p_projects[1].name: duplicate project name 'neocc' (first defined at s2p_projects[neocc])",
        "s2p_projects[neocc].segment: unknown segment 'pdx' (known: dsdc, pd, sd, swe)",
        "s2p_projects[neocc].services[0].name: 'Web' is not a valid service name: it has upper-case letters "
        "(allowed: lower-case letters a-z, digits and '-', starting with a letter, ending with a letter or digit, "
        "no '--', at most 63 characters)",
        "s2p_projects[neocc].environments.ire.sites[0]: unknown site 'esox' (known: esec, esoc, esrin)",
        "s2p_projects[neocc].environments.dev.sites: is empty: the project has no site in this environment, "
        "list at least one (known: esec, esoc, esrin)",
    ]
    assert result["msg"].startswith("6 problem(s) in the input, nothing was changed:")
    assert "unknown site 'esox'" in run.stdout
    assert "Use the model" not in run.stdout


def test_wrong_top_level_type_is_stopped_by_the_argument_spec(run_playbook):
    run = run_playbook(PLAY, extravars={"s2p_sites": "esoc"})
    assert run.rc != 0 and run.failed == 1 and run.changed == 0, run.stdout[-3000:]
    assert "s2p_sites" in run.stdout and "Validating arguments against arg spec" in run.stdout
