"""inventories/production: the realistic example passes the model role (no lab server is
needed: the model is validated on the controller), with the numbers the example promises,
and holds no secret."""

from __future__ import annotations

import re

from conftest import ROOT

PRODUCTION = ROOT / "inventories" / "production"
PLAY = [{"name": "Validate the production model", "hosts": "localhost", "gather_facts": False,
         "roles": ["esa.s2p.model"]}]
VALIDATE = "Validate the S2P model and publish s2p_model"


def test_production_inventory_passes_the_model_role(run_playbook):
    run = run_playbook(PLAY, inventory=PRODUCTION)
    assert run.rc == 0 and run.changed == 0, run.stdout[-3000:]
    result = run.result(VALIDATE)
    assert result["msg"] == ("S2P model OK: 3 sites, 4 segments, 4 environments, 12 projects in 28 deployments "
                             "(115 VMs), 2 stations")
    model = result["ansible_facts"]["s2p_model"]
    assert {p["segment"] for p in model["projects"].values()} == {"swe", "sd", "pd", "dsdc"}
    assert {s["type"] for s in model["stations"].values()} == {"flyeye"}
    assert all(len(s["cameras"]) == 16 for s in model["stations"].values())
    # every VM, station and camera has its own static address
    assert len(model["addresses"]) == len(set(model["addresses"].values())) == 115 + 2 * 17


def test_production_inventory_holds_no_secret():
    text = "\n".join(p.read_text() for p in PRODUCTION.rglob("*.yml"))
    assert not re.search(r"(?i)(password|secret|token|key_secret|bind_pw)\s*:", text)
    assert "s2p_vsphere_connection" not in text  # connections come from AWX credentials (environment)
