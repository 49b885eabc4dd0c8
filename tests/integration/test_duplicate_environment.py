"""playbooks/duplicate_environment.yml: a copy of an environment of a project under a new name,
with its own names, new secrets (never the source's values) and its own stack, the source left as
it was (checked through ldap3, hvac, dnspython and the docker SDK); bad names and existing
environments are refused before anything is touched; the copy is torn down through
project_environment.yml with state=absent."""

from __future__ import annotations

import pytest
from identity_helpers import can_bind, kv_read
from projenv_helpers import (PLAYBOOKS, addresses, clean_all, count, of_unit, picture, stack_vars,
                             without_unit, write_inventory)


@pytest.fixture
def model(tmp_path, lab, prefix):
    """Project <prefix>a with the environments ire and preope."""
    a = f"{prefix}a"
    projects = [{"name": a, "segment": "pd", "services": ["web"], "vms": [{"role": "app"}],
                 "ldap_groups": [{"name": "developers", "members": ["jdoe"]}],
                 "environments": {"ire": {"sites": ["esrin"]}, "preope": {"sites": ["esrin"]}}}]
    ips = addresses([f"esrin-{a}-ire-app01", f"esrin-{a}-ire2-app01"])
    yield write_inventory(tmp_path, projects), a, dict(stack_vars(lab), project_environment__addresses=ips)
    clean_all(lab, prefix)


@pytest.fixture
def source(model, run_playbook):
    """The model with <prefix>a ire built."""
    inventory, a, extravars = model
    built = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory,
                         extravars=dict(extravars, project=a, environment_name="ire"))
    assert built.rc == 0, built.stdout[-4000:]
    return model


def test_copy_has_its_own_names_secrets_and_stack_and_is_torn_down(lab, run_playbook, prefix, source):
    inventory, a, extravars = source
    copy = dict(extravars, project=a, from_env="ire", to_env="ire2")
    before = picture(lab, prefix)
    made = run_playbook(PLAYBOOKS / "duplicate_environment.yml", inventory=inventory, extravars=copy)
    assert made.rc == 0 and made.changed > 0, made.stdout[-4000:]
    after = picture(lab, prefix)
    assert of_unit(after, a, "ire") == of_unit(before, a, "ire")  # the source is untouched

    new = of_unit(after, a, "ire2")
    assert f"uid={a}-ire2,ou=services,dc=s2p,dc=esa,dc=int" in new["ldap"]
    assert sorted(new["vault_kv"]) == [f"pd/{a}/ire2/ldap-bind", f"pd/{a}/ire2/tls"]
    assert list(new["vault_policies"]) == [f"s2p-{a}-ire2"] and list(new["vault_approles"]) == [f"s2p-{a}-ire2"]
    assert f"pd/{a}/ire2/" in new["vault_policies"][f"s2p-{a}-ire2"]
    assert (f"web.{a}.ire2.s2p.esa.int", "A") in new["dns"] and (f"esrin-{a}-ire2-app01.s2p.esa.int", "A") in new["dns"]
    assert list(new["swarm"]["services"]) == [f"{a}-ire2_web"]
    # new secrets: another password (that binds), another certificate
    source_kv, copy_kv = kv_read(lab, f"pd/{a}/ire/ldap-bind"), kv_read(lab, f"pd/{a}/ire2/ldap-bind")
    assert copy_kv["data"]["password"] != source_kv["data"]["password"]
    assert can_bind(lab, f"uid={a}-ire2,ou=services,dc=s2p,dc=esa,dc=int", copy_kv["data"]["password"])
    assert kv_read(lab, f"pd/{a}/ire2/tls")["data"] != kv_read(lab, f"pd/{a}/ire/tls")["data"]

    again = run_playbook(PLAYBOOKS / "duplicate_environment.yml", inventory=inventory, extravars=copy)
    assert again.rc != 0 and again.changed == 0
    assert f"{a} ire2 already exists" in again.stdout and "nothing was copied" in again.stdout
    assert picture(lab, prefix) == after

    converge = dict(extravars, project=a, environment_name="ire2", copy_of="ire")
    rerun = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=converge)
    assert rerun.rc == 0 and rerun.changed == 0, rerun.stdout[-4000:]

    gone = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory,
                        extravars=dict(converge, state="absent"))
    assert gone.rc == 0 and gone.changed > 0, gone.stdout[-4000:]
    final = picture(lab, prefix)
    assert count(of_unit(final, a, "ire2")) == 0
    assert final == without_unit(after, a, "ire2")


@pytest.mark.parametrize("to_env, words", [
    ("IRE 2", "'IRE 2' is not a valid environment name"),
    ("campaign2024", "'campaign2024' is not a valid environment name"),
    ("preope", "the target is an environment the model declares, it is never overwritten"),
])
def test_bad_or_existing_target_is_refused_before_anything(lab, run_playbook, prefix, model, to_env, words):
    inventory, a, extravars = model
    before = picture(lab, prefix)
    run = run_playbook(PLAYBOOKS / "duplicate_environment.yml", inventory=inventory,
                       extravars=dict(extravars, project=a, from_env="ire", to_env=to_env))
    assert run.rc != 0 and run.changed == 0
    assert words in run.stdout, run.stdout[-3000:]
    assert picture(lab, prefix) == before
