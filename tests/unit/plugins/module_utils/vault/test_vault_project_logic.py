"""Pure logic of esa.s2p.vault_project: durations, validation, policy text, role comparison."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.vault import project as vp
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError

GOOD = {"project": "neocc", "environment": "ope", "segment": "pd", "secret_id_ttl": "24h",
        "secret_id_num_uses": 10, "token_ttl": "1h", "token_max_ttl": "4h"}


@pytest.mark.parametrize("value, expected", [(3600, 3600), ("90m", 5400), ("24h", 86400), ("7d", 604800),
                                             ("1.5h", None), ("-1", None), (True, None), ("", None)])
def test_seconds(value, expected):
    assert vp.seconds(value) == expected


def test_policy_reads_only_the_project_folder():
    item = vp.validate([GOOD], "s2p")[0]
    assert item["name"] == "s2p-neocc-ope" and item["folder"] == "pd/neocc/ope"
    assert 'path "s2p/data/pd/neocc/ope/*"' in item["policy"]
    assert '"update"' not in item["policy"] and '"create"' not in item["policy"]
    assert item["settings"] == {"token_policies": ["s2p-neocc-ope"], "bind_secret_id": True, "secret_id_ttl": 86400,
                                "secret_id_num_uses": 10, "token_ttl": 3600, "token_max_ttl": 14400}


def test_validation_reports_every_problem():
    with pytest.raises(ValidationError) as err:
        vp.validate([dict(GOOD, secret_id_num_uses=0), dict(GOOD, environment="Bad"),
                     dict(GOOD, secret_id_ttl="90d", token_ttl="5h"), GOOD], "s2p")
    text = "\n".join(err.value.errors)
    assert "projects[0] (s2p-neocc-ope).secret_id_num_uses: must be from 1 to 1000" in text
    assert "projects[1].env:" in text
    assert "projects[2] (s2p-neocc-ope).secret_id_ttl" in text and "token_ttl: longer than token_max_ttl" in text
    assert "projects[3] (s2p-neocc-ope): s2p-neocc-ope is already" in text


def test_role_differences():
    wanted = vp.validate([GOOD], "s2p")[0]["settings"]
    assert vp.role_differences(wanted, None) == list(vp.ROLE_FIELDS)
    same = dict(wanted, token_bound_cidrs=[], policies=["s2p-neocc-ope"])
    assert vp.role_differences(wanted, same) == []
    assert vp.role_differences(wanted, dict(same, secret_id_num_uses=0)) == ["secret_id_num_uses"]
