"""The commands of the documentation, run as written (issue 15: the command of
docs/project_environments.md failed against inventories/lab, and onboarding had no recipe).

Every document with blocks marked `<!-- runnable -->` (tests/integration/doc_blocks.py) is run
block by block, in order, each command through a shell from the repository's root, as an
engineer would paste it. Two things differ, so that the run never touches the lab model's own
objects (other tests and `make run` use them): `inventories/lab` is a copy whose model holds only
the projects and stations the document names (renamed `<prefix>-<name>`, address blocks moved
as site_helpers does) plus the projects a `runnable: append to s2p_projects` block adds; and
those names are renamed in the commands too. After a document's sections, its checks read the
backends with their own clients; at the end nothing named with the prefix may be left."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml
from conftest import LAB_DIR, ROOT, VENV_BIN
from doc_blocks import SHELL, blocks, documents
from identity_helpers import can_bind, kv_read
from projenv_helpers import write_inventory
from site_helpers import LAB_MODEL, _shifts, cleanup_checked, leftovers
from vsphere_helpers import Vcsim, endpoint_with_password


RUNNABLE_DOCS = [path for path in documents() if any(b.mark == "runnable" for b in blocks(path))]


def _doc_model(prefix: str, runnable: list) -> tuple[dict, dict]:
    """The model of the document's run, and {name in the document: name in the run}."""
    model = yaml.safe_load(LAB_MODEL.read_text())
    text = "\n".join(b.body for b in runnable if b.lang in SHELL)

    def named(name: str) -> bool:
        return bool(re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", text))

    shift, station_shift = _shifts()
    projects = [p for p in model["s2p_projects"] if named(p["name"])]
    for project in projects:
        project["address_block"] += shift
    stations = [s for s in model["s2p_stations"] if named(s["name"])]
    for station in stations:
        station["address_block"] += station_shift
    for block in runnable:
        if block.lang == "yaml":  # a new project of the document: its own block is free in the lab
            projects += yaml.safe_load(block.body)
    renamed = {}
    for item in projects + stations:
        renamed[item["name"]] = item["name"] = f"{prefix}-{item['name']}"
    model.update(s2p_projects=projects, s2p_stations=stations)
    return model, renamed


def _localized(command: str, inventory, renamed: dict) -> str:
    for name, new in sorted(renamed.items(), key=lambda kv: -len(kv[0])):
        command = re.sub(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", new, command)
    return command.replace("inventories/lab", str(inventory))


class DocRun:
    """The outputs of a document's commands, by section, for its checks."""

    def __init__(self):
        self.outputs: dict[str, list[str]] = {}

    def all(self) -> str:
        return "\n".join(out for outs in self.outputs.values() for out in outs)


def _check_onboarding(lab: dict, section: str, run: DocRun, renamed: dict) -> None:
    project = renamed["lunar"]
    if section.startswith("4."):
        check_run, dig = run.outputs[section]
        assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", check_run), check_run[-3000:]
        assert len(re.findall(r"^10\.13\.11\.\d+$", dig, re.M)) >= 2, dig  # web (round robin) and the VM
        vcsim = Vcsim(endpoint_with_password(lab))
        try:
            vms = sorted(vm.name for vm in vcsim.vms(f"-{project}-"))
        finally:
            vcsim.close()
        assert vms == [f"esoc-{project}-preope-app01", f"esrin-{project}-ire-app01", f"esrin-{project}-preope-app01"]
        for env in ("ire", "preope"):
            password = kv_read(lab, f"pd/{project}/{env}/ldap-bind")["data"]["password"]
            assert can_bind(lab, f"uid={project}-{env},ou=services,dc=s2p,dc=esa,dc=int", password)
            assert password not in run.all(), "a service account's password was printed"
            assert kv_read(lab, f"pd/{project}/{env}/tls"), f"no certificate of {project} {env} in Vault"
            assert kv_read(lab, f"pd/{project}/{env}/db-password"), "the stack did not generate its secret"
        services = leftovers(lab, project).get("swarm", [])
        assert {f"{project}-{env}_{svc}" for env in ("ire", "preope") for svc in ("web", "api")} <= set(services)
    if section.startswith("5."):
        left = leftovers(lab, project)  # its VMs' emptied folders too
        assert left == {}, f"decommission.yml left objects of the project: {left}"


def _check_project_environments(lab: dict, section: str, run: DocRun, renamed: dict) -> None:
    project = renamed["neocc"]
    if section.startswith("project_environment.yml"):
        build, check, _absent = run.outputs[section]
        # the stack took the inventory's stacks__* image, DNS the model's addresses (both failed before)
        assert re.search(r"^\s*-? ?'?dns +[1-9]", build, re.M), build[-3000:]
        assert re.search(r"^\s*-? ?'?swarm +[1-9]", build, re.M), build[-3000:]
        assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", check), check[-3000:]
        assert leftovers(lab, f"{project}-ire") == {}, "state=absent left objects of the unit"


CHECKS = {"onboarding.md": _check_onboarding, "project_environments.md": _check_project_environments}


@pytest.mark.parametrize("doc", RUNNABLE_DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_runnable_blocks_of_the_document_run_as_written(lab, tmp_path, prefix, doc):
    runnable = [b for b in blocks(doc) if b.mark == "runnable"]
    model, renamed = _doc_model(prefix, runnable)
    inventory = write_inventory(tmp_path, model=model)
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               S2P_LAB_DIR=str(LAB_DIR), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    check = CHECKS.get(doc.name, lambda *args: None)
    run = DocRun()
    try:
        for block in runnable:
            for command in block.commands() if block.lang in SHELL else []:
                line = _localized(command, inventory, renamed)
                proc = subprocess.run(line, shell=True, cwd=ROOT, env=env, capture_output=True, text=True,
                                      timeout=900, check=False)
                output = proc.stdout + proc.stderr
                assert proc.returncode == 0, f"{block.where}: `{command}` failed ({proc.returncode}):\n{output[-4000:]}"
                run.outputs.setdefault(block.section, []).append(output)
            check(lab, block.section, run, renamed)
    finally:
        cleanup_checked(lab, prefix)
