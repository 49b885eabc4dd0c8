"""esa.s2p.dns_health against the lab BIND: healthy, TSIG failures told apart, silent server,
zones the server does not serve, invalid options, and no secret in the output."""

from __future__ import annotations

import base64
import secrets
import socket
from pathlib import Path

from functools import partial

import dns.flags
import dns.message
import dns.query
import pytest
from health_helpers import assert_invalid_options_fail, assert_no_marker, checks_by_name, health_play

TASK = "dns health"
play = partial(health_play, "dns", task=TASK, register="result")


@pytest.fixture(scope="module")
def bind(lab) -> dict:
    data = dict(lab["bind"])
    data["secret"] = Path(data["tsig_secret_file"]).read_text().strip()
    return data


def free_port() -> int:
    """A loopback port nothing listens on (UDP and TCP), as a stand-in for a stopped server."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        return udp.getsockname()[1]


def random_secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def test_healthy_reports_every_zone_with_its_serial(run_playbook, bind):
    run = run_playbook(play({"zones": bind["zones"]}))
    assert run.rc == 0, run.stdout
    result = run.result(TASK)
    assert result["healthy"] is True, result["checks"]
    assert result["changed"] is False
    assert all(c["ok"] for c in result["checks"])
    assert f"TSIG key {bind['tsig_key_name']} accepted" in checks_by_name(result)
    assert result["server"] == f"{bind['server']}:{bind['port']}"
    assert [z["zone"] for z in result["zones"]] == bind["zones"]
    # Independent check with dnspython: the serial is what BIND serves right now (or newer).
    for zone in result["zones"]:
        query = dns.message.make_query(zone["zone"], "SOA")
        answer = dns.query.udp(query, bind["server"], port=bind["port"], timeout=5)
        assert answer.flags & dns.flags.AA
        assert answer.answer[0][0].serial >= zone["serial"] > 0
        assert zone["signed"] is True


def test_check_mode_runs_the_same_checks(run_playbook, bind):
    run = run_playbook(play({"zones": bind["zones"]}), check=True)
    assert run.rc == 0, run.stdout
    result = run.result(TASK)
    assert result["healthy"] is True and result["changed"] is False
    assert len(result["checks"]) == 2 + len(bind["zones"])


def test_wrong_secret_and_unknown_key_give_distinct_tsig_messages(run_playbook, bind):
    wrong_secret = run_playbook(play({"key_secret": random_secret()})).result(TASK)
    unknown_key = run_playbook(play({"key_name": "nokey-" + secrets.token_hex(3)})).result(TASK)
    for result in (wrong_secret, unknown_key):
        assert result["healthy"] is False
        failed = [c for c in result["checks"] if not c["ok"]]
        assert [c["name"].split(" ")[0] for c in failed] == ["TSIG"], result["checks"]
    bad_sig = [c for c in wrong_secret["checks"] if not c["ok"]][0]["msg"]
    bad_key = [c for c in unknown_key["checks"] if not c["ok"]][0]["msg"]
    assert "BADSIG" in bad_sig and "key secret or algorithm" in bad_sig, bad_sig
    assert "BADKEY" in bad_key and "does not know the TSIG key" in bad_key, bad_key
    assert bad_sig != bad_key
    # The zone itself still answers (unsigned): only the key is wrong.
    assert checks_by_name(wrong_secret)["zone s2p.esa.int"]["ok"] is True


def test_wrong_algorithm_names_the_algorithm(run_playbook, bind):
    result = run_playbook(play({"key_algorithm": "hmac-sha512"})).result(TASK)
    assert result["healthy"] is False
    msg = [c for c in result["checks"] if not c["ok"]][0]["msg"]
    # BIND 9.18 knows a key by name and algorithm: another algorithm is an unknown key (BADKEY).
    assert "with algorithm hmac-sha512 (BADKEY)" in msg, msg


def test_silent_server_times_out_with_host_port_and_seconds(run_playbook, bind):
    port = free_port()
    run = run_playbook(play({"port": port, "timeout": 1}))
    assert run.rc == 0, run.stdout  # unhealthy is reported, not failed
    result = run.result(TASK)
    assert result["healthy"] is False
    assert len(result["checks"]) == 1, "a silent server must end the checks at once"
    assert f"no answer from 127.0.0.1:{port} within 1s" in result["checks"][0]["msg"]


def test_zones_the_server_does_not_serve(run_playbook, bind, prefix):
    foreign = f"{prefix}.example.org"
    inside = f"{prefix}.s2p.esa.int"
    result = run_playbook(play({"zones": ["s2p.esa.int", foreign, inside]})).result(TASK)
    assert result["healthy"] is False
    checks = checks_by_name(result)
    assert checks["zone s2p.esa.int"]["ok"] is True
    foreign_check, inside_check = checks[f"zone {foreign}"], checks[f"zone {inside}"]
    assert foreign_check["ok"] is False
    assert "REFUSED" in foreign_check["msg"] and "does not serve this zone" in foreign_check["msg"]
    assert inside_check["ok"] is False
    assert "serves no zone of this name, it lies inside zone s2p.esa.int (NXDOMAIN)" in inside_check["msg"]
    assert [z["zone"] for z in result["zones"]] == ["s2p.esa.int"]


def test_environment_fallbacks(run_playbook, bind):
    env = {"DNS_SERVER": bind["server"], "DNS_PORT": str(bind["port"]), "TSIG_KEY_NAME": bind["tsig_key_name"],
           "TSIG_KEY_SECRET": bind["secret"], "TSIG_KEY_ALGORITHM": bind["tsig_algorithm"]}
    run = run_playbook(play(lab_defaults=False), envvars=env)
    assert run.rc == 0, run.stdout
    result = run.result(TASK)
    assert result["healthy"] is True, result["checks"]
    assert result["key_name"] == bind["tsig_key_name"]


@pytest.mark.parametrize("params, expected", [
    ({"key_secret": "not base64 !!"}, "key_secret is not valid base64"),
    ({"zones": []}, "zones must name at least one zone"),
    ({"key_algorithm": "hmac-sha3"}, "value of key_algorithm must be one of"),
])
def test_invalid_options_fail(run_playbook, params, expected):
    assert_invalid_options_fail(run_playbook(play(params)), TASK, expected)


def test_key_name_without_secret_fails(run_playbook, bind):
    run = run_playbook(play({"server": bind["server"], "port": bind["port"], "key_name": "s2p-automation"},
                            lab_defaults=False))
    assert run.rc != 0
    assert "key_name, key_secret" in run.result(TASK)["msg"]


def test_secret_never_printed_even_at_vvvv(run_playbook, bind):
    """Markers come in as variables, as real secrets do (a literal in the playbook would be shown
    back in the task excerpt of any failure)."""
    markers = {"marker": random_secret(),  # valid base64: it really signs queries, and BIND says BADSIG
               "bad_marker": "marker-" + secrets.token_hex(8) + "!"}  # invalid: the module fails
    tasks = [{"name": TASK, "esa.s2p.dns_health": {"key_secret": "{{ marker }}"}},
             {"name": "invalid", "esa.s2p.dns_health": {"key_secret": "{{ bad_marker }}"}, "ignore_errors": True},
             {"name": "lab key", "esa.s2p.dns_health": {}}]
    run = run_playbook([{"hosts": "localhost", "gather_facts": False, "tasks": tasks,
                         "module_defaults": {"group/esa.s2p.dns": "{{ s2p_dns_connection }}"}}],
                       extravars=markers, verbosity=4)
    assert "BADSIG" in run.stdout  # the play really ran both tasks
    assert "key_secret is not valid base64" in run.stdout
    assert "ESTABLISH LOCAL CONNECTION" in run.stdout  # really -vvvv
    assert run.results("lab key")[0]["healthy"] is True  # the lab's own secret went through too
    assert_no_marker(run, *markers.values(), bind["secret"])
