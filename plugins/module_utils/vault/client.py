# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An hvac client for Vault / OpenBao that knows nothing of Ansible.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

One client = one login: connect() authenticates once (token or AppRole), close()
revokes the token it obtained by logging in (never a token it was given). Every
call goes through _call(), which turns transport, TLS, seal and HTTP errors into
VaultError subclasses whose message names the server or path and says what to do.
health_report() runs the checks of vault_health (a failed step is a failed check, not an
exception) so modules and plugins report the same.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

try:
    import hvac
    import hvac.exceptions as hvac_exceptions
    import requests
except ImportError:
    HVAC_IMPORT_ERROR = traceback.format_exc()
    hvac = hvac_exceptions = requests = None
else:
    HVAC_IMPORT_ERROR = None

from ansible_collections.esa.s2p.plugins.module_utils.core import tls
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import (
    ConnectionFailure,
    MissingLibrary,
    S2PError,
)
from ansible_collections.esa.s2p.plugins.module_utils.core.health import HealthReport, check

AUTH_METHODS = ("token", "approle")


class VaultError(S2PError):
    """A Vault call failed. `check` names the health check it belongs to."""

    check = "api"


class VaultUnreachable(VaultError, ConnectionFailure):
    check = "reachable"


class VaultTLSError(VaultError, ConnectionFailure):
    check = "tls"


class VaultNotInitialised(VaultError, ConnectionFailure):
    check = "initialised"


class VaultSealed(VaultError, ConnectionFailure):
    check = "unsealed"


class VaultAuthError(VaultError, ConnectionFailure):
    check = "auth"


class VaultForbidden(VaultError):
    check = "permission"


class VaultNotFound(VaultError):
    """The path does not exist (HTTP 404)."""


class VaultMountMissing(VaultError):
    """Nothing is mounted where the request went (HTTP 404 "no handler for route"): not an absent secret."""

    check = "mounts"


class VaultCASConflict(VaultError):
    """A check-and-set write lost: the secret changed since it was read (another run?)."""


# The wording of TLS failures that names Vault's own options (see tls.DEFAULT_WORDING).
TLS_WORDING = {
    tls.MISMATCH: ("the server certificate does not match the host name in url",
                   "Use a host name listed in the certificate's subjectAltName"),
    tls.UNTRUSTED: ("the server certificate is not trusted by {trust}",
                    "Set ca_cert to the CA that signed Vault's certificate (VAULT_CACERT)"),
    tls.NOT_TLS: ("TLS handshake failed", "Check that the port serves https (or use an http:// url for a dev server)"),
}


# The 404 answer of Vault/OpenBao when no engine is mounted at the path (the route names the path).
_ROUTE = re.compile(r'no handler for route "([^"]+)"')

# HTTP methods of VaultClient.request (those of hvac's adapter).
_METHODS = ("GET", "POST", "PUT", "DELETE", "LIST")


class VaultClient:
    """An authenticated session to one Vault (or OpenBao) server."""

    def __init__(self, url, auth_method="token", token=None, role_id=None, secret_id=None, ca_cert=None,
                 namespace=None, validate_certs=True, timeout=30, approle_mount="approle"):
        if HVAC_IMPORT_ERROR:
            raise MissingLibrary("hvac", HVAC_IMPORT_ERROR)
        if auth_method not in AUTH_METHODS:
            raise VaultError("unknown auth_method %r" % auth_method, hint="Use one of %s" % ", ".join(AUTH_METHODS))
        self.url = (url or "").rstrip("/")
        if not self.url.startswith(("https://", "http://")):
            raise VaultError("url %r is not an http(s):// URL" % url, hint="For example https://vault.s2p.esa.int:8200")
        self.auth_method = auth_method
        self._token = token
        self.role_id = role_id
        self._secret_id = secret_id
        self.ca_cert = ca_cert
        self.validate_certs = validate_certs
        self.approle_mount = approle_mount
        self._owns_token = False
        self._mount_table = None
        verify = (ca_cert or True) if validate_certs else False
        # token="" keeps hvac from picking up VAULT_TOKEN or ~/.vault-token behind our back.
        self.hvac = hvac.Client(url=self.url, token="", verify=verify, timeout=timeout, namespace=namespace or None)

    # --- plumbing --------------------------------------------------------------
    def _call(self, action, func, *args, **kwargs):
        """Run one hvac call; map every failure to a VaultError naming `action`."""
        try:
            return func(*args, **kwargs)
        except requests.exceptions.SSLError as exc:
            reason, hint = tls.tls_failure_reason(str(exc), self.ca_cert, TLS_WORDING)
            raise VaultTLSError("TLS to Vault at %s failed: %s" % (self.url, reason), hint=hint) from exc
        except requests.exceptions.Timeout:
            raise VaultUnreachable("Vault at %s did not answer in time while %s" % (self.url, action),
                                   hint="Check url and that the server is up and reachable from this host") from None
        except requests.exceptions.ConnectionError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else str(exc)
            raise VaultUnreachable("cannot reach Vault at %s (%s)" % (self.url, reason),
                                   hint="Check url and that the server is up and reachable from this host") from exc
        except hvac_exceptions.VaultNotInitialized:
            raise VaultNotInitialised("Vault at %s is not initialised" % self.url,
                                      hint="Initialise it (bao operator init) and unseal it") from None
        except hvac_exceptions.VaultDown:
            raise VaultSealed("Vault at %s is sealed (or in maintenance) while %s" % (self.url, action),
                              hint="Unseal it with the unseal key(s) (bao operator unseal)") from None
        except hvac_exceptions.InvalidPath as exc:
            text = _errors_text(exc)
            route = _ROUTE.search(text)
            if route:
                mount = "/".join(route.group(1).split("/")[:2 if route.group(1).startswith("auth/") else 1])
                enable = ("bao auth enable -path=%s approle" % mount[5:] if mount.startswith("auth/")
                          else "bao secrets enable -path=%s -version=2 kv" % mount)
                raise VaultMountMissing("nothing is mounted at %s/ on %s (while %s)" % (mount, self.url, action),
                                        hint="Check the mount option, or enable it there (%s)" % enable) from exc
            raise VaultNotFound("not found at %s while %s: %s" % (self.url, action, text)) from exc
        except hvac_exceptions.Forbidden as exc:
            raise VaultForbidden("permission denied while %s: %s" % (action, _errors_text(exc)),
                                 hint="Grant the token's policy the needed capabilities, or check the token, the "
                                      "mount and the path (Vault also denies paths where nothing is mounted)"
                                 ) from exc
        except hvac_exceptions.VaultError as exc:
            raise VaultError("Vault at %s refused %s: %s" % (self.url, action, _errors_text(exc))) from exc

    def request(self, method, path, action=None, **kwargs):
        """One call of the Vault HTTP API for engines this client has no method for (e.g. PKI):
        `method` GET, POST, PUT, DELETE or LIST on /v1/<path>, with the session's token; `kwargs`
        go to the request (json=...). Returns the JSON answer as a dict (None for 204 No Content);
        failures raise the VaultError subclasses of every other call, naming `action`."""
        func = getattr(self.hvac.adapter, method.lower(), None) if method.upper() in _METHODS else None
        if func is None:
            raise VaultError("unsupported HTTP method %r for Vault (use one of %s)" % (method, ", ".join(_METHODS)))
        return self._call(action or "%s %s" % (method.upper(), path), func, "/v1/%s" % path.lstrip("/"), **kwargs)

    def _get(self, path, action):
        """GET /v1/<path> as a dict; None when the path does not exist (404)."""
        try:
            return self._call(action, self.hvac.adapter.get, "/v1/%s" % path)
        except VaultNotFound:
            return None

    # --- session ---------------------------------------------------------------
    def health(self):
        """sys/health without a token: {initialized, sealed, standby, version, ...}; raises only when unreachable."""
        adapter = self.hvac.adapter
        namespace, adapter.namespace = adapter.namespace, None  # sys/health lives in the root namespace only
        try:
            response = self._call("reading sys/health", self.hvac.sys.read_health_status, method="GET")
        finally:
            adapter.namespace = namespace
        body = response
        if not isinstance(response, dict):
            try:
                body = response.json()
            except ValueError:
                body = None
        if not isinstance(body, dict) or "initialized" not in body:
            status = getattr(response, "status_code", 200)
            raise VaultUnreachable("%s/v1/sys/health answered HTTP %s without Vault health data" % (self.url, status),
                                   hint="Check that url points at Vault, not at a proxy or another service")
        return body

    def connect(self):
        """Authenticate once; raise VaultAuthError (wrong credentials) or a connection error."""
        if self.hvac.token:
            return self
        if self.auth_method == "token":
            if not self._token:
                raise VaultAuthError("no token given", hint="Set the token option or VAULT_TOKEN")
            self.hvac.token = self._token
            self.lookup_self()  # proves the token is valid
            return self
        if not self.role_id or not self._secret_id:
            raise VaultAuthError("AppRole login needs role_id and secret_id",
                                 hint="Set role_id/secret_id or VAULT_ROLE_ID/VAULT_SECRET_ID")
        try:
            self._call("logging in with AppRole at auth/%s" % self.approle_mount, self.hvac.auth.approle.login,
                       role_id=self.role_id, secret_id=self._secret_id, mount_point=self.approle_mount)
        except VaultError as exc:
            if isinstance(exc, ConnectionFailure):
                raise
            reason = _errors_text(exc.__cause__) if exc.__cause__ is not None else exc.message
            raise VaultAuthError(
                "AppRole login at %s/v1/auth/%s rejected: %s" % (self.url, self.approle_mount, reason),
                hint="Check role_id and secret_id (VAULT_ROLE_ID / VAULT_SECRET_ID); "
                     "a secret_id may have expired or used up its uses") from exc
        self._owns_token = True
        return self

    def lookup_self(self):
        """The token's own data (policies, ttl, display_name...)."""
        try:
            response = self._call("looking up the token", self.hvac.auth.token.lookup_self)
        except VaultForbidden:
            raise VaultAuthError("the token was rejected by %s (expired, revoked or wrong)" % self.url,
                                 hint="Give a valid token (VAULT_TOKEN) or log in with AppRole") from None
        except VaultNotFound as exc:
            if self.hvac.adapter.namespace and "namespace" in str(exc):
                raise VaultAuthError("namespace %s does not exist at %s" % (self.hvac.adapter.namespace, self.url),
                                     hint="Check the namespace option (VAULT_NAMESPACE)") from exc
            raise
        return response.get("data") or {}

    def close(self):
        """Revoke the token we obtained by logging in; never raises."""
        if self._owns_token:
            try:
                self.hvac.auth.token.revoke_self()
            except Exception:  # it expires by itself after its TTL
                pass
            self._owns_token = False
        self.hvac.token = ""

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc_info):
        self.close()

    # --- mounts ------------------------------------------------------------------
    def mount(self, path):
        """{type, version, path} of the secrets engine mounted at `path`, or None when absent.

        Reads the whole mount table (sys/mounts) when the token may; otherwise asks
        sys/internal/ui/mounts/<path>, which any token with access under the path can read.
        Raises VaultForbidden when neither is allowed.
        """
        path = path.strip("/")
        if self._mount_table is None:
            try:
                table = self._get("sys/mounts", "listing the secrets engines")
                self._mount_table = (table or {}).get("data") or table or {}
            except VaultForbidden:
                self._mount_table = False
        if self._mount_table is not False:
            entry = self._mount_table.get(path + "/")
            return _mount_facts(path, entry) if entry else None
        try:
            entry = self._get("sys/internal/ui/mounts/%s" % path, "reading mount %s/" % path)
        except VaultForbidden:
            raise VaultForbidden("mount %s/ is not visible to this token: it may not exist, or the token's policies "
                                 "grant nothing under %s/ and no read on sys/mounts" % (path, path),
                                 hint="Enable the mount, or add a policy with capabilities under %s/" % path) from None
        except VaultError as exc:
            if "no mount" in str(exc).lower():
                return None
            raise
        data = (entry or {}).get("data")
        return _mount_facts(path, data) if data and data.get("type") else None

    # --- KV v2 ---------------------------------------------------------------------
    def kv_read(self, mount, path):
        """{data, version, created_time, deleted, custom_metadata} of the newest version of `path`, or
        None when the path has no version at all. A deleted or destroyed newest version has data None."""
        try:
            response = self._call("reading %s/%s" % (mount, path), self.hvac.secrets.kv.v2.read_secret_version,
                                  path=path, mount_point=mount, raise_on_deleted_version=False)
        except VaultNotFound:
            return None
        body = (response or {}).get("data") or {}
        meta = body.get("metadata") or {}
        return {"data": body.get("data"), "version": meta.get("version") or 0,
                "created_time": meta.get("created_time"), "deleted": bool(meta.get("deletion_time")),
                "custom_metadata": meta.get("custom_metadata") or {}}

    def kv_write(self, mount, path, data, cas):
        """Write a new version with check-and-set: `cas` is the version we read (0: must not exist yet).
        Returns the new version; raises VaultCASConflict when someone wrote in between."""
        try:
            response = self._call("writing %s/%s" % (mount, path), self.hvac.secrets.kv.v2.create_or_update_secret,
                                  path=path, secret=data, cas=cas, mount_point=mount)
        except VaultError as exc:
            if "check-and-set" in str(exc):
                raise VaultCASConflict("%s/%s changed since it was read (expected version %d)" % (mount, path, cas),
                                       hint="Another run is writing the same secret; run again when it is done"
                                       ) from None
            raise
        return ((response or {}).get("data") or {}).get("version")

    def kv_list(self, mount, folder):
        """The keys directly under KV v2 folder `folder` (sub-folders end with '/'), or None when the
        folder does not exist (no secret at or below it)."""
        try:
            body = self.request("LIST", "%s/metadata/%s" % (mount, folder.strip("/")),
                                action="listing %s/%s/" % (mount, folder.strip("/")))
        except VaultNotFound:
            return None
        return ((body or {}).get("data") or {}).get("keys") or []

    def kv_metadata(self, mount, path):
        """{custom_metadata, current_version, versions} of `path`, or None when it does not exist."""
        try:
            response = self._call("reading the metadata of %s/%s" % (mount, path),
                                  self.hvac.secrets.kv.v2.read_secret_metadata, path=path, mount_point=mount)
        except VaultNotFound:
            return None
        return (response or {}).get("data")

    def kv_write_metadata(self, mount, path, custom_metadata):
        """Replace the custom metadata of `path` (string values)."""
        self._call("writing the metadata of %s/%s" % (mount, path), self.hvac.secrets.kv.v2.update_metadata,
                   path=path, mount_point=mount, custom_metadata=dict((k, str(v)) for k, v in custom_metadata.items()))

    def kv_destroy(self, mount, path):
        """Remove `path` with every version and its metadata (no undelete)."""
        self._call("removing %s/%s" % (mount, path), self.hvac.secrets.kv.v2.delete_metadata_and_all_versions,
                   path=path, mount_point=mount)

    # --- ACL policies and AppRoles ---------------------------------------------------
    def policy_read(self, name):
        """The HCL text of ACL policy `name`, or None when it does not exist."""
        body = self._get("sys/policies/acl/%s" % name, "reading policy %s" % name)
        return ((body or {}).get("data") or {}).get("policy")

    def policy_write(self, name, text):
        self._call("writing policy %s" % name, self.hvac.sys.create_or_update_acl_policy, name=name, policy=text)

    def policy_delete(self, name):
        self._call("removing policy %s" % name, self.hvac.sys.delete_acl_policy, name=name)

    def approle_read(self, name):
        """The settings of AppRole role `name` (TTLs in seconds), or None when it does not exist."""
        body = self._get("auth/%s/role/%s" % (self.approle_mount, name), "reading AppRole %s" % name)
        return (body or {}).get("data")

    def approle_write(self, name, settings):
        self._call("writing AppRole %s" % name, self.hvac.auth.approle.create_or_update_approle, role_name=name,
                   mount_point=self.approle_mount, **settings)

    def approle_delete(self, name):
        self._call("removing AppRole %s" % name, self.hvac.auth.approle.delete_role, role_name=name,
                   mount_point=self.approle_mount)

    def approle_role_id(self, name):
        body = self._call("reading the role_id of AppRole %s" % name, self.hvac.auth.approle.read_role_id,
                          role_name=name, mount_point=self.approle_mount)
        return ((body or {}).get("data") or {}).get("role_id")


def _mount_facts(path, entry):
    options = entry.get("options") or {}
    return {"path": path + "/", "type": entry.get("type"), "version": options.get("version")}


def mount_matches(facts, expected):
    """True when mount facts match an expected type: `kv-v2`, `kv-v1`, `kv` (any version), `pki`..."""
    kind, _sep, version = expected.partition("-v")
    if facts["type"] != kind:
        return False
    if kind == "kv" and version:
        return (facts.get("version") or "1") == version
    return True


def describe_mount(facts):
    if facts["type"] == "kv":
        return "kv v%s" % (facts.get("version") or "1")
    return facts["type"]


def _errors_text(exc):
    errors = getattr(exc, "errors", None)
    text = "; ".join(str(e) for e in errors) if errors else str(exc)
    return text.split(", on ", maxsplit=1)[0]


# --- health: what vault_health reports (kept here so plugins can report the same) ------------
def server_checks(client, report):
    """reachable, tls, initialised, unsealed from sys/health; True when login may follow."""
    try:
        health = client.health()
    except VaultError as exc:
        if exc.check == "tls":
            report.add("reachable", True, "%s accepts connections" % client.url)
        report.add(exc.check, False, str(exc))
        return False
    report.facts.update(version=health.get("version"), cluster_name=health.get("cluster_name"))
    report.add("reachable", True, "%s answers (version %s)" % (client.url, health.get("version")))
    if client.url.startswith("https://"):
        report.add("tls", True, "certificate verified" if client.validate_certs
                   else "TLS without certificate validation (validate_certs=false)")
    if not health.get("initialized"):
        report.add("initialised", False, "Vault at %s is not initialised; initialise it "
                   "(bao operator init) and unseal it" % client.url)
        return False
    report.add("initialised", True, "initialised")
    if health.get("sealed"):
        report.add("unsealed", False, "Vault at %s is sealed; unseal it with the unseal "
                   "key(s) (bao operator unseal)" % client.url)
        return False
    role = "standby" if health.get("standby") else "active"
    report.add("unsealed", True, "unsealed, %s" % role)
    return True


def auth_check(client, result):
    client.connect()
    data = client.lookup_self()
    policies = sorted(set((data.get("policies") or []) + (data.get("identity_policies") or [])))
    result["token"] = dict(display_name=data.get("display_name"), policies=policies, ttl=data.get("ttl"),
                           renewable=data.get("renewable"), expire_time=data.get("expire_time"))
    ttl = data.get("ttl") or 0
    lifetime = "TTL %dm%02ds" % (ttl // 60, ttl % 60) if ttl else "no expiry"
    return check("auth", True, "%s login ok as %s; policies %s; %s" % (
        client.auth_method, data.get("display_name"), ", ".join(policies) or "none", lifetime))


def mount_problem(path, kind, facts):
    """What is wrong with mount `path` expected as `kind` (facts None: absent), or None when it matches."""
    if facts is None:
        engine, _sep, version = kind.partition("-v")
        return "mount %s/ not found; enable it (bao secrets enable -path=%s%s %s)" % (
            path.strip("/"), path.strip("/"), " -version=" + version if version else "", engine)
    if not mount_matches(facts, kind):
        return "mount %s is %s, expected %s; remount it or fix the expected type" % (
            facts["path"], describe_mount(facts), kind)
    return None


def mount_check(client, expected, result):
    found, problems = {}, []
    for path, kind in sorted(expected.items()):
        try:
            facts = client.mount(path)
        except VaultError as exc:
            problems.append(str(exc))
            continue
        if facts is not None:
            found[facts["path"]] = describe_mount(facts)
        problem = mount_problem(path, kind, facts)
        if problem:
            problems.append(problem)
    result["mounts"] = found
    if problems:
        return check("mounts", False, "; ".join(problems))
    text = ", ".join("%s %s" % item for item in sorted(found.items()))
    return check("mounts", True, text or "none expected")


def health_report(client, mounts=None):
    """{healthy, checks, version, token, mounts} for a not yet logged-in client; never raises
    VaultError (a failed step is a failed check). One login, its token revoked at the end."""
    report = HealthReport()
    try:
        if server_checks(client, report):
            report.checks.append(auth_check(client, report.facts))
            report.checks.append(mount_check(client, mounts or {}, report.facts))
    except VaultError as exc:
        report.add(exc.check if exc.check != "permission" else "auth", False, str(exc))
    finally:
        client.close()
    return report.as_dict()
