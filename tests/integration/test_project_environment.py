"""Role esa.s2p.project_environment through playbooks/project_environment.yml on a model of two
prefixed projects: after the model-wide roles (service_account, dns, certificate, project_stack, as
site.yml runs them) the unit's playbook changes nothing; state=absent removes every object of the
unit and nothing else (other project, other environment of the same project: checked through
ldap3, hvac, dnspython and the docker SDK before and after); check mode predicts, reruns change
nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest
import yaml
from conftest import LAB_DIR, LAB_INVENTORY, ROOT, VENV_BIN
from identity_helpers import kv_read, vault_root
from projenv_helpers import (PLAYBOOKS, addresses, clean_all, count, of_unit, picture, stack_vars,
                             without_unit, write_inventory)

BACKENDS = ("ldap", "vault", "dns", "acme", "swarm")
MODULE_DEFAULTS = {f"group/esa.s2p.{b}": f"{{{{ s2p_{b}_connection }}}}" for b in BACKENDS}


def counts(run) -> dict:
    found = run.results("Count the changes per backend")
    assert len(found) == 1, run.stdout[-3000:]
    return found[0]["ansible_facts"]["project_environment__counts"]


@pytest.fixture
def unit_model(tmp_path, lab, prefix, secret_marker):
    a, b = f"{prefix}a", f"{prefix}b"
    projects = [
        {"name": a, "segment": "pd", "services": ["web"], "secrets": ["db-password"],
         "vms": [{"role": "app"}], "ldap_groups": [{"name": "developers", "members": ["jdoe"]}],
         "environments": {"ire": {"sites": ["esrin"]}, "preope": {"sites": ["esrin"]}}},
        {"name": b, "segment": "sd", "services": ["web"], "secrets": ["db-password"], "vms": [{"role": "app"}],
         "ldap_groups": ["developers"], "environments": {"ire": {"sites": ["esoc"]}}},
    ]
    ips = addresses([f"esrin-{a}-ire-app01", f"esrin-{a}-preope-app01", f"esoc-{b}-ire-app01"])
    extravars = dict(stack_vars(lab), project_stack__secret_values={"db-password": secret_marker})
    yield write_inventory(tmp_path, projects), a, b, ips, extravars
    clean_all(lab, prefix)


def model_wide_roles(units: list[tuple[str, str]]) -> list:
    """The model-wide roles as site.yml composes them (one play), plus one project_stack per unit."""
    tasks = [{"name": "Stack", "ansible.builtin.include_role": {"name": "esa.s2p.project_stack"},
              "vars": {"project_stack__project": p, "project_stack__environment": e}} for p, e in units]
    return [{"name": "model-wide roles", "hosts": "localhost", "gather_facts": False,
             "module_defaults": MODULE_DEFAULTS,
             "roles": ["esa.s2p.model", "esa.s2p.service_account", "esa.s2p.dns", "esa.s2p.certificate"],
             "tasks": tasks}]


def test_site_roles_then_unit_changes_nothing_and_absent_removes_only_the_unit(
        lab, run_playbook, prefix, unit_model):
    inventory, a, b, ips, extravars = unit_model
    site = run_playbook(model_wide_roles([(a, "ire"), (a, "preope"), (b, "ire")]), inventory=inventory,
                        extravars=dict(extravars, dns__addresses=ips))
    assert site.rc == 0, site.stdout[-4000:]
    unit = dict(extravars, project=a, environment_name="ire", project_environment__addresses=ips)

    same = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=unit)
    assert same.rc == 0 and same.changed == 0, same.stdout[-4000:]

    before = picture(lab, prefix)
    mine = of_unit(before, a, "ire")
    # the unit really has objects in every backend, and so do the others
    assert mine["ldap"] and mine["vault_kv"] and mine["vault_policies"] and mine["vault_approles"]
    assert len(mine["dns"]) >= 5 and mine["swarm"]["services"] and mine["swarm"]["secrets"]
    assert of_unit(before, a, "preope")["swarm"]["services"] and of_unit(before, b, "ire")["vault_kv"]
    assert sorted(mine["vault_kv"]) == [f"pd/{a}/ire/ldap-bind", f"pd/{a}/ire/tls"]

    # an application secret in a sub-folder of the unit's KV folder goes too
    vault_root(lab).secrets.kv.v2.create_or_update_secret(
        path=f"pd/{a}/ire/app/db-password", secret={"value": "x"}, mount_point="s2p")
    before = picture(lab, prefix)
    absent = dict(unit, state="absent")
    predicted = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=absent,
                             check=True)
    assert predicted.rc == 0 and predicted.changed > 0, predicted.stdout[-4000:]
    assert picture(lab, prefix) == before  # check mode touched nothing

    removed = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=absent, diff=True)
    assert removed.rc == 0 and removed.changed > 0, removed.stdout[-4000:]
    assert counts(removed) == counts(predicted)
    after = picture(lab, prefix)
    left = of_unit(after, a, "ire")
    assert count(left) == 0, left
    # the project's groups stay (shared with preope), and everything else is exactly as before
    assert [dn for dn in after["ldap"] if dn.startswith(f"cn={a}-developers")]
    expected = without_unit(before, a, "ire")
    for backend in after:
        assert after[backend] == expected[backend], (backend, set(after[backend]) ^ set(expected[backend]))
    assert counts(removed)["vault"] == 4  # policy with AppRole, the secrets ldap-bind, tls and app/db-password
    again = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=absent)
    assert again.rc == 0 and again.changed == 0, again.stdout[-4000:]


def test_playbook_first_run_check_mode_rerun_and_diff(lab, run_playbook, prefix, unit_model, secret_marker):
    inventory, a, b, ips, extravars = unit_model
    unit = dict(extravars, project=b, environment_name="ire", project_environment__addresses=ips)
    predicted = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=unit, check=True)
    assert predicted.rc == 0, predicted.stdout[-4000:]
    assert count(picture(lab, prefix)) == 0  # check mode created nothing

    first = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=unit, diff=True)
    assert first.rc == 0 and first.changed > 0, first.stdout[-4000:]
    assert counts(first) == counts(predicted)
    assert all(n > 0 for n in counts(first).values()), counts(first)
    made = of_unit(picture(lab, prefix), b, "ire")
    assert f"uid={b}-ire,ou=services,dc=s2p,dc=esa,dc=int" in made["ldap"]
    assert (f"web.{b}.ire.s2p.esa.int", "A") in made["dns"]
    assert f"{b}-ire_web" in made["swarm"]["services"]
    # no secret in any output of the diff run: the stack's secret value, the account's password
    password = kv_read(lab, f"sd/{b}/ire/ldap-bind")["data"]["password"]
    for run in (predicted, first):
        text = run.stdout + json.dumps(run.events)
        assert secret_marker not in text and password not in text

    rerun = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=unit)
    assert rerun.rc == 0 and rerun.changed == 0, rerun.stdout[-4000:]
    assert set(counts(rerun).values()) == {0}


@pytest.mark.smoke
def test_unknown_unit_is_refused_before_anything(run_playbook, unit_model):
    inventory, a, _b, _ips, extravars = unit_model
    run = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory,
                       extravars=dict(extravars, project=a, environment_name="ope"))
    assert run.rc != 0 and run.changed == 0
    assert f"no environment 'ope' of project '{a}' in the model" in run.stdout
    assert "environments of " + a + ": ire, preope" in run.stdout


TEST_PREFIX = re.compile(r"t[0-9a-f]{6}")


def lab_units(pic: dict, pairs: list[tuple[str, str]]) -> dict:
    """The objects of the lab model's units in a picture, without any test's (prefixed) object."""
    out = {}
    for project, env in pairs:
        for backend, objects in of_unit(pic, project, env).items():
            if backend == "swarm":
                for kind, items in objects.items():
                    kept = out.setdefault(backend, {}).setdefault(kind, {})
                    kept.update((k, items[k] if isinstance(items, dict) else None) for k in items
                                if not TEST_PREFIX.search(k))
            else:
                out.setdefault(backend, {}).update(
                    (k, v) for k, v in objects.items()
                    if not TEST_PREFIX.search(" ".join(k) + " " + " ".join(v) if backend == "dns" else k))
    return out


def test_every_unit_of_the_lab_model_in_check_mode(lab, tmp_path):
    """Issue 15: project_environment.yml failed for every project without ldap_groups (reentry,
    fragdb, swe-kp, swe-hapi). The playbook itself, in check mode, for EVERY project and
    environment of the lab model, in ONE ansible-playbook run: the playbook imported once per
    unit with project and environment_name as its variables, on one host, the units one after
    the other (one host per unit costs three times the CPU). ansible-playbook runs directly, not
    through ansible-runner, whose events for 31 units cost more CPU than the run itself. Every
    unit must succeed, and the lab's objects of those units are exactly as before (check mode
    touched nothing)."""
    model = yaml.safe_load((LAB_INVENTORY / "group_vars" / "all" / "model.yml").read_text())
    pairs = [(p["name"], env) for p in model["s2p_projects"] for env in p["environments"]]
    assert len(pairs) >= 30 and {"reentry", "fragdb", "swe-kp", "swe-hapi"} <= {p for p, _e in pairs}
    playbook = tmp_path / "every_unit.yml"
    playbook.write_text(yaml.safe_dump([{"import_playbook": str(PLAYBOOKS / "project_environment.yml"),
                                         "vars": {"project": p, "environment_name": e}} for p, e in pairs]))
    extravars = {"project_stack__default_image": lab["swarm_sites"]["images"]["busybox"],
                 "project_environment__addresses": "{{ s2p_model.addresses }}"}
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", S2P_LAB_DIR=str(LAB_DIR),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
               PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    before = lab_units(picture(lab, ""), pairs)
    started = time.monotonic()
    run = subprocess.run([str(VENV_BIN / "ansible-playbook"), "--check", "-i", str(LAB_INVENTORY), str(playbook),
                          "-e", json.dumps(extravars)], env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert re.search(r"^localhost\s+: ok=\d+ .* failed=0 ", run.stdout, re.M), run.stdout[-3000:]
    planned = re.findall(r"^TASK \[esa\.s2p\.project_environment : Plan the objects of (\S+) (\S+)\]", run.stdout, re.M)
    assert planned == pairs, planned
    counted = re.findall(r"^TASK \[esa\.s2p\.project_environment : Count the changes per backend\]", run.stdout, re.M)
    assert len(counted) == len(pairs)
    assert lab_units(picture(lab, ""), pairs) == before  # check mode touched nothing
    print(f"{len(pairs)} units of the lab model in check mode: {seconds:.1f} s")
