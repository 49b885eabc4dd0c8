"""Run esa.s2p's AWX job templates the way AWX runs them, without an AWX.

Pure code (no server), shared by tests/unit/test_awx_*.py and tests/integration/test_awx_*.py:

- load_awx_data(): the data of awx/*.yml;
- render_awx_objects(): the objects playbooks/awx_configure.yml would send to AWX (its
  render-only mode), survey choices computed from an inventory's model;
- validate_credential_type(): AWX's checks of a credential type's inputs and injectors;
- inject_credential(): AWX's rendering of a credential type's injectors (env, file and
  extra_vars), after awx/main/models/credential CredentialType.inject_credential;
- survey_element_errors() / launch_extra_vars(): AWX's survey validation and the extra vars a
  launch sends when every question keeps its default (SurveyJobTemplateMixin).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tempfile
from copy import copy
from pathlib import Path

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

ROOT = Path(__file__).resolve().parents[2]
AWX_DIR = ROOT / "awx"
VENV_BIN = Path(sys.executable).parent

# awx/main/constants.py: variables a credential may never set (besides ANSIBLE_*).
ENV_BLOCKLIST = frozenset((
    "VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID",
    "INVENTORY_UPDATE_ID", "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES",
    "CALLBACK_QUEUE", "CALLBACK_CONNECTION", "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS",
    "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH",
))
ENV_NAME = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
FILE_KEY = re.compile(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$")
SURVEY_TYPES = ("text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect")


class _Loader(yaml.SafeLoader):
    """YAML loader that reads Ansible's `!unsafe` tag as the plain value it marks."""


def _unsafe(loader, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_constructor("!unsafe", _unsafe)


def load_awx_data() -> dict:
    """Every variable defined in awx/*.yml, as Ansible loads them (vars_files); awx/requirements.yml
    is awx_configure.yml's collection requirements, not variables."""
    data = {}
    for path in sorted(AWX_DIR.glob("*.yml")):
        if path.name == "requirements.yml":
            continue
        data.update(yaml.load(path.read_text(), Loader=_Loader) or {})
    return data


def render_awx_objects(inventory: Path, out_dir: Path, env: dict | None = None, controller: str | None = None) -> dict:
    """The objects awx_configure.yml would apply, computed against `inventory` (render-only mode);
    `env` adds environment variables (e.g. S2P_AWX_* credential inputs); `controller` names the
    file of awx/ holding the controller objects (default: the inventory's choice)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {}))
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / "awx_configure.yml"),
         "-e", f"awx_configure__render_dir={out_dir}",
         *(["-e", f"awx_controller_vars_file={controller}"] if controller else [])],
        env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"awx_configure.yml (render only) failed, rc={proc.returncode}:\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return json.loads((out_dir / "awx_objects.json").read_text())


# ---- credential types -------------------------------------------------------------------

def validate_credential_type(ctype: dict) -> list[str]:
    """Problems AWX would refuse the credential type for (CredentialTypeInputField and
    CredentialTypeInjectorField validation); [] when it is valid."""
    problems = []
    fields = ctype.get("inputs", {}).get("fields", [])
    ids = set()
    for field in fields:
        fid = field.get("id")
        if fid == "tower":
            problems.append('"tower" is a reserved field name')
        if fid in ids:
            problems.append(f"field IDs must be unique ({fid})")
        ids.add(fid)
        ftype = field.get("type", "string")
        if ftype not in ("string", "boolean"):
            problems.append(f"{fid}: type {ftype} is neither string nor boolean")
        if "default" in field and not isinstance(field["default"], {"string": str, "boolean": bool}.get(ftype, str)):
            problems.append(f"{fid}: default {field['default']!r} is not a {ftype}")
        for key in ("choices", "multiline", "format", "secret"):
            if key in field and ftype != "string":
                problems.append(f"{fid}: {key} not allowed for {ftype} type")
    for name in ctype.get("inputs", {}).get("required", []):
        if name not in ids:
            problems.append(f"required field {name} is not defined")

    injectors = ctype.get("injectors", {})
    for kind in injectors:
        if kind not in ("file", "env", "extra_vars"):
            problems.append(f"unknown injector {kind}")
    templates = list(injectors.get("file", {}))
    for key in templates:
        if not FILE_KEY.match(key):
            problems.append(f"file injector {key} is not template or template.<name>")
    for key, value in injectors.get("env", {}).items():
        if not ENV_NAME.match(key):
            problems.append(f"env injector {key} is not a valid variable name")
        if key.startswith("ANSIBLE_") or key in ENV_BLOCKLIST:
            problems.append(f"environment variable {key} is not allowed in credentials")
        if not value.isascii():
            problems.append(f"env injector {key} is not ASCII")

    # Every template must render with each field defined, as AWX checks with StrictUndefined.
    class _Exploding:
        def __str__(self):
            raise UndefinedError("Must define unnamed file injector in order to reference `tower.filename`.")

    class _Tower:
        def __init__(self):
            self.filename = _Exploding()

        def __str__(self):
            raise UndefinedError("Cannot directly reference reserved `tower` namespace container.")

    namespace = {fid: "EXAMPLE" for fid in ids}
    namespace["tower"] = _Tower()
    if "template" in templates:
        namespace["tower"].filename = "EXAMPLE_FILENAME"
        if len(templates) > 1:
            problems.append("Must use multi-file syntax when injecting multiple files")
    else:
        for key in templates:
            setattr(namespace["tower"].filename, key.split(".")[1], "EXAMPLE_FILENAME")
    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind, injector in injectors.items():
        for key, tmpl in _leaves(injector, kind):
            try:
                sandbox.from_string(tmpl).render(namespace)
            except (UndefinedError, SecurityError, TemplateSyntaxError) as exc:
                problems.append(f"{kind}.{key}: {exc}")
    return problems


def _leaves(node, path):
    """(dotted key, template) of every string in a (nested) injector."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, f"{path}[{index}]")
    else:
        yield path.split(".", 1)[-1], node


def inject_credential(ctype: dict, inputs: dict, private_data_dir: Path) -> tuple[dict, list[str]]:
    """Environment variables and ansible-playbook arguments of one credential, rendered as AWX
    renders them: files written to <private_data_dir>/env (mode 0600), extra vars to a YAML file
    there (mode 0400) passed as `-e @file`. Missing inputs stay undefined (render as ''), missing
    booleans are False, prohibited variables are left out."""
    env_dir = Path(private_data_dir) / "env"
    env_dir.mkdir(parents=True, exist_ok=True)

    class _Tower:
        pass

    tower = _Tower()
    namespace = {"tower": tower}
    for name, value in inputs.items():
        if isinstance(value, bool) or len(value):
            namespace[name] = value
    for field in ctype.get("inputs", {}).get("fields", []):
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
        if field.get("format") == "ssh_private_key" and field["id"] in namespace \
                and not namespace[field["id"]].endswith("\n"):
            namespace[field["id"]] += "\n"

    sandbox = ImmutableSandboxedEnvironment()
    injectors = ctype.get("injectors", {})
    for label, tmpl in injectors.get("file", {}).items():
        data = sandbox.from_string(tmpl).render(**namespace)
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." not in label:
            tower.filename = path
        else:
            if not hasattr(tower, "filename"):
                tower.filename = _Tower()
            setattr(tower.filename, label.split(".")[1], path)

    env = {}
    for name, tmpl in injectors.get("env", {}).items():
        if name.startswith("ANSIBLE_") or name in ENV_BLOCKLIST:
            continue
        env[name] = sandbox.from_string(tmpl).render(**namespace)

    def build(node):
        if isinstance(node, dict):
            return {build(k): build(v) for k, v in node.items()}
        if isinstance(node, list):
            return [build(x) for x in node]
        return sandbox.from_string(node).render(**namespace)

    args = []
    extra_vars = build(injectors.get("extra_vars", {}))
    if extra_vars:
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(yaml.safe_dump(extra_vars))
        os.chmod(path, stat.S_IRUSR)
        args.extend(["-e", f"@{path}"])
    return env, args


# ---- surveys ----------------------------------------------------------------------------

def _choice_list(element):
    choices = copy(element.get("choices", []))
    if isinstance(choices, str):
        choices = [c for c in choices.splitlines() if c.strip() != ""]
    return choices


def survey_element_errors(element: dict, data: dict) -> list[str]:
    """AWX's validation of one survey answer (SurveyJobTemplateMixin._survey_element_validation)."""
    var, kind = element["variable"], element["type"]
    if var not in data:
        return [f"'{var}' value missing"] if element.get("required") else []
    value = data[var]
    low = element.get("min") if element.get("min") not in ("", None) else None
    high = element.get("max") if element.get("max") not in ("", None) else None
    errors = []
    if kind in ("text", "textarea", "password"):
        if not isinstance(value, str):
            return [f"Value {value} for '{var}' expected to be a string."]
        if low is not None and len(value) < int(low):
            errors.append(f"'{var}' value {value} is too small (length is {len(value)} must be at least {low}).")
        if high is not None and len(value) > int(high):
            errors.append(f"'{var}' value {value} is too large (must be no more than {high}).")
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"Value {value} for '{var}' expected to be an integer."]
        if low is not None and value < int(low):
            errors.append(f"'{var}' value {value} is too small (must be at least {low}).")
        if high is not None and value > int(high):
            errors.append(f"'{var}' value {value} is too large (must be no more than {high}).")
    elif kind == "float":
        if not isinstance(value, (float, int)) or isinstance(value, bool):
            return [f"Value {value} for '{var}' expected to be a numeric type."]
    elif kind == "multiselect":
        if not isinstance(value, list):
            return [f"'{var}' value is expected to be a list."]
        errors += [f"Value {v} for '{var}' expected to be one of {_choice_list(element)}."
                   for v in value if v not in _choice_list(element)]
    elif kind == "multiplechoice":
        if value not in _choice_list(element):
            errors.append(f"Value {value} for '{var}' expected to be one of {_choice_list(element)}.")
    else:
        errors.append(f"'{var}': unknown survey type {kind}")
    return errors


def launch_extra_vars(job_template: dict, answers: dict | None = None) -> dict:
    """The extra vars of a launch in which every survey question keeps its default unless
    `answers` ({variable: value}) answers it: the launch form pre-fills each default (a
    multiselect's newline-separated default becomes the list of selected choices) and AWX
    validates the answers; the template's own extra_vars come first. Answers to questions the
    survey does not have are ignored. Raises ValueError with AWX's messages when an answer is
    refused or a required question has neither default nor answer."""
    extra_vars = dict(job_template.get("extra_vars") or {})
    if not job_template.get("survey_enabled"):
        return extra_vars
    given, answers, errors = dict(answers or {}), {}, []
    for element in job_template["survey_spec"]["spec"]:
        default = given.get(element["variable"], element.get("default"))
        if default in ("", None):
            if element.get("required"):
                errors.append(f"'{element['variable']}' value missing")
            continue
        if element["type"] == "multiselect" and isinstance(default, str):
            default = [c for c in default.splitlines() if c.strip() != ""]
        answer = {element["variable"]: default}
        errors += survey_element_errors(element, answer)
        answers.update(answer)
    if errors:
        raise ValueError(f"{job_template['name']}: " + "; ".join(errors))
    extra_vars.update(answers)
    return extra_vars


def awx_survey_defaults(job_template: dict) -> dict:
    """The survey defaults AWX adds by itself to a launch that sends no answers (an API launch):
    only the defaults that pass validation as stored, so a multiselect's string default is NOT
    applied there (docs/awx.md)."""
    out = {}
    for element in (job_template.get("survey_spec") or {}).get("spec", []):
        default = element.get("default")
        if default is not None and not survey_element_errors(element, {element["variable"]: default}):
            out[element["variable"]] = default
    return out


# ---- the lab as AWX credentials ---------------------------------------------------------

def _read(path: str) -> str:
    return Path(path).read_text().strip()


def lab_credential_inputs(lab: dict) -> dict:
    """{credential type id: inputs} of the lab's servers (endpoints.json and its files), as an
    AWX admin would type them into the credentials of awx/credential_types.yml."""
    ca = Path(lab["ca_file"]).read_text()
    return {
        "vcenter": {"host": lab["vcsim"]["hostname"], "port": str(lab["vcsim"]["port"]),
                    "username": lab["vcsim"]["username"], "password": _read(lab["vcsim"]["password_file"]), "ca": ca},
        "ldap": {"server_uri": lab["slapd"]["ldaps_uri"], "bind_dn": lab["slapd"]["admin_dn"],
                 "bind_pw": _read(lab["slapd"]["admin_password_file"]), "ca": ca},
        "vault": {"url": lab["openbao"]["url"], "role_id": _read(lab["openbao"]["automation_role_id_file"]),
                  "secret_id": _read(lab["openbao"]["automation_secret_id_file"]), "ca": ca},
        "tsig": {"server": lab["bind"]["server"], "port": str(lab["bind"]["port"]),
                 "key_name": lab["bind"]["tsig_key_name"], "key_secret": _read(lab["bind"]["tsig_secret_file"]),
                 "key_algorithm": lab["bind"]["tsig_algorithm"]},
        "acme": {"directory_url": lab["pebble"]["directory_url"], "ca": ca},
        # The lab's swarm managers listen on unix sockets: no TLS material.
        "docker": {"docker_host": lab["swarm_sites"]["docker_host"], "tls": False, "verify": False},
    }
