"""Helpers shared by the test_health_* modules: the play that runs a <backend>_health module,
lookups into its checks, and the assertions every health test repeats.

Fixtures (secret_marker, other_ca, closed_port) live in conftest.py."""

from __future__ import annotations

import json


def health_play(backend: str, params: dict | None = None, task: str = "health", lab_defaults: bool = True,
                **task_options) -> list:
    """One play running esa.s2p.<backend>_health once as task `task` with `params`; the lab's
    connection comes through module_defaults unless lab_defaults is False (environment fallbacks)."""
    body = {"name": f"{backend} health", "hosts": "localhost", "gather_facts": False,
            "tasks": [{"name": task, f"esa.s2p.{backend}_health": params or {}, **task_options}]}
    if lab_defaults:
        body["module_defaults"] = {f"group/esa.s2p.{backend}": "{{ s2p_%s_connection }}" % backend}
    return [body]


def failed_checks(result: dict) -> dict:
    """{name: msg} of the checks that did not pass, in the order they ran."""
    return {c["name"]: c["msg"] for c in result["checks"] if not c["ok"]}


def checks_by_name(result: dict) -> dict:
    return {c["name"]: c for c in result["checks"]}


def assert_invalid_options_fail(run, task: str, expected: str) -> None:
    """The module failed on its parameters (one failed task, nothing changed) with `expected` in msg."""
    assert run.rc != 0 and run.failed == 1
    result = run.result(task)
    assert result["changed"] is False
    assert expected in result["msg"], result["msg"]


def assert_no_marker(run, *secrets: str) -> None:
    """None of `secrets` appears in the playbook's stdout or in any event ansible-runner recorded."""
    assert secrets and all(secrets), "nothing to look for"
    for index, event in enumerate(run.events):
        text = json.dumps(event)
        for secret in secrets:
            assert secret not in text, f"a secret leaked into event {index} ({event.get('event')})"
    for secret in secrets:
        assert secret not in run.stdout, "a secret leaked into stdout"
