"""Every collection the shipped content refers to is declared.

The collection needs no other collection at run time (galaxy.yml `dependencies: {}`): its
roles, playbooks and the EXAMPLES of its plugins use only esa.s2p and ansible.builtin.  The
one exception is playbooks/awx_configure.yml, which an operator runs against AWX with the
awx.awx modules: what it uses is declared in awx/requirements.yml, and nothing more.
(molecule/ and bench/ are development tools: they use community.docker and the community
anchors from the `ansible` package and do not ship.)
"""

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ALWAYS = {"esa.s2p", "ansible.builtin", "ansible.legacy"}
AWX_PLAYBOOK = "playbooks/awx_configure.yml"
AWX_PLAYBOOKS = {AWX_PLAYBOOK, "playbooks/awx_launch.yml"}  # an operator's, not job templates
AWX_REQUIREMENTS = ROOT / "awx" / "requirements.yml"

FQCN = r"([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+"
# A module or action as a task key, or an action group in module_defaults (group/ns.coll.name).
KEY_RE = re.compile(r"^(?:group/)?" + FQCN + r"$")
# Filters, tests and lookups in Jinja: `| ns.coll.f`, map('ns.coll.f'), select(...), is ns.coll.t,
# lookup('ns.coll.l'), query(...), and `ansible.builtin.template`-style names in a module string.
JINJA_RE = re.compile(
    r"(?:\|\s*|\b(?:map|select|reject|lookup|query|q)\(\s*['\"]|\bis\s+(?:not\s+)?)" + FQCN + r"\b"
)


def _collections_in(data):
    found = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                match = KEY_RE.match(key)
                if match:
                    found.add(match.group(1))
            found |= _collections_in(value)
    elif isinstance(data, list):
        for item in data:
            found |= _collections_in(item)
    elif isinstance(data, str):
        found |= {match.group(1) for match in JINJA_RE.finditer(data)}
    return found


def _yaml_files():
    for pattern in ("playbooks/*.yml", "roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "roles/*/vars/*.yml",
                    "roles/*/defaults/*.yml"):
        yield from sorted(ROOT.glob(pattern))


def _examples():
    """(path, EXAMPLES text) of every plugin (Python DOCUMENTATION or YAML filter docs)."""
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets)
                    and isinstance(node.value, ast.Constant)):
                yield path, node.value.value
    for path in sorted((ROOT / "plugins").rglob("*.yml")):
        doc = yaml.safe_load(path.read_text())
        if isinstance(doc, dict) and isinstance(doc.get("EXAMPLES"), str):
            yield path, doc["EXAMPLES"]


def _declared_for_awx():
    requirements = yaml.safe_load(AWX_REQUIREMENTS.read_text())
    return {item["name"] if isinstance(item, dict) else item for item in requirements["collections"]}


def test_patterns_find_what_they_should():
    text = {
        "tasks": [{"community.general.nsupdate": {"records": "{{ x | ansible.utils.ipaddr }}"}},
                  {"module_defaults": {"group/awx.awx.controller": {}}},
                  {"ansible.builtin.debug": {"msg": "{{ l | map('community.general.dict_kv', 'uid') }}"}},
                  {"ansible.builtin.set_fact": {"a": "{{ lookup('community.hashi_vault.vault_kv2_get', 'x') }}",
                                                "b": "{{ v is ansible.utils.in_network }}",
                                                "c": "{{ 'neocc' | default('s2p.esa.int') }}"}}],
    }
    assert _collections_in(text) == {"community.general", "ansible.utils", "awx.awx", "ansible.builtin",
                                     "community.hashi_vault"}


@pytest.mark.parametrize("path", list(_yaml_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_roles_and_playbooks(path):
    rel = str(path.relative_to(ROOT))
    allowed = ALWAYS | (_declared_for_awx() if rel in AWX_PLAYBOOKS else set())
    used = _collections_in(yaml.safe_load(path.read_text()))
    assert used <= allowed, f"{rel} uses {sorted(used - allowed)}, which nothing declares"


def test_awx_requirements_declare_what_the_awx_playbook_uses():
    used = _collections_in(yaml.safe_load((ROOT / AWX_PLAYBOOK).read_text())) - ALWAYS
    assert used == _declared_for_awx()


@pytest.mark.parametrize(
    "path,examples", [pytest.param(path, text, id=str(path.relative_to(ROOT))) for path, text in _examples()]
)
def test_plugin_examples(path, examples):
    used = _collections_in(yaml.safe_load(examples))
    assert used <= ALWAYS, f"EXAMPLES of {path.relative_to(ROOT)} use {sorted(used - ALWAYS)}"
