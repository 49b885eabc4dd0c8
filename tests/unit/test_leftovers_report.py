"""The leftover check's comparison and report (tests/integration/leftovers_report.py): which new
objects fail a run, which are other runs' or warnings, and what the report prints. No server."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from leftovers_report import LAB_SINGLETONS, SHOWN, Reading, compare, failed, owner, report  # noqa: E402

OURS = {"t0a1b2c", "tffee00"}
BASE = frozenset({"vm /ESOC/vm/templates/debian-12-template", "policy s2p-neocc-ire",
                  "entry uid=t999999-svc,ou=services,dc=s2p,dc=esa,dc=int"})


def reading(*names: str) -> Reading:
    return Reading(frozenset(names))


def test_owner_tells_this_run_other_runs_and_fixed_names_apart():
    assert owner("vm /ESOC/vm/s2p/pd/t0a1b2c/ire/esoc-t0a1b2c-ire-app01", OURS) == "ours"
    assert owner("entry uid=tffee00svc,ou=services,dc=s2p,dc=esa,dc=int", OURS) == "ours"  # glued to a word
    assert owner("rrset 5.201.13.10.in-addr.arpa. PTR esoc-t0a1b2c-ire-app01.s2p.esa.int.", OURS) == "ours"
    assert owner("kv s2p/pd/t123abc/ire/tls", OURS) == "other"
    assert owner("policy s2p-neocc-ire", OURS) == "none"
    # a hash in a name is hex: "b" + six hex digits is common there, "t" never is
    assert owner("secret neocc-ire_api-token_v1-b86c2382", OURS) == "none"
    assert owner("folder /ESOC/vm/s2p/b1a2b3c", OURS) == "none"  # a benchmark's prefix


def test_a_clean_run_reports_one_line_per_backend():
    changes = [compare("vsphere", reading(*BASE), reading(*BASE), OURS),
               compare("ldap", reading(), reading(), OURS)]
    assert not failed(changes)
    assert report(changes) == ["leftovers: vsphere 0 new from this run (3 before, 3 after)",
                               "leftovers: ldap 0 new from this run (0 before, 0 after)"]


def test_objects_of_this_run_fail_it_and_are_named():
    after = reading(*BASE, "vm /ESOC/vm/s2p/pd/t0a1b2c/ire/esoc-t0a1b2c-ire-app01", "folder /ESOC/vm/s2p/pd/t0a1b2c")
    change = compare("vsphere", reading(*BASE), after, OURS)
    assert change.left_behind == ["folder /ESOC/vm/s2p/pd/t0a1b2c",
                                  "vm /ESOC/vm/s2p/pd/t0a1b2c/ire/esoc-t0a1b2c-ire-app01"]
    assert failed([change])
    lines = report([change])
    assert lines[0] == "leftovers: vsphere 2 new from this run (3 before, 5 after)"
    assert lines[1] == "leftovers: vsphere LEFT BEHIND by this run (2):"
    assert lines[2:4] == ["    folder /ESOC/vm/s2p/pd/t0a1b2c",
                          "    vm /ESOC/vm/s2p/pd/t0a1b2c/ire/esoc-t0a1b2c-ire-app01"]
    assert lines[-1].startswith("leftovers: FAILED") and "S2P_LEFTOVER_CHECK=0" in lines[-1]


def test_other_runs_objects_are_counted_not_failed():
    """Another run on the shared lab made one object and cleaned up one it had at our start."""
    after = (BASE - {"entry uid=t999999-svc,ou=services,dc=s2p,dc=esa,dc=int"}) | {"kv s2p/pd/t123abc/ire/tls"}
    change = compare("vault", reading(*BASE), Reading(after), OURS)
    assert (change.others_new, change.others_gone, change.left_behind, change.gone) == (1, 1, [], [])
    assert not failed([change])
    assert report([change]) == ["leftovers: vault 0 new from this run (3 before, 3 after; other runs: 1 new, 1 gone)"]


def test_new_objects_without_a_test_prefix_and_gone_ones_are_warnings():
    """The lab model converged by a test (fixed names), and a lab object a test deleted."""
    after = (BASE - {"policy s2p-neocc-ire"}) | {"service neocc-ire_web", "rrset api.neocc.ire.s2p.esa.int. A"}
    change = compare("swarm_sites", reading(*BASE), Reading(after), OURS)
    assert change.unprefixed == ["rrset api.neocc.ire.s2p.esa.int. A", "service neocc-ire_web"]
    assert change.gone == ["policy s2p-neocc-ire"]
    assert not failed([change])
    lines = report([change])
    assert lines[0] == "leftovers: swarm_sites 0 new from this run (3 before, 4 after)"
    assert lines[1].startswith("leftovers: WARNING swarm_sites: 2 new without a test prefix")
    assert lines[4].startswith("leftovers: WARNING swarm_sites: 1 there at the start and gone at the end")
    assert lines[5] == "    policy s2p-neocc-ire"
    assert not any("FAILED" in line for line in lines)


def test_strict_fails_on_every_new_object():
    after = reading(*BASE, "service neocc-ire_web", "kv s2p/pd/t123abc/ire/tls")
    change = compare("dockerd", reading(*BASE), after, OURS, strict=True)
    assert change.left_behind == ["kv s2p/pd/t123abc/ire/tls", "service neocc-ire_web"]
    assert failed([change])


def test_an_unreachable_backend_is_not_zero_objects():
    down = Reading(None, "ConnectionRefusedError: [Errno 111] Connection refused")
    at_start = compare("dns", down, reading(*BASE), OURS)
    at_end = compare("dns", reading(*BASE), down, OURS)
    assert (at_start.before, at_start.after, at_start.left_behind) == (None, None, [])
    assert not failed([at_start, at_end])
    assert report([at_start, at_end]) == [
        "leftovers: dns NOT CHECKED: unreachable at the start (ConnectionRefusedError: [Errno 111] Connection refused)",
        "leftovers: dns NOT CHECKED: unreachable at the end (ConnectionRefusedError: [Errno 111] Connection refused)"]


def test_long_lists_are_cut():
    names = [f"entry uid=t0a1b2c-{i:03d},ou=services,dc=s2p,dc=esa,dc=int" for i in range(SHOWN + 7)]
    lines = report([compare("ldap", reading(), reading(*names), OURS)])
    listed = [line for line in lines if line.startswith("    ")]
    assert len(listed) == SHOWN + 1 and listed[-1] == "    ... and 7 more"


def test_a_lab_singleton_made_on_first_use_is_no_leftover_even_when_strict():
    singleton = next(iter(LAB_SINGLETONS["vault"]))
    change = compare("vault", Reading(frozenset()), Reading(frozenset({singleton, "kv s2p/other"})), set(), strict=True)
    assert change.left_behind == ["kv s2p/other"]
