"""Pure logic of esa.s2p.vault_kv_folder: only folders of project environments, the whole batch
checked before Vault is contacted."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.vault import kv_folder as kvf
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError


def test_folders_of_project_environments_are_accepted():
    assert kvf.validate(["pd/neocc/ire2", "sd/dish/ope"], "s2p") == ["pd/neocc/ire2", "sd/dish/ope"]


@pytest.mark.parametrize("folder, words", [
    ("pd/neocc", "'pd/neocc' is not the folder of a project environment (allowed: <segment>/<project>/<env>"),
    ("pd", "'pd' is not the folder of a project environment"),
    ("", "'' is not the folder of a project environment"),
    ("pd/neocc/ire/tls", "'pd/neocc/ire/tls' is not the folder of a project environment"),
    ("pd/../ire", "(pd/../ire): project: '..' is not a valid project name"),
    ("pd/neocc/", "(pd/neocc/): env: '' is not a valid environment name"),
    ("PD/neocc/ire", "(PD/neocc/ire): segment: 'PD' is not a valid segment name"),
])
def test_anything_else_is_refused(folder, words):
    with pytest.raises(ValidationError) as err:
        kvf.validate(["sd/dish/ope", folder], "s2p")
    assert "folders[1]" in str(err.value) and words in str(err.value)
    assert "nothing was changed" in str(err.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as err:
        kvf.validate(["pd/A/ire", "pd/neocc/ire", "pd/neocc/ire"], "bad mount")
    assert len(err.value.errors) == 3
    assert err.value.errors[0].startswith("mount: 'bad mount' is not a valid Vault mount name")
    assert "folders[2]: pd/neocc/ire is already folders[1]" in err.value.errors[2]
