"""The AWX objects (module_utils/model/awx_objects.py) built from small data: credential names,
types and inputs (extra vars first, then the environment), job templates with their surveys.
tests/unit/test_awx_objects.py checks the real awx/ data through awx_configure.yml."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.filter.awx import awx_job_templates, awx_schedules
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.model import awx_objects

TYPES = [
    {"id": "vault", "backend": "vault", "name": "S2P Vault", "description": "d", "kind": "cloud",
     "inputs": {"fields": [{"id": "url", "type": "string"}, {"id": "skip_verify", "type": "boolean"},
                           {"id": "token", "type": "string", "secret": True}]},
     "injectors": {"env": {"VAULT_ADDR": "{{ url }}"}}},
    {"id": "dns", "backend": "dns", "name": "S2P DNS", "description": "d", "kind": "cloud",
     "inputs": {"fields": [{"id": "server", "type": "string"}]}, "injectors": {}},
]
TEMPLATES = [
    {"name": "S2P site", "description": "all", "playbook": "playbooks/site.yml", "backends": ["vault", "dns"]},
    {"name": "S2P unit", "description": "one", "playbook": "playbooks/project_environment.yml", "backends": ["vault"],
     "extra_vars": {"state": "present"}, "job_type": "check", "diff_mode": True,
     "survey": [{"variable": "project", "question_name": "Project", "type": "multiplechoice",
                 "choices_from": "projects", "required": True},
                {"variable": "stages", "question_name": "Stages", "type": "multiselect", "choices": ["a", "b"],
                 "default": ["a", "b"]},
                {"variable": "days", "question_name": "Days", "type": "integer", "default": 30, "min": 1,
                 "max": 90}]},
]


def test_credential_names_and_types():
    assert awx_objects.credential_names(TYPES, " (lab)") == {"vault": "S2P Vault (lab)", "dns": "S2P DNS (lab)"}
    assert awx_objects.credential_types(TYPES)[0] == {k: TYPES[0][k] for k in awx_objects.CREDENTIAL_TYPE_KEYS}


def test_credential_inputs_extra_vars_first_then_environment():
    environ = {"S2P_AWX_VAULT_URL": "https://env", "S2P_AWX_VAULT_SKIP_VERIFY": "yes", "S2P_AWX_DNS_SERVER": ""}
    inputs = awx_objects.credential_inputs(TYPES, {"vault": {"url": "https://given"}}, environ)
    assert inputs == {"S2P Vault": {"url": "https://given", "skip_verify": True}, "S2P DNS": {}}
    assert awx_objects.credential_inputs(TYPES) == {"S2P Vault": {}, "S2P DNS": {}}


def test_job_templates_with_surveys():
    names = awx_objects.credential_names(TYPES)
    site, unit = awx_objects.job_templates(TEMPLATES, {"projects": ["neocc", "dish"]}, names)
    assert site == {"name": "S2P site", "description": "all", "playbook": "playbooks/site.yml",
                    "job_type": "run", "diff_mode": False,
                    "credentials": ["S2P Vault", "S2P DNS"], "instance_groups": [], "extra_vars": {},
                    "survey_enabled": False, "survey_spec": {}}
    assert unit["survey_enabled"] and unit["extra_vars"] == {"state": "present"}
    assert (unit["job_type"], unit["diff_mode"]) == ("check", True)
    project, stages, days = unit["survey_spec"]["spec"]
    assert project == {"question_name": "Project", "question_description": "", "variable": "project",
                       "type": "multiplechoice", "required": True, "choices": ["neocc", "dish"], "default": ""}
    assert stages["choices"] == ["a", "b"] and stages["default"] == "a\nb" and stages["required"] is False
    assert (days["default"], days["min"], days["max"]) == (30, 1, 90) and "choices" not in days


def test_job_templates_run_in_the_instance_groups_of_their_sites():
    names = awx_objects.credential_names(TYPES)
    groups = {"esoc": {"name": "S2P ESOC"}, "esrin": {"name": "S2P ESRIN"}}
    own = [dict(TEMPLATES[0], instance_groups=["esrin"]), dict(TEMPLATES[1], instance_groups=["esoc", "esrin"])]
    site, unit = awx_objects.job_templates(own, {"projects": ["neocc"]}, names, groups)
    assert site["instance_groups"] == ["S2P ESRIN"] and unit["instance_groups"] == ["S2P ESOC", "S2P ESRIN"]
    with pytest.raises(S2PError, match=r"S2P site: no instance group for the sites \['esec'\]"):
        awx_objects.job_templates([dict(TEMPLATES[0], instance_groups=["esec"])], {}, names, groups)


def test_job_templates_refuse_unknown_choices_and_backends():
    names = awx_objects.credential_names(TYPES)
    with pytest.raises(S2PError, match="survey question project: choices_from must be one of"):
        awx_objects.job_templates(TEMPLATES, {}, names)
    with pytest.raises(AnsibleFilterError, match=r"S2P site: no credential type for the backends \['dns'\]"):
        awx_job_templates(TEMPLATES[:1], {}, {"vault": "V"})


def test_schedules_answer_the_survey_with_its_defaults_unless_given():
    nightly_rule = "DTSTART;TZID=UTC:20260101T020000 RRULE:FREQ=DAILY"
    items = [{"name": "nightly", "job_template": "S2P unit", "rrule": nightly_rule, "extra_data": {"days": 7}},
             {"name": "weekly", "description": "w", "job_template": "S2P site", "rrule": "R", "enabled": False}]
    nightly, weekly = awx_objects.schedules(items, TEMPLATES)
    assert nightly == {"name": "nightly", "description": "", "job_template": "S2P unit", "rrule": items[0]["rrule"],
                       "extra_data": {"stages": ["a", "b"], "days": 7}, "enabled": True}
    assert (weekly["extra_data"], weekly["enabled"], weekly["description"]) == ({}, False, "w")


def test_schedules_report_every_problem_at_once():
    items = [{"name": "a", "job_template": "S2P nothing", "rrule": "R"},
             {"name": "b", "job_template": "S2P unit"},
             {"name": "c", "job_template": "S2P unit", "rrule": "R", "extra_data": {"state": "absent", "days": 1}}]
    with pytest.raises(AnsibleFilterError) as error:
        awx_schedules(items, TEMPLATES)
    message = str(error.value)
    assert "schedule a: no job template named 'S2P nothing'" in message
    assert "schedule b: rrule missing" in message
    assert "schedule c: extra_data state is not a survey question of S2P unit" in message
