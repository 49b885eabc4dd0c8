"""Plans are computed in Python (filters over the model), not in role tasks (STYLE.md rule 9):
every task file of every role and every playbook is read, and the test fails on
(a) a template rendered to data and parsed back (lookup('template', ...) | from_yaml, or from_json),
(b) a value whose Jinja is longer than MAX_JINJA characters (white space folded), listing file,
task and length. Templates that render a config file or a human summary stay templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted(ROOT.glob("roles/*/tasks/*.yml")) + sorted(ROOT.glob("playbooks/*.yml"))
MAX_JINJA = 120
# Keys whose plain string is a Jinja expression without {{ }}.
BARE = {"when", "that", "changed_when", "failed_when", "until"}
BLOCK = re.compile(r"\{\{(.*?)\}\}|\{%-?(.*?)-?%\}", re.S)
TEMPLATE_LOOKUP = re.compile(r"""(lookup|query|q)\(\s*['"](ansible\.builtin\.)?template['"]""")
PARSE_BACK = re.compile(r"\bfrom_(yaml|yaml_all|json)\b")
TASK_LISTS = {"tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"}


class _Loader(yaml.SafeLoader):
    """Reads Ansible YAML: its tags (!unsafe, !vault) are kept as plain strings."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def jinja_size(text: str, bare: bool = False) -> int:
    """Characters of Jinja in a value: the inside of every {{ }} and {% %}, white space folded;
    for a bare condition (when, that, ...) the whole expression."""
    if "{{" in text or "{%" in text:
        return sum(len(" ".join((expr or stmt).split())) for expr, stmt in BLOCK.findall(text))
    return len(" ".join(text.split())) if bare else 0


def values(node, where: str = "", key: str = "", parent: str = ""):
    """(task or play name, key path, text, bare) of every string in a playbook or task file."""
    if isinstance(node, dict):
        if isinstance(node.get("name"), str) and (parent in TASK_LISTS or parent == "" or parent.isdigit()):
            where = node["name"]
        for k, v in node.items():
            yield from values(v, where, f"{key}.{k}" if key else str(k), str(k))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from values(item, where, f"{key}[{index}]", parent if parent in BARE else str(parent))
    elif isinstance(node, str):
        yield where, key, node, parent in BARE


def findings(path: Path) -> tuple[list[str], list[str]]:
    """(templates parsed back, values over the limit) of one file, as readable lines."""
    parsed, long = [], []
    rel = path.relative_to(ROOT)
    for where, key, text, bare in values(yaml.load(path.read_text(), Loader=_Loader)):
        if TEMPLATE_LOOKUP.search(text) and PARSE_BACK.search(text):
            line = f"{rel}: task {where!r}: {key} renders a template and parses it back as data"
            if line not in parsed:
                parsed.append(line)
        size = jinja_size(text, bare)
        if size > MAX_JINJA:
            line = f"{rel}: task {where!r}: {key} has {size} characters of Jinja (at most {MAX_JINJA})"
            if line not in long:
                long.append(line)
    return parsed, long


def test_every_task_file_and_playbook_is_read():
    assert len(FILES) > 30
    assert ROOT / "playbooks" / "site.yml" in FILES
    assert ROOT / "roles" / "project_environment" / "tasks" / "main.yml" in FILES


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_is_parsed_back_as_data(path):
    parsed, _long = findings(path)
    assert not parsed, "plans are computed by filters over s2p_model (plugins/filter/plans.py):\n" + "\n".join(parsed)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_value_carries_more_than_a_short_jinja_expression(path):
    _parsed, long = findings(path)
    assert not long, ("move the logic into a filter (plugins/filter/, module_utils/model/) or, for a human "
                      "summary, a template:\n" + "\n".join(long))


def test_the_checks_see_what_they_look_for(tmp_path):
    """Neither rule is vacuous: both find a plan template read back and a long expression, with
    the task's name, also in a bare condition and in a play's vars."""
    sample = tmp_path / "sample.yml"
    sample.write_text(yaml.safe_dump([{
        "name": "A play", "hosts": "localhost",
        "vars": {"long": "{{ " + " | ".join(["x"] * 40) + " }}"},
        "tasks": [
            {"name": "Plan", "ansible.builtin.set_fact": {
                "plan": "{{ lookup('ansible.builtin.template', 'plan.yml.j2') | from_yaml }}"}},
            {"name": "Cond", "ansible.builtin.debug": {"msg": "hi"}, "when": ["a " + "and b " * 30, "short"]},
            {"name": "Fine", "ansible.builtin.debug": {
                "msg": "{{ lookup('ansible.builtin.template', 'summary.j2') }}"}},
        ]}]))
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        parsed, long = findings(sample)
    finally:
        ROOT = saved
    assert parsed == ["sample.yml: task 'Plan': [0].tasks[0].ansible.builtin.set_fact.plan renders a template and "
                      "parses it back as data"]
    assert sorted(line.split(":")[1] for line in long) == [" task 'A play'", " task 'Cond'"]
    assert any("vars.long has 157 characters" in line for line in long)
    assert any("task 'Cond'" in line and "when[0]" in line for line in long)
    assert jinja_size("plain text") == 0 and jinja_size("{{ a }} and {{ b }}") == 2
    assert jinja_size("a and  b", bare=True) == 7
