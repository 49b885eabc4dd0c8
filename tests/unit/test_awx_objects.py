"""The AWX objects of awx/ as awx_configure.yml renders them: valid for AWX, injectors that
set exactly the environment variables the modules read, surveys whose choices are the model's
names and whose defaults AWX accepts. No AWX and no backend: pure data and rendering."""

from __future__ import annotations

import importlib
import json
import os
import stat
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import awx_helpers  # noqa: E402

BACKENDS = ("vsphere", "ldap", "vault", "dns", "acme", "swarm")
DATA = awx_helpers.load_awx_data()
TYPES = {t["backend"]: t for t in DATA["awx_credential_types"]}
TEMPLATES = DATA["awx_job_templates"]
MODEL_KINDS = ("sites", "segments", "environments", "projects", "stations")


def connection_spec(backend: str) -> dict:
    module = importlib.import_module(f"ansible_collections.esa.s2p.plugins.module_utils.{backend}.adapter")
    return module.connection_argument_spec()


def env_options(backend: str) -> dict:
    """{ENV_VAR: option} of the backend's env_fallback options."""
    out = {}
    for option, spec in connection_spec(backend).items():
        fallback = spec.get("fallback")
        if fallback and fallback[0].__name__ == "env_fallback":
            for name in fallback[1]:
                out[name] = option
    return out


def fields_used(template: str) -> set[str]:
    return meta.find_undeclared_variables(ImmutableSandboxedEnvironment().parse(template)) - {"tower"}


# Sample inputs of each type: every string field set, booleans left to their defaults.
SAMPLE_INPUTS = {
    "vcenter": {"host": "vc.example", "port": "8443", "username": "admin", "password": "pw-vc", "ca": "CA-PEM"},
    "ldap": {"server_uri": "ldaps://dir.example", "bind_dn": "cn=admin", "bind_pw": "pw-ldap", "ca": "CA-PEM"},
    "vault": {"url": "https://vault.example", "role_id": "rid", "secret_id": "sid", "ca": "CA-PEM"},
    "tsig": {"server": "ns.example", "port": "5353", "key_name": "k", "key_secret": "c2VjcmV0",
             "key_algorithm": "hmac-sha512"},
    "acme": {"directory_url": "https://acme.example/dir", "ca": "CA-PEM"},
    "docker": {"docker_host": "tcp://mgr.example:2376", "tls": True, "verify": True, "ca": "CA-PEM",
               "cert": "CERT-PEM", "key": "KEY-PEM"},
}


def test_one_credential_type_per_backend():
    assert sorted(TYPES) == sorted(BACKENDS)
    assert sorted(SAMPLE_INPUTS) == sorted(t["id"] for t in TYPES.values())


@pytest.mark.parametrize("backend", BACKENDS)
def test_credential_type_is_valid_for_awx(backend):
    assert awx_helpers.validate_credential_type(TYPES[backend]) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_env_injectors_set_only_the_variables_the_modules_read(backend):
    injected = set(TYPES[backend]["injectors"]["env"])
    readable = set(env_options(backend))
    assert injected - readable == set(), f"{backend}: injected variables no module option reads"


@pytest.mark.parametrize("backend", BACKENDS)
def test_required_connection_options_are_injected(backend):
    """Every option the modules need without a default is set by the credential."""
    ctype, env = TYPES[backend], env_options(backend)
    covered = {env[name] for name in ctype["injectors"]["env"]}
    covered |= set(ctype["injectors"].get("extra_vars", {}).get(f"s2p_{backend}_connection", {}))
    required = {o for o, s in connection_spec(backend).items() if s.get("required") and "default" not in s}
    assert required - covered == set()


@pytest.mark.parametrize("backend", BACKENDS)
def test_secret_options_come_from_secret_inputs(backend):
    """An input injected into a no_log option is a secret input, and every secret input feeds a
    no_log option or a file (so AWX hides what the modules hide)."""
    ctype, spec, env = TYPES[backend], connection_spec(backend), env_options(backend)
    secret = {f["id"] for f in ctype["inputs"]["fields"] if f.get("secret")}
    fed_to_no_log = set()
    for name, tmpl in ctype["injectors"]["env"].items():
        if spec[env[name]].get("no_log"):
            fed_to_no_log |= fields_used(tmpl)
    assert fed_to_no_log <= secret
    in_files = set().union(*(fields_used(t) for t in ctype["injectors"].get("file", {}).values()))
    assert secret <= fed_to_no_log | in_files
    if backend not in ("acme", "swarm"):  # ACME has no secret; the Docker key goes in a file
        assert fed_to_no_log, f"{backend}: no secret reaches the modules"


@pytest.mark.parametrize("backend", BACKENDS)
def test_extra_var_injectors_only_set_connection_options(backend):
    extra = TYPES[backend]["injectors"].get("extra_vars", {})
    assert set(extra) <= {f"s2p_{backend}_connection"}
    assert set(extra.get(f"s2p_{backend}_connection", {})) <= set(connection_spec(backend))


@pytest.mark.parametrize("backend", BACKENDS)
def test_rendered_credential_gives_the_modules_their_connection(backend, tmp_path, monkeypatch):
    """Render the injectors as AWX does, then let Ansible's own argument-spec validation read the
    environment: the modules get exactly the credential's values, CA files included."""
    ctype = TYPES[backend]
    inputs = SAMPLE_INPUTS[ctype["id"]]
    env, args = awx_helpers.inject_credential(ctype, inputs, tmp_path)
    params = {}
    if args:
        assert args[0] == "-e" and args[1].startswith("@")
        extra_file = Path(args[1][1:])
        assert stat.S_IMODE(extra_file.stat().st_mode) == 0o400
        params = yaml.safe_load(extra_file.read_text())[f"s2p_{backend}_connection"]
    for name in list(os.environ):
        if name in env_options(backend) or name == "DOCKER_CERT_PATH":
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(connection_spec(backend)).validate(params)
    assert result.error_messages == []
    got = result.validated_parameters
    expected = {
        "vsphere": {"hostname": "vc.example", "port": 8443, "username": "admin", "password": "pw-vc",
                    "validate_certs": True},
        "ldap": {"server_uri": "ldaps://dir.example", "bind_dn": "cn=admin", "bind_pw": "pw-ldap"},
        "vault": {"url": "https://vault.example", "auth_method": "approle", "role_id": "rid", "secret_id": "sid"},
        "dns": {"server": "ns.example", "port": 5353, "key_name": "k", "key_secret": "c2VjcmV0",
                "key_algorithm": "hmac-sha512"},
        "acme": {"acme_directory": "https://acme.example/dir"},
        "swarm": {"docker_host": "tcp://mgr.example:2376", "tls": True, "validate_certs": True},
    }[backend]
    assert {k: got[k] for k in expected} == expected
    files = {"ca_path": "CA-PEM", "ca_cert": "CA-PEM", "client_cert": "CERT-PEM", "client_key": "KEY-PEM"}
    for option, content in files.items():
        if option in got and got[option] is not None:
            path = Path(got[option])
            assert path.read_text() == content and path.parent == tmp_path / "env"
            assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_missing_optional_inputs_render_empty_and_booleans_false(tmp_path, monkeypatch):
    """Without a CA the CA variable is empty (the system trust store is used, no empty file
    named), a missing port falls back to the default, an unset boolean is False."""
    env = awx_helpers.inject_credential(TYPES["vsphere"], {"host": "h", "username": "u", "password": "p"},
                                        tmp_path)[0]
    assert env["VMWARE_CA_PATH"] == "" and env["VMWARE_PORT"] == "443" and env["VMWARE_VALIDATE_CERTS"] == "True"
    env, args = awx_helpers.inject_credential(TYPES["swarm"], {"docker_host": "unix:///run/docker.sock"}, tmp_path)
    assert env == {"DOCKER_HOST": "unix:///run/docker.sock", "DOCKER_TLS": "False", "DOCKER_TLS_VERIFY": "False"}
    extra = yaml.safe_load(Path(args[1][1:]).read_text())
    assert extra == {"s2p_swarm_connection": {"ca_path": "", "client_cert": "", "client_key": ""}}
    for name in ("DOCKER_TLS", "DOCKER_TLS_VERIFY", "DOCKER_HOST", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(connection_spec("swarm")).validate(extra["s2p_swarm_connection"])
    assert result.error_messages == []
    assert result.validated_parameters["tls"] is False


def test_renderer_skips_prohibited_variables_and_validation_reports_them(tmp_path):
    ctype = {"inputs": {"fields": [{"id": "x", "type": "string"}]},
             "injectors": {"env": {"ANSIBLE_CONFIG": "{{ x }}", "PATH": "{{ x }}", "OK_VAR": "{{ x }}"}}}
    env = awx_helpers.inject_credential(ctype, {"x": "v"}, tmp_path)[0]
    assert env == {"OK_VAR": "v"}
    problems = awx_helpers.validate_credential_type(ctype)
    assert any("ANSIBLE_CONFIG" in p for p in problems) and any("PATH" in p for p in problems)


def test_validation_catches_undefined_fields_and_bad_file_syntax():
    ctype = {"inputs": {"fields": [{"id": "a", "type": "string"}, {"id": "b", "type": "boolean", "secret": True}]},
             "injectors": {"file": {"template": "{{ a }}", "template.x": "{{ a }}"},
                           "env": {"V": "{{ nope }}", "W": "{{ tower.filename }}"}}}
    problems = awx_helpers.validate_credential_type(ctype)
    assert any("multi-file" in p for p in problems)
    assert any("nope" in p for p in problems)
    assert any("secret not allowed for boolean" in p for p in problems)


# ---- job templates and surveys, as awx_configure.yml renders them ----------------------

# Credential inputs in the environment of awx_configure.yml, as its documentation says.
CONFIGURE_ENV = {"S2P_AWX_VCENTER_HOST": "vc.example", "S2P_AWX_VCENTER_PASSWORD": "pw-vc",
                 "S2P_AWX_DOCKER_TLS": "true", "S2P_AWX_TSIG_KEY_SECRET": ""}


@pytest.fixture(scope="module", params=["lab", "production"])
def rendered(request, tmp_path_factory):
    inventory = ROOT / "inventories" / request.param
    objects = awx_helpers.render_awx_objects(inventory, tmp_path_factory.mktemp("awx-" + request.param),
                                             env=CONFIGURE_ENV, controller="controller.yml")  # not the lab AWX's
    model = yaml.safe_load((inventory / "group_vars" / "all" / "model.yml").read_text())
    names = {kind: [item["name"] for item in model.get("s2p_" + kind, [])] for kind in MODEL_KINDS}
    return request.param, objects, names


def test_rendered_credential_types_are_the_data_without_our_keys(rendered):
    objects = rendered[1]
    expected = [{k: v for k, v in t.items() if k not in ("id", "backend")} for t in DATA["awx_credential_types"]]
    assert objects["credential_types"] == expected


def test_every_job_template_is_rendered_with_its_credentials(rendered):
    objects = rendered[1]
    by_name = {jt["name"]: jt for jt in objects["job_templates"]}
    assert list(by_name) == [jt["name"] for jt in TEMPLATES]
    for jt in TEMPLATES:
        want = sorted(TYPES[b]["name"] + DATA["awx_credential_name_suffix"] for b in jt["backends"])
        assert sorted(by_name[jt["name"]]["credentials"]) == want
        assert set(want) <= set(objects["credentials"])


def test_credential_inputs_come_from_the_environment_and_never_reach_the_output(rendered):
    """S2P_AWX_<TYPE>_<FIELD> fills the credentials' inputs (empty ones left out); the render
    names the inputs found and writes none of their values."""
    objects = rendered[1]
    assert objects["credential_inputs_given"] == {
        "S2P vCenter": ["host", "password"], "S2P LDAP bind": [], "S2P Vault AppRole": [], "S2P TSIG key": [],
        "S2P ACME directory": [], "S2P Docker TLS": ["tls"]}
    assert "pw-vc" not in json.dumps(objects)


def test_survey_choices_are_the_models_names(rendered):
    inventory, objects, names = rendered
    by_name = {jt["name"]: jt for jt in objects["job_templates"]}
    checked = 0
    for jt in TEMPLATES:
        spec = {e["variable"]: e for e in (by_name[jt["name"]]["survey_spec"] or {}).get("spec", [])}
        for question in jt.get("survey", []):
            element = spec[question["variable"]]
            assert element["type"] in awx_helpers.SURVEY_TYPES
            source = question.get("choices_from")
            if source in MODEL_KINDS:
                assert element["choices"] == names[source], f"{inventory}: {jt['name']} {question['variable']}"
                checked += 1
            elif source == "backends":
                assert element["choices"] == list(BACKENDS)
    assert checked >= 10


def test_survey_defaults_are_accepted_by_awx(rendered):
    """Launching any template with its defaults passes AWX's survey validation, on both
    inventories (a default missing from a model would be refused)."""
    objects = rendered[1]
    asked = {"project_stack__default_image": "registry.example/s2p/app:1.0"}  # no default, must be typed
    for jt in objects["job_templates"]:
        spec = (jt["survey_spec"] or {}).get("spec", [])
        unanswered = [e["variable"] for e in spec if e["required"] and e["default"] == ""]
        assert set(unanswered) <= set(asked), f"{jt['name']}: required without a default: {unanswered}"
        if unanswered:
            with pytest.raises(ValueError, match="value missing"):
                awx_helpers.launch_extra_vars(jt)
        extra_vars = awx_helpers.launch_extra_vars(jt, asked)
        for element in spec:
            if element["required"]:
                assert element["variable"] in extra_vars


def test_playbooks_get_a_credential_for_every_backend_they_use():
    """The backends of a job template cover the module_defaults groups of its playbook (and of
    the playbooks it imports). Playbooks not written yet are checked by the integration test."""
    def groups(path, seen):
        if path in seen or not path.exists():
            return set()
        seen.add(path)
        found = set()
        for play in yaml.safe_load(path.read_text()) or []:
            for key in (play.get("module_defaults") or {}):
                if key.startswith("group/esa.s2p."):
                    found.add(key.rsplit(".", 1)[1])
            if "ansible.builtin.import_playbook" in play:
                found |= groups(path.parent / play["ansible.builtin.import_playbook"], seen)
        return found

    for jt in TEMPLATES:
        used = groups(ROOT / jt["playbook"], set())
        assert used <= set(jt["backends"]), f"{jt['name']}: {sorted(used - set(jt['backends']))} without credential"


# ---- AWX survey validation (the port in awx_helpers) -----------------------------------

def test_survey_validation_mirrors_awx():
    integer = {"variable": "d", "type": "integer", "required": True, "min": 1, "max": 365}
    assert awx_helpers.survey_element_errors(integer, {"d": 30}) == []
    assert awx_helpers.survey_element_errors(integer, {"d": 0})
    assert awx_helpers.survey_element_errors(integer, {"d": "30"})
    assert awx_helpers.survey_element_errors(integer, {}) == ["'d' value missing"]
    multi = {"variable": "p", "type": "multiselect", "required": False, "choices": ["a", "b"], "default": "a\nb"}
    assert awx_helpers.survey_element_errors(multi, {"p": ["a"]}) == []
    assert awx_helpers.survey_element_errors(multi, {"p": ["c"]})
    assert awx_helpers.survey_element_errors(multi, {"p": "a"}) == ["'p' value is expected to be a list."]
    choice = {"variable": "c", "type": "multiplechoice", "required": True, "choices": "x\ny"}
    assert awx_helpers.survey_element_errors(choice, {"c": "y"}) == []
    assert awx_helpers.survey_element_errors(choice, {"c": "z"})
    text = {"variable": "t", "type": "text", "required": True, "min": 2, "max": 4}
    assert awx_helpers.survey_element_errors(text, {"t": "toolong"})


def test_launch_with_defaults_and_api_launch_differ_for_multiselect():
    jt = {"name": "x", "extra_vars": {"fixed": 1}, "survey_enabled": True, "survey_spec": {"spec": [
        {"variable": "p", "type": "multiselect", "required": False, "choices": ["a", "b"], "default": "a\nb"},
        {"variable": "s", "type": "multiselect", "required": False, "choices": ["a"], "default": ""},
        {"variable": "n", "type": "integer", "required": True, "default": 3, "min": 1, "max": 5}]}}
    assert awx_helpers.launch_extra_vars(jt) == {"fixed": 1, "p": ["a", "b"], "n": 3}
    assert awx_helpers.awx_survey_defaults(jt) == {"n": 3}
    jt["survey_spec"]["spec"][2]["default"] = 9
    with pytest.raises(ValueError, match="too large"):
        awx_helpers.launch_extra_vars(jt)
