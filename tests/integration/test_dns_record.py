"""esa.s2p.dns_record and dns_record_info against the lab BIND: every record type through
check / apply / idempotent check / idempotent apply, update and delete; TXT edge cases;
bad batches that change nothing; TSIG, policy and server failures told apart; concurrent
runs; ownership and exclusive runs. Every name carries the test's random prefix and is
deleted afterwards (the zones are shared)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from dns_helpers import assert_not_logged, log_env, record_play
import dns_helpers
from health_helpers import assert_no_marker

from conftest import LAB_DIR, LAB_INVENTORY, ROOT, VENV_BIN

TASK = "records"
LONG_TXT = "long " + "0123456789" * 60  # 605 bytes: three character-strings
QUOTED_TXT = 'he said "hi"; path C:\\temp  two  spaces'


bind = dns_helpers.bind_fixture  # the fixture `bind`: the lab BIND, names of the prefix deleted after


def net(prefix: str) -> str:
    """A /24 under 10.250.0.0/16 that no test running at the same time uses, so their reverse names
    never meet: the xdist worker's own (10.250.100+N for gwN; a worker runs one test at a time),
    or one picked from the prefix without xdist. 10.250.0-99 are other tests' fixed A records."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker[2:].isdigit():
        return "10.250.%d" % (100 + int(worker[2:]) % 150)
    return "10.250.%d" % (100 + int(prefix[1:], 16) % 150)


def all_types(p: str, net24: str, ttl: int = 300, variant: int = 0) -> list[dict]:
    """One RRset of every type under <p>.s2p.esa.int (variant 1 changes values and TTLs)."""
    d = f"{p}.s2p.esa.int"
    v = variant
    return [
        {"name": f"web.{d}", "type": "A", "values": [f"{net24}.{5 + v}", f"{net24}.{6 + v}"], "ptr": True,
         "ttl": ttl},
        {"name": f"web.{d}", "type": "AAAA", "values": ["fd00::5", "FD00:0:0::6" if not v else "fd00::7"]},
        {"name": f"www.{d}", "type": "CNAME", "values": [f"web.{d}" if not v else f"mail.{d}"]},
        {"name": d, "type": "TXT", "values": ["v=spf1 -all", QUOTED_TXT, LONG_TXT] if not v else ["v=spf1 ~all"]},
        {"name": f"_sip._tcp.{d}", "type": "SRV",
         "values": [f"0 5 5060 web.{d}", f"10 5 5061 mail.{d}"] + ([f"20 5 5062 web.{d}"] if v else [])},
        {"name": d, "type": "MX", "values": [f"10 mail.{d}"] + ([f"20 web.{d}"] if v else [])},
        {"name": f"mail.{d}", "type": "A", "values": [f"{net24}.9"]},
        {"name": d, "type": "CAA",
         "values": ['0 issue "pebble.test"'] + (['0 iodef "mailto:dc@esa.int"'] if v else [])},
        {"name": f"sub.{d}", "type": "NS", "values": [f"ns1.{d}", f"ns2.{d}"] + ([f"ns3.{d}"] if v else [])},
        {"name": f"ns3.{d}", "type": "A", "values": [f"{net24}.13"]},
        {"name": f"ns1.{d}", "type": "A", "values": [f"{net24}.11"]},
        {"name": f"ns2.{d}", "type": "A", "values": [f"{net24}.12"]},
        {"name": f"{net24}.99".split(".")[3] + "." + ".".join(reversed(net24.split("."))) + ".in-addr.arpa",
         "type": "PTR", "values": [f"mail.{d}"]},
    ]


def four_runs(records: list[dict], **options) -> list:
    """check, apply, idempotent check, idempotent apply: the community.docker pattern, one play."""
    base = {"records": records, **options}
    return record_play({"name": "check", "check_mode": True, "register": "check", **base},
                       {"name": TASK, "register": "apply", **base},
                       {"name": "check again", "check_mode": True, **base},
                       {"name": "apply again", **base})


@pytest.mark.parametrize("read_mode", ["query", "axfr"])
def test_every_type_create_rerun_check_diff_update_delete(run_playbook, bind, prefix, read_mode):
    owner = f"{prefix}/dev"
    net24 = net(prefix)
    d = f"{prefix}.s2p.esa.int"
    # NS below the apex forces transfers; the query variant leaves the delegation out.
    records = [r for r in all_types(prefix, net24) if read_mode == "axfr" or r["type"] != "NS"]
    serial = bind.serial()
    run = run_playbook(four_runs(records, owner=owner, read_mode=read_mode), diff=True)
    assert run.rc == 0, run.stdout
    check, apply_, check2, apply2 = (run.result(t) for t in ("check", TASK, "check again", "apply again"))
    assert check["changed"] and apply_["changed"]
    assert check["changes"] == apply_["changes"], "check mode must predict the real run exactly"
    assert check["diff"] == apply_["diff"] and "\nwww.%s 3600 IN CNAME web.%s.\n" % (d, d) in apply_["diff"]["after"]
    assert not check2["changed"] and not apply2["changed"] and apply2["changes"] == []
    assert apply_["read_mode"] == read_mode
    assert bind.serial() > serial
    # Independent reads of the server.
    assert bind.rrset(f"web.{d}", "A") == {f"{net24}.5", f"{net24}.6"}
    assert bind.rrset(f"web.{d}", "AAAA") == {"fd00::5", "fd00::6"}
    assert bind.rrset(f"www.{d}", "CNAME") == {f"web.{d}."}
    assert bind.rrset(d, "TXT") == {"v=spf1 -all", QUOTED_TXT, LONG_TXT}
    assert sorted(len(s) for strings in bind.txt_strings(d) for s in strings) == [11, 39, 95, 255, 255]
    assert bind.rrset(f"_sip._tcp.{d}", "SRV") == {f"0 5 5060 web.{d}.", f"10 5 5061 mail.{d}."}
    assert bind.rrset(d, "CAA") == {'0 issue "pebble.test"'}
    last = net24.split(".")
    assert bind.rrset(f"5.{last[2]}.{last[1]}.{last[0]}.in-addr.arpa", "PTR") == {f"web.{d}."}
    assert bind.rrset(f"_s2p-owner.web.{d}", "TXT") == {f"s2p-owner={owner} types=A,AAAA"}
    if read_mode == "axfr":  # several NS records of one delegation coexist (a query only gets a referral)
        assert bind.transferred_rrset(f"sub.{d}", "NS") == {f"ns1.{d}.", f"ns2.{d}."}
    # Update: other values and TTLs, then delete everything; each with its check run first.
    changed = [r for r in all_types(prefix, net24, ttl=600, variant=1) if read_mode == "axfr" or r["type"] != "NS"]
    run = run_playbook(four_runs(changed, owner=owner, read_mode=read_mode), diff=True)
    assert run.rc == 0, run.stdout
    update = run.result(TASK)
    assert run.result("check")["changes"] == update["changes"]
    assert not run.result("apply again")["changed"]
    actions = {(c["name"], c["type"]): c["action"] for c in update["changes"] if not c["ownership"]}
    assert actions[(f"web.{d}", "A")] == "update" and actions[(d, "TXT")] == "update"
    assert (f"ns1.{d}", "A") not in actions
    assert bind.rrset(f"www.{d}", "CNAME") == {f"mail.{d}."}
    assert bind.rrset(f"web.{d}", "A") == {f"{net24}.6", f"{net24}.7"}
    assert bind.rrset(f"_sip._tcp.{d}", "SRV") == {f"0 5 5060 web.{d}.", f"10 5 5061 mail.{d}.", f"20 5 5062 web.{d}."}
    if read_mode == "axfr":
        assert bind.transferred_rrset(f"sub.{d}", "NS") == {f"ns1.{d}.", f"ns2.{d}.", f"ns3.{d}."}
    # Absent without values deletes the RRset; web's A gives its values (and removes their PTRs).
    gone = [dict(r, state="absent") if r["name"].startswith("web.") and r["type"] == "A"
            else {"name": r["name"], "type": r["type"], "state": "absent"} for r in changed]
    run = run_playbook(four_runs(gone, owner=owner, read_mode=read_mode))
    assert run.rc == 0, run.stdout
    delete = run.result(TASK)
    assert run.result("check")["changes"] == delete["changes"] and not run.result("apply again")["changed"]
    assert all(c["action"] == "delete" for c in delete["changes"])
    assert bind.names_under(d) == set()
    assert bind.rrset(f"5.{last[2]}.{last[1]}.{last[0]}.in-addr.arpa", "PTR") == set()


def _bad_inputs():
    path = Path(__file__).resolve().parents[1] / "unit" / "plugins" / "module_utils" / "dns" / "dns_bad_inputs.py"
    spec = importlib.util.spec_from_file_location("dns_bad_inputs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Unknown fields are refused by the argument spec before the module runs: not sent here.
    allowed = {"name", "type", "values", "ttl", "state", "ptr"}
    return [item for item, _expected in module.BAD if set(item) <= allowed]


@pytest.mark.smoke
def test_bad_batch_changes_nothing(run_playbook, bind, prefix):
    bad = _bad_inputs()
    good = {"name": f"ok.{prefix}.s2p.esa.int", "type": "A", "values": ["10.250.0.1"]}
    serials = (bind.serial(), bind.serial("10.in-addr.arpa"))
    run = run_playbook(record_play({"name": TASK, "records": [good] + bad}))
    assert run.rc != 0
    result = run.result(TASK)
    assert result["changed"] is False
    assert len(result["errors"]) >= 25
    assert {e.split("]")[0] for e in result["errors"]} == {f"records[{i}" for i in range(1, len(bad) + 1)}
    assert "outside the managed zones" in result["msg"] and "Traceback" not in run.stdout
    names = [good["name"]] + [item["name"] for item in bad if isinstance(item.get("name"), str)]
    assert bind.untouched(serials[0], prefix, names) and bind.untouched(serials[1], prefix, names, "10.in-addr.arpa")
    assert bind.rrset(good["name"], "A") == set()


def test_conflicts_with_the_server_state_change_nothing(run_playbook, bind, prefix):
    name = f"c.{prefix}.s2p.esa.int"
    run = run_playbook(record_play({"name": TASK, "records": [{"name": name, "type": "TXT", "values": ["x"]}]}))
    assert run.rc == 0, run.stdout
    serial = bind.serial()
    run = run_playbook(record_play({"name": TASK, "records": [
        {"name": name, "type": "CNAME", "values": [f"d.{prefix}.s2p.esa.int"]},
        {"name": f"m.{prefix}.s2p.esa.int", "type": "MX", "values": [f"10 nomail.{prefix}.s2p.esa.int"]}]}))
    result = run.result(TASK)
    assert run.rc != 0 and result["changed"] is False
    assert "CNAME next to other data (CNAME, TXT)" in result["msg"]
    assert "has no A or AAAA record" in result["msg"]
    assert bind.untouched(serial, prefix)


def test_tsig_policy_and_server_failures_are_distinct(run_playbook, bind, prefix, closed_port, secret_marker,
                                                      tmp_path):
    import base64

    record = [{"name": f"f.{prefix}.s2p.esa.int", "type": "A", "values": ["10.250.0.2"]}]
    serial = bind.serial()
    wrong = base64.b64encode(secret_marker.encode()).decode()
    cases = {
        "bad secret": {"key_secret": "{{ wrong_secret }}"},
        "unknown key": {"key_name": f"nokey-{prefix}"},
        "policy": {"key_name": None, "key_secret": None, "read_mode": "query"},
        "down": {"port": closed_port, "timeout": 1},
    }
    tasks = [{"name": name, "records": record, "ignore_errors": True, **opts} for name, opts in cases.items()]
    log = tmp_path / "ansible.log"
    run = run_playbook(record_play(*tasks), extravars={"wrong_secret": wrong}, verbosity=4, envvars=log_env(log))
    msgs = {name: run.result(name)["msg"] for name in cases}
    assert all(not run.result(name)["changed"] for name in cases)
    assert "BADSIG" in msgs["bad secret"], msgs
    assert "BADKEY" in msgs["unknown key"], msgs
    assert "refused the update (REFUSED)" in msgs["policy"] and "update-policy" in msgs["policy"], msgs
    assert "no answer from 127.0.0.1:%d within 1s" % closed_port in msgs["down"], msgs
    assert len(set(msgs.values())) == 4
    assert bind.untouched(serial, prefix) and bind.rrset(record[0]["name"], "A") == set()
    assert_no_marker(run, wrong, bind.secret)
    assert_not_logged(log, wrong, bind.secret)


def _playbook_process(tmp_path: Path, name: str, play: list) -> subprocess.Popen:
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), S2P_LAB_DIR=str(LAB_DIR),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"), ANSIBLE_NOCOLOR="1",
               PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.Popen([str(VENV_BIN / "ansible-playbook"), "-v", "-i", str(LAB_INVENTORY), str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


@pytest.mark.parametrize("read_mode", ["query", "axfr"])
def test_concurrent_runs_end_in_one_declared_state(bind, prefix, tmp_path, read_mode):
    """Two playbooks declare other values for the same 40 names at the same moment. Every
    declared RRset is pinned as read, and a refused UPDATE is planned again from a fresh read,
    so the zone ends in one run's state, never a mix (seen before the fix: r00-r17 from one
    run, r18-r39 from the other)."""
    names = [f"r{i:02d}.{prefix}.s2p.esa.int" for i in range(40)]
    sets = {side: {n: [f"10.250.{side}.{i + 1}"] for i, n in enumerate(names)} for side in (1, 2)}
    outcomes = []
    for round_ in range(3):
        procs = []
        # Both plays wait for the same instant, so their reads and UPDATEs overlap (a refused
        # UPDATE shows as attempts 2); without it one run usually finishes before the other reads.
        start = time.time() + 6
        for side in (1, 2):
            records = [{"name": n, "type": "A", "values": v} for n, v in sets[side].items()]
            play = record_play({"name": "start together", "module": "ansible.builtin.command",
                                "argv": ["{{ ansible_playbook_python }}", "-c",
                                         f"import time; time.sleep(max(0, {start} - time.time()))"]},
                               {"name": TASK, "records": records, "owner": f"{prefix}/dev", "read_mode": read_mode})
            procs.append(_playbook_process(tmp_path, f"side{side}-{round_}", play))
        outs = [p.communicate(timeout=180)[0] for p in procs]
        codes = [p.returncode for p in procs]
        outcomes.append(codes + [_attempts(o) for o in outs])
        for code, out in zip(codes, outs, strict=True):
            assert code == 0 or "concurrent change" in out, out[-2000:]
        held = {n: sorted(bind.rrset(n, "A")) for n in names}
        assert held in (sets[1], sets[2]), "a mix of both runs: %s" % held
    print("concurrent outcomes (rc 1, rc 2, attempts 1, attempts 2) per round:", outcomes, file=sys.stderr)


def _attempts(out: str):
    found = re.search(r'^    attempts: (\d+)$', out, re.M)
    return int(found.group(1)) if found else None


@pytest.mark.smoke
def test_exclusive_never_deletes_another_owners_records(run_playbook, bind, prefix):
    d = f"{prefix}.s2p.esa.int"
    owner_a, owner_b = f"{prefix}a/dev", f"{prefix}b/dev"
    a_old = {"name": f"a-old.{d}", "type": "A", "values": ["10.250.0.3"]}
    a_txt = {"name": f"a-old.{d}", "type": "TXT", "values": ["keep?"]}
    a_new = {"name": f"a-new.{d}", "type": "A", "values": ["10.250.0.4"]}
    b_rec = {"name": f"b.{d}", "type": "A", "values": ["10.250.0.5"]}
    unowned = {"name": f"free.{d}", "type": "TXT", "values": ["nobody's"]}
    run = run_playbook(record_play(
        {"name": "a", "records": [a_old, a_txt], "owner": owner_a},
        {"name": "b", "records": [b_rec], "owner": owner_b},
        {"name": "free", "records": [unowned]},
        {"name": "a takes b", "records": [dict(b_rec, values=["10.250.0.6"])], "owner": owner_a,
         "ignore_errors": True},
        {"name": "anyone takes b", "records": [dict(b_rec, values=["10.250.0.6"])], "ignore_errors": True},
        {"name": "a exclusive check", "records": [a_new, a_txt], "owner": owner_a, "exclusive": True,
         "check_mode": True},
        {"name": TASK, "records": [a_new, a_txt], "owner": owner_a, "exclusive": True},
        {"name": "a exclusive again", "records": [a_new, a_txt], "owner": owner_a, "exclusive": True},
        {"name": "info a", "module": "esa.s2p.dns_record_info", "owner": owner_a},
        {"name": "info names", "module": "esa.s2p.dns_record_info", "names": [b_rec["name"], unowned["name"]]},
        {"name": "info outside", "module": "esa.s2p.dns_record_info", "names": ["x.example.org"],
         "ignore_errors": True},
    ))
    assert run.rc == 0, run.stdout
    assert f"owned by {owner_b}" in run.result("a takes b")["msg"]
    assert "this run gives no owner" in run.result("anyone takes b")["msg"]
    result = run.result(TASK)
    assert run.result("a exclusive check")["changes"] == result["changes"]
    deleted = {(c["name"], c["type"]) for c in result["changes"] if c["action"] == "delete"}
    assert deleted == {(f"a-old.{d}", "A")}
    assert not run.result("a exclusive again")["changed"]
    assert bind.rrset(b_rec["name"], "A") == {"10.250.0.5"}
    assert bind.rrset(unowned["name"], "TXT") == {"nobody's"}
    assert bind.rrset(a_old["name"], "A") == set() and bind.rrset(a_old["name"], "TXT") == {"keep?"}
    assert bind.rrset(f"_s2p-owner.a-old.{d}", "TXT") == {f"s2p-owner={owner_a} types=TXT"}
    info = {(r["name"], r["type"]): r for r in run.result("info a")["records"]}
    assert set(info) == {(f"a-new.{d}", "A"), (f"a-old.{d}", "TXT")}
    assert info[(f"a-new.{d}", "A")] == {"name": f"a-new.{d}", "type": "A", "ttl": 3600,
                                         "values": ["10.250.0.4"], "owner": owner_a}
    assert "names[0] (x.example.org): outside the managed zones" in run.result("info outside")["msg"]
    names = {(r["name"], r["type"]): r["owner"] for r in run.result("info names")["records"]}
    assert names == {(b_rec["name"], "A"): owner_b, (unowned["name"], "TXT"): None}


def test_an_address_moves_between_owners_in_one_batch(run_playbook, bind, prefix):
    """One exclusive batch: owner a drops web-a and owner b takes its address; the PTR and its
    ownership pass to b in the same UPDATE. Check mode predicts it, a second run changes nothing."""
    d, address = f"{prefix}.s2p.esa.int", f"{net(prefix)}.20"
    reverse = ".".join(reversed(address.split("."))) + ".in-addr.arpa"
    owner_a, owner_b = f"{prefix}a/dev", f"{prefix}b/dev"
    keep = {"name": f"keep-a.{d}", "type": "A", "values": [f"{net(prefix)}.21"], "owner": owner_a}
    web_a = {"name": f"web-a.{d}", "type": "A", "values": [address], "ptr": True, "owner": owner_a}
    web_b = {"name": f"web-b.{d}", "type": "A", "values": [address], "ptr": True, "owner": owner_b}
    moved = {"records": [keep, web_b], "exclusive": True}
    run = run_playbook(record_play(
        {"name": "before", "records": [keep, web_a]},
        {"name": "check", "check_mode": True, **moved},
        {"name": TASK, **moved},
        {"name": "again", **moved},
    ))
    assert run.rc == 0, run.stdout[-3000:]
    assert run.result("check")["changes"] == run.result(TASK)["changes"]
    assert not run.result("again")["changed"]
    assert bind.rrset(reverse, "PTR") == {f"web-b.{d}."}
    assert bind.rrset(f"_s2p-owner.{reverse}", "TXT") == {f"s2p-owner={owner_b} types=PTR"}
    assert bind.rrset(web_a["name"], "A") == set() and bind.rrset(web_b["name"], "A") == {address}
    assert sum(z["messages"] for z in run.result(TASK)["zones"]) == 2  # one UPDATE per zone
