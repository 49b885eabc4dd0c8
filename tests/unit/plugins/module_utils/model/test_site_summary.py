"""The per-site summary of site.yml (module_utils/model/site_summary.py): counts from the model,
changes from the registered results, mapped to sites through the model's names."""

from __future__ import annotations

from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model
from ansible_collections.esa.s2p.plugins.module_utils.model.site_summary import site_summary


def _model(model):
    model["s2p_projects"][0]["address_block"] = 7
    model["s2p_stations"][0]["address_block"] = 200
    return build_model(model)


def test_counts_per_site_and_nothing_changed(model):
    lines = site_summary(_model(model), {})
    assert lines[0] == "esec   0 VMs, 0 DNS names, 0 certificates, 0 stacks, 0 accounts"
    # esoc: neocc ope (3 VMs, names + PTRs, web/api), dish ope (no VMs, no services: no certificate)
    assert lines[1] == "esoc   3 VMs, 8 DNS names, 1 certificates, 2 stacks, 2 accounts"
    # esrin: neocc ire + ope (6 VMs), the station's 3 VMs, its name, ingest and 16 cameras
    assert lines[2].startswith("esrin  9 VMs, ")
    assert lines[3] == "all    1 LDAP groups, 3 Vault policies and AppRoles"
    assert lines[-1] == "nothing changed in this run"


def test_changes_are_mapped_to_their_sites(model):
    results = {
        "vms": {"vms": [{"name": "esoc-neocc-ope-db01", "changed": True},
                        {"name": "esrin-neocc-ope-app01", "changed": False}]},
        "dns": [{"changes": [{"name": "web.neocc.s2p.esa.int.", "ownership": False},
                             {"name": "_s2p-owner.web.neocc.s2p.esa.int.", "ownership": True}]}],
        "credentials": [{"credentials": [{"uid": "neocc-ire", "action": "create"}]},
                        {"credentials": [{"uid": "neocc-ire", "action": "none"}]}],
        "stacks": [{"name": "neocc-ope", "changed": True}, {"name": "neocc-ire", "changed": False},
                   {"name": "flyeye-1-ope", "changed": True}],
    }
    lines = site_summary(_model(model), results, check_mode=True)
    assert "3 VMs (1 would change: esoc-neocc-ope-db01)" in lines[1]
    assert "8 DNS names (1 would change: web.neocc.s2p.esa.int)" in lines[1]  # web.neocc ope spans both sites
    assert "8 DNS names" not in lines[2] and "(1 would change: web.neocc.s2p.esa.int)" in lines[2]
    assert "1 stacks (1 would change: neocc-ope)" in lines[1]  # only the deployed stacks are counted
    assert "3 stacks (2 would change: flyeye-1-ope, neocc-ope)" in lines[2]
    assert "accounts (1 would change: neocc-ire)" in lines[2] and "accounts (" not in lines[1]
    assert lines[-1] == "5 objects would change in this run"  # each counted once, at all its sites
