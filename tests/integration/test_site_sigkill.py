"""playbooks/site.yml killed with SIGKILL at ten (or, with S2P_RELIABILITY_POINTS=all, twenty)
different points, then finished: every re-run converges to the model's state.

A private copy of the lab model (site_helpers.prefixed_model: two projects in ire, preope and
ope, one Flyeye station) keeps the runs short. The kills are chained: run 1 is killed at point
1, run 2 (a re-run from the start) at point 2, and so on, in site.yml's order, so every kill
interrupts a stage with work left to do: VMs being cloned, DNS updates, ACME orders, Vault
policies, LDAP accounts, a credential rotation between its phases (pending, applied), the
swarm, the stacks rolling out (the station's VMs, names, certificate, account and stack are items
of the same batches as the projects'). Each point is a task plus a
seeded random offset inside it (S2P_RELIABILITY_SEED repeats a run; the seed and the points
are printed). Then a complete run must succeed, the backends' own clients must show exactly
the model's state (0 duplicate VMs, 0 orphaned or missing DNS records, every account binding
with Vault's current password and no pending one, every stack service converged), and a
second complete run must change nothing. Last, one fault per backend is planted (a stale ACME
challenge TXT, a pending password, an LDAP password that is not Vault's, a duplicate VM, a service
outside the model) and the same checks must report each. Everything made is removed afterwards
(by prefix, through the backends' clients), also when the test fails."""

from __future__ import annotations

import json
import os
import secrets
import time

import pytest
from reliability_helpers import KillingRunner, kill_points, plant_faults, state_problems
from site_helpers import cleanup, prefixed_model

PROJECTS = ["orbit-det", "swe-kp"]  # pd at esrin (with an LDAP group), swe at esoc; ire, preope, ope
STATIONS = ["flyeye-1"]  # esrin: 3 VMs, 16 cameras, 17 services


@pytest.fixture
def model(lab, prefix):
    model = prefixed_model(prefix, projects=PROJECTS, stations=STATIONS)
    model["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]
    yield model
    cleanup(lab, prefix)


def test_site_killed_at_ten_or_more_points_converges(lab, model, prefix, tmp_path):
    seed = int(os.environ.get("S2P_RELIABILITY_SEED") or secrets.randbelow(10**6))
    which = os.environ.get("S2P_RELIABILITY_POINTS", "default")
    points = kill_points(seed, which)
    header = f"S2P_RELIABILITY_SEED={seed} S2P_RELIABILITY_POINTS={which} prefix {prefix}: {len(points)} kill points"
    print(header, *(f"  {n}. {p}" for n, p in enumerate(points, 1)), sep="\n")
    assert len({p.stage.name for p in points}) >= 10

    started = time.monotonic()
    runner = KillingRunner(tmp_path, model)
    chain = []
    for point in points:
        chain.append(runner.run(point))
        print(chain[-1].describe())
    final = runner.run()
    print(final.describe())
    problems = state_problems(lab, model, prefix) if final.rc == 0 else ["the complete run failed"]
    second = runner.run() if final.rc == 0 else None
    if second:
        print(second.describe())
    print(f"{runner.runs} runs in {time.monotonic() - started:.0f}s")
    (tmp_path / "report.json").write_text(json.dumps(
        {"seed": seed, "points": [str(p) for p in points], "runs": [o.describe() for o in chain + [final]],
         "problems": problems}, indent=2))

    report = [header] + [o.describe() for o in chain]
    missed = [o for o in chain if not o.killed]
    assert not missed, "\n".join(report + ["runs that were not killed at their point (failed or ended first):"]
                                 + [f"{o.describe()}: failed tasks {o.failed_tasks}\n{o.tail()}" for o in missed])
    assert final.rc == 0, "\n".join(report + [final.describe(), f"failed tasks {final.failed_tasks}", final.tail()])
    assert not problems, "\n".join(report + ["state after the complete run differs from the model:"] + problems)
    assert second.rc == 0 and second.recap_changed == 0, "\n".join(
        report + [second.describe(), f"changed tasks: {second.changed_tasks}", second.tail()])

    # the checks can fail: one fault planted per backend is seen
    planted = plant_faults(lab, model, prefix)
    seen = state_problems(lab, model, prefix)
    assert [f for f in planted if not any(p.startswith(f) for p in seen)] == [], seen
