"""esa.s2p.vault_health against the lab's OpenBao (real Vault API, TLS, AppRole)."""

from __future__ import annotations

import secrets
from functools import partial
from pathlib import Path

import hvac
import pytest
from health_helpers import assert_no_marker, failed_checks
from health_helpers import health_play as _health_play

MOUNTS = {"s2p": "kv-v2", "pki": "pki"}


health_play = partial(_health_play, "vault")


@pytest.fixture(scope="module")
def openbao(lab) -> dict:
    endpoint = dict(lab["openbao"])
    for key in ("root_token", "automation_role_id", "automation_secret_id"):
        endpoint[key] = Path(endpoint[key + "_file"]).read_text().strip()
    endpoint["ca_file"] = lab["ca_file"]
    return endpoint


@pytest.fixture(scope="module")
def root(openbao) -> hvac.Client:
    """The lab's root client, only to set up and verify (never what the module uses)."""
    return hvac.Client(openbao["url"], token=openbao["root_token"], verify=openbao["ca_file"])


@pytest.fixture
def narrow_token(root, prefix):
    """A token whose only policy reads s2p/data/<prefix>/*: no sys/mounts, nothing under pki/."""
    policy = "%s-narrow" % prefix
    root.sys.create_or_update_policy(policy, 'path "s2p/data/%s/*" { capabilities = ["read"] }' % prefix)
    token = root.auth.token.create(policies=[policy], ttl="10m", no_default_policy=False)["auth"]["client_token"]
    yield token
    root.auth.token.revoke(token)
    root.sys.delete_policy(policy)


@pytest.fixture
def namespace(root, openbao, prefix):
    """A child namespace with its own KV v2 mount `apps` (sys/health stays in the root namespace)."""
    name = "%s-ns" % prefix
    root.adapter.post("/v1/sys/namespaces/%s" % name, json={})
    child = hvac.Client(openbao["url"], token=openbao["root_token"], verify=openbao["ca_file"], namespace=name)
    child.sys.enable_secrets_engine("kv", path="apps", options={"version": "2"})
    yield name
    child.sys.disable_secrets_engine("apps")
    root.adapter.delete("/v1/sys/namespaces/%s" % name)


@pytest.mark.parametrize("check", [False, True], ids=["run", "check_mode"])
def test_healthy_approle(run_playbook, openbao, check):
    run = run_playbook(health_play({"mounts": MOUNTS}), check=check)
    assert run.rc == 0, run.stdout
    result = run.result("health")
    assert result["healthy"] is True, result["checks"]
    assert result["changed"] is False and run.changed == 0
    assert [c["name"] for c in result["checks"]] == ["reachable", "tls", "initialised", "unsealed", "auth", "mounts"]
    assert result["mounts"] == {"s2p/": "kv v2", "pki/": "pki"}
    assert "s2p-automation" in result["token"]["policies"]
    assert 0 < result["token"]["ttl"] <= 3600
    assert result["version"]
    assert "approle login ok" in result["checks"][4]["msg"] and "TTL" in result["checks"][4]["msg"]


@pytest.fixture
def own_approle(root, openbao, prefix):
    """An AppRole of this test's own (the lab's automation policy), so the tokens it counts are
    only its own: other tests log in with the lab's AppRole at the same time."""
    role = "%s-health" % prefix
    root.auth.approle.create_or_update_approle(role, token_policies=["s2p-automation"], token_ttl="10m")
    role_id = root.auth.approle.read_role_id(role)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id(role)["data"]["secret_id"]
    yield role, {"url": openbao["url"], "auth_method": "approle", "role_id": role_id, "secret_id": secret_id,
                 "ca_cert": openbao["ca_file"]}
    root.auth.approle.delete_role(role)


def test_approle_token_is_revoked_after_the_task(run_playbook, root, own_approle):
    """The module logs in once and revokes its token: no AppRole token is left per run."""
    role, connection = own_approle

    def approle_tokens() -> set:
        accessors = root.list("auth/token/accessors")["data"]["keys"]
        found = set()
        for accessor in accessors:
            try:
                data = root.auth.token.lookup_accessor(accessor)["data"]
            except hvac.exceptions.InvalidRequest:  # expired or revoked meanwhile
                continue
            if data.get("path", "").startswith("auth/approle/login") and (data.get("meta") or {}).get(
                    "role_name") == role:
                found.add(accessor)
        return found
    play = health_play({"mounts": MOUNTS, **connection}, lab_defaults=False)
    play[0]["tasks"] = play[0]["tasks"] * 3
    run = run_playbook(play)
    assert run.rc == 0 and all(r["healthy"] for r in run.results("health"))
    assert len(run.results("health")) == 3
    assert approle_tokens() == set()


def test_mount_of_wrong_type_or_missing(run_playbook, prefix):
    run = run_playbook(health_play({"mounts": {"s2p": "kv-v1", prefix: "kv-v2", "pki": "pki"}}))
    result = run.result("health")
    assert result["healthy"] is False
    msg = failed_checks(result)["mounts"]
    assert "mount s2p/ is kv v2, expected kv-v1" in msg
    assert "mount %s/ not found" % prefix in msg and "-version=2 kv" in msg
    assert "pki/" not in msg


def test_token_without_sys_mounts_uses_what_its_policy_allows(run_playbook, openbao, narrow_token):
    args = {"auth_method": "token", "token": narrow_token, "mounts": MOUNTS}
    result = run_playbook(health_play(args)).result("health")
    assert result["mounts"] == {"s2p/": "kv v2"}  # found through sys/internal/ui/mounts/s2p
    msg = failed_checks(result)["mounts"]
    assert "mount pki/ is not visible to this token" in msg and "policy" in msg
    assert "s2p/" not in msg.split("pki/")[0]
    assert [c["name"] for c in result["checks"] if c["ok"]] == ["reachable", "tls", "initialised", "unsealed", "auth"]


def test_namespace(run_playbook, openbao, namespace):
    args = {"auth_method": "token", "token": openbao["root_token"], "namespace": namespace,
            "mounts": {"apps": "kv-v2"}}
    result = run_playbook(health_play(args)).result("health")
    assert result["healthy"] is True, result["checks"]
    assert result["mounts"] == {"apps/": "kv v2"}
    args.update(namespace=namespace + "-missing")
    result = run_playbook(health_play(args)).result("health")
    assert "namespace %s-missing does not exist" % namespace in failed_checks(result)["auth"]


def test_wrong_secret_id(run_playbook):
    result = run_playbook(health_play({"secret_id": secrets.token_hex(16)})).result("health")
    assert result["healthy"] is False and result["changed"] is False
    msg = failed_checks(result)["auth"]
    assert "AppRole login at https://127.0.0.1:18200/v1/auth/approle rejected" in msg
    assert "secret_id" in msg


def test_wrong_token(run_playbook):
    result = run_playbook(health_play({"auth_method": "token", "token": "s." + secrets.token_hex(12)})).result("health")
    assert result["healthy"] is False and result["changed"] is False
    assert "token was rejected" in failed_checks(result)["auth"]


def test_untrusted_ca(run_playbook, other_ca):
    result = run_playbook(health_play({"ca_cert": other_ca})).result("health")
    assert result["healthy"] is False and result["changed"] is False
    msg = failed_checks(result)["tls"]
    assert "not trusted by the CA file %s" % other_ca in msg and "ca_cert" in msg
    assert "auth" not in [c["name"] for c in result["checks"]]


def test_server_down(run_playbook, closed_port):
    result = run_playbook(health_play({"url": "https://127.0.0.1:%d" % closed_port})).result("health")
    assert result["healthy"] is False and result["changed"] is False
    assert list(failed_checks(result)) == ["reachable"]
    assert "cannot reach Vault at https://127.0.0.1:%d (connection refused)" % closed_port \
        in failed_checks(result)["reachable"]


def test_invalid_parameters_fail(run_playbook, openbao):
    play = health_play({"url": openbao["url"], "auth_method": "approle", "secret_id": "x"})
    del play[0]["module_defaults"]
    run = run_playbook(play)
    assert run.rc != 0 and run.failed == 1
    assert "role_id" in run.result("health")["msg"]
    run = run_playbook(health_play({"auth_method": "ldap"}))
    assert run.rc != 0 and "auth_method" in run.result("health")["msg"]


def test_secrets_never_in_output(run_playbook, openbao, secret_marker):
    marker = secret_marker
    play = health_play({"secret_id": "{{ planted }}"})
    play[0]["tasks"] += [
        {"name": "token", "esa.s2p.vault_health": {"auth_method": "token", "token": "{{ planted }}"}},
        {"name": "real", "esa.s2p.vault_health": {"mounts": MOUNTS}},
    ]
    run = run_playbook(play, extravars={"planted": marker}, verbosity=4)
    assert run.rc == 0, run.stdout[-3000:]
    assert "auth" in failed_checks(run.result("health"))
    assert "auth" in failed_checks(run.result("token"))
    assert run.result("real")["healthy"] is True
    assert_no_marker(run, marker, openbao["automation_secret_id"])
