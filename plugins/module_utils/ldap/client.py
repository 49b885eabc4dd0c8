# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An ldap3 client for the S2P directory that knows nothing of Ansible.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

connect() runs three explicit steps so that no credential ever leaves the host
over an unverified channel: open the socket (LDAPS: TLS handshake with certificate
and host-name checks), StartTLS when asked, then check that the socket really is
TLS and only then send the bind. A wrong CA or host name therefore fails before
the BIND request is written. Every failure is raised as an LDAPError subclass
whose message names the server or DN and says what to do.
health_report() runs the checks of ldap_health (a failed step is a failed check, not an
exception) so modules and plugins report the same.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os
import ssl
import traceback

try:
    from urllib.parse import urlsplit
except ImportError:  # Python 2, which the collection does not support, but sanity imports it
    from urlparse import urlsplit

try:
    import ldap3
    from ldap3.core import exceptions as ldap3_exceptions
except ImportError:
    LDAP3_IMPORT_ERROR = traceback.format_exc()
    ldap3 = ldap3_exceptions = None
else:
    LDAP3_IMPORT_ERROR = None

from ansible_collections.esa.s2p.plugins.module_utils.core import tls
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import (
    ConnectionFailure,
    MissingLibrary,
    S2PError,
)
from ansible_collections.esa.s2p.plugins.module_utils.core.health import HealthReport, check

SCOPES = {"base": "BASE", "one": "LEVEL", "subtree": "SUBTREE"}
# LDAP transactions (RFC 5805): start and end extended operations, and the control on each update.
TXN_START, TXN_END, TXN_SPECIFICATION = "1.3.6.1.1.21.1", "1.3.6.1.1.21.3", "1.3.6.1.1.21.2"


def _ber_length(size):
    if size < 0x80:
        return bytes(bytearray([size]))
    octets = []
    while size:
        octets.insert(0, size & 0xFF)
        size >>= 8
    return bytes(bytearray([0x80 | len(octets)] + octets))


def _modify_request(changes):
    """ldap3's modify request of `changes`: {attribute: (operation, [values])}, operation one of
    add, delete, replace."""
    operations = {"add": ldap3.MODIFY_ADD, "delete": ldap3.MODIFY_DELETE, "replace": ldap3.MODIFY_REPLACE}
    return dict((name, [(operations[op], list(values))]) for name, (op, values) in changes.items())


def _txn_end_value(identifier, commit=True):
    """BER of txnEndReq ::= SEQUENCE { commit BOOLEAN DEFAULT TRUE, identifier OCTET STRING }."""
    body = (b"" if commit else b"\x01\x01\x00") + b"\x04" + _ber_length(len(identifier)) + identifier
    return b"\x30" + _ber_length(len(body)) + body


class LDAPError(S2PError):
    """An LDAP step failed. `check` names the health check it belongs to; `result` is the LDAP result."""

    check = "api"

    def __init__(self, message, obj=None, hint=None, result=None):
        super(LDAPError, self).__init__(message, obj=obj, hint=hint)
        self.result = result


class LDAPUnreachable(LDAPError, ConnectionFailure):
    check = "reachable"


class LDAPTLSError(LDAPError, ConnectionFailure):
    check = "tls"


class LDAPBindError(LDAPError, ConnectionFailure):
    check = "bind"


class LDAPForbidden(LDAPError):
    check = "permission"


# The wording of TLS failures that names LDAP's own options (see tls.DEFAULT_WORDING).
TLS_WORDING = {
    tls.MISMATCH: ("the server certificate does not match the host name in server_uri",
                   "Use a host name listed in the certificate's subjectAltName"),
    tls.UNTRUSTED: ("the server certificate is not trusted by {trust}",
                    "Set ca_path to the CA that signed the directory's certificate"),
    tls.NOT_TLS: ("TLS handshake failed ({text})", "Check that the port serves LDAPS, or use ldap:// with start_tls"),
}


class LDAPClient:
    """One TLS-protected, bound connection to the directory."""

    def __init__(self, server_uri, bind_dn=None, bind_pw=None, start_tls=False, validate_certs=True,
                 ca_path=None, timeout=10):
        if LDAP3_IMPORT_ERROR:
            raise MissingLibrary("ldap3", LDAP3_IMPORT_ERROR)
        parts = urlsplit(server_uri or "")
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise LDAPError("server_uri %r is not an ldap:// or ldaps:// URI with a host" % server_uri,
                            hint="For example ldaps://ldap.s2p.esa.int:636")
        if parts.scheme == "ldaps" and start_tls:
            raise LDAPError("start_tls cannot be used with ldaps:// (%s)" % server_uri,
                            hint="Use ldaps:// alone, or ldap:// with start_tls=true")
        if parts.scheme == "ldap" and not start_tls:
            raise LDAPError("%s without start_tls would send the bind password in clear text" % server_uri,
                            hint="Use ldaps://, or set start_tls=true")
        self.server_uri = server_uri
        self.host = parts.hostname
        self.port = parts.port or (636 if parts.scheme == "ldaps" else 389)
        self.use_ssl = parts.scheme == "ldaps"
        self.bind_dn = bind_dn
        self._bind_pw = bind_pw
        self.start_tls = start_tls
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.conn = None

    def clone(self):
        """A new client with the same options, not yet connected (for one more worker connection)."""
        return LDAPClient(self.server_uri, self.bind_dn, self._bind_pw, self.start_tls, self.validate_certs,
                          self.ca_path, self.timeout)

    @property
    def endpoint(self):
        return "%s:%s" % (self.host, self.port)

    # --- session -------------------------------------------------------------
    def connect(self):
        """Open, secure, then bind; raise LDAPUnreachable / LDAPTLSError / LDAPBindError."""
        if self.conn is not None:
            return self
        if self.validate_certs and self.ca_path and not os.path.exists(self.ca_path):
            raise LDAPTLSError("CA file %s does not exist" % self.ca_path,
                               hint="Set ca_path to the PEM file of the CA that signed the directory's certificate")
        conn = ldap3.Connection(
            self._server(), user=self.bind_dn, password=self._bind_pw, auto_bind=ldap3.AUTO_BIND_NONE,
            raise_exceptions=False, receive_timeout=self.timeout, read_only=False)
        try:
            self._open(conn)
            self._secure(conn)
            self._bind(conn)
        except LDAPError:
            self._close(conn)
            raise
        self.conn = conn
        return self

    def close(self):
        if self.conn is not None:
            self._close(self.conn)
            self.conn = None

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc_info):
        self.close()

    def _server(self):
        tls_options = dict(validate=ssl.CERT_REQUIRED if self.validate_certs else ssl.CERT_NONE)
        if self.validate_certs and self.ca_path:
            tls_options["ca_certs_path" if os.path.isdir(self.ca_path) else "ca_certs_file"] = self.ca_path
        if not _is_ip(self.host):
            tls_options["sni"] = self.host
        return ldap3.Server(self.host, port=self.port, use_ssl=self.use_ssl, tls=ldap3.Tls(**tls_options),
                            get_info=ldap3.NONE, connect_timeout=self.timeout)

    def _open(self, conn):
        try:
            conn.open(read_server_info=False)
        except ldap3_exceptions.LDAPException as exc:
            raise self._open_error(exc) from exc

    def _open_error(self, exc):
        causes = [exc] + [item[0] for item in (exc.args[1] if len(exc.args) > 1 else []) if isinstance(item, tuple)]
        text = "; ".join(_exception_text(c) for c in causes)
        if any(isinstance(c, (ssl.SSLError, ldap3_exceptions.LDAPCertificateError)) for c in causes) \
                or "wrapping error" in text or "CERTIFICATE_VERIFY_FAILED" in text:
            reason, hint = tls.tls_failure_reason(text, self.ca_path, TLS_WORDING)
            return LDAPTLSError("TLS to %s failed: %s" % (self.endpoint, reason), hint=hint)
        reason = "connection refused" if "refused" in text.lower() else text
        return LDAPUnreachable("cannot reach LDAP server %s (%s)" % (self.endpoint, reason),
                               hint="Check server_uri and that the directory is running and reachable from this host")

    def _secure(self, conn):
        if self.start_tls:
            try:
                started = conn.start_tls(read_server_info=False)
            except ldap3_exceptions.LDAPException as exc:
                reason, hint = tls.tls_failure_reason(str(exc), self.ca_path, TLS_WORDING)
                raise LDAPTLSError("StartTLS with %s failed: %s" % (self.endpoint, reason), hint=hint) from exc
            if not started:
                raise LDAPTLSError("StartTLS with %s was refused (%s)" % (
                    self.endpoint, conn.last_error or conn.result), hint="Enable TLS on the server or use ldaps://")
        if not isinstance(conn.socket, ssl.SSLSocket):  # never bind over a clear channel
            raise LDAPTLSError("the connection to %s is not protected by TLS" % self.endpoint,
                               hint="Use ldaps:// or start_tls=true")

    def _bind(self, conn):
        if not self.bind_dn:
            return  # anonymous: the server decides what is visible
        try:
            bound = conn.bind(read_server_info=False)
        except ldap3_exceptions.LDAPException as exc:
            raise LDAPUnreachable("bind to %s failed: %s" % (self.endpoint, exc), obj=self.bind_dn) from exc
        if not bound:
            result = conn.result or {}
            if result.get("description") == "invalidCredentials":
                raise LDAPBindError("bind as %s at %s rejected: wrong password, unknown DN or locked account"
                                    % (self.bind_dn, self.endpoint), result=result,
                                    hint="Check bind_dn and bind_pw (LDAPBINDDN / LDAPBINDPW)")
            raise LDAPBindError("bind as %s at %s failed: %s %s" % (
                self.bind_dn, self.endpoint, result.get("description"), result.get("message") or ""),
                result=result)

    @staticmethod
    def _close(conn):
        try:
            conn.unbind()
        except Exception:  # closing a broken socket is not worth a failure
            pass

    # --- facts and reads ------------------------------------------------------
    def tls_info(self):
        sock = self.conn.socket
        cipher = sock.cipher() or (None, None, None)
        return {"version": sock.version(), "cipher": cipher[0],
                "method": "StartTLS" if self.start_tls else "LDAPS", "validated": bool(self.validate_certs)}

    def whoami(self):
        """The authorization identity the server sees (RFC 4532), for example V(dn:cn=admin,...)."""
        return self.conn.extend.standard.who_am_i()

    def search(self, base, ldap_filter="(objectClass=*)", scope="subtree", attributes=None):
        """[(dn, {attr: [values]})] of the entries found; [] when `base` does not exist."""
        if self.conn is None:
            raise LDAPError("not connected", hint="Call connect() first")
        ok = self.conn.search(base, ldap_filter, search_scope=getattr(ldap3, SCOPES[scope]),
                              attributes=attributes or [ldap3.ALL_ATTRIBUTES])
        result = self.conn.result or {}
        if not ok and result.get("description") not in ("success", "noSuchObject"):
            raise self._result_error(result, "searching %s" % ldap_filter, base)
        return [(entry["dn"], dict(entry["attributes"])) for entry in self.conn.response or []
                if entry.get("type") == "searchResEntry"]

    def read_entry(self, dn, attributes=None):
        """The attributes of `dn`, or None when it does not exist (or is hidden by ACLs)."""
        found = self.search(dn, scope="base", attributes=attributes)
        return found[0][1] if found else None

    # --- writes (every DN comes from model/naming, every filter value through escape_filter_value) ----
    def _require(self):
        if self.conn is None:
            raise LDAPError("not connected", hint="Call connect() first")
        return self.conn

    def _write(self, action, dn, call, *args, **kwargs):
        conn = self._require()
        try:
            ok = call(*args, **kwargs)
        except ldap3_exceptions.LDAPException as exc:
            raise LDAPUnreachable("%s failed on %s: %s" % (action, self.endpoint, _exception_text(exc)),
                                  obj=dn) from exc
        if not ok:
            raise self._result_error(conn.result or {}, action, dn)

    def add(self, dn, attributes):
        """Create `dn` with `attributes` ({name: [values]}, objectClass included)."""
        self._write("adding the entry", dn, self._require().add, dn, attributes=attributes)

    def modify(self, dn, changes):
        """Apply `changes`: {attribute: (operation, [values])}, operation one of add, delete, replace."""
        self._write("modifying %s" % ", ".join(sorted(changes)), dn, self._require().modify, dn,
                    _modify_request(changes))

    def delete(self, dn):
        self._write("deleting the entry", dn, self._require().delete, dn)

    def set_password(self, dn, password):
        """Set the password of `dn` with the Password Modify extended operation (RFC 3062), so the
        server hashes it and applies its password policy; the password is never in an error."""
        conn = self._require()
        try:
            conn.extend.standard.modify_password(user=dn, new_password=password)
        except ldap3_exceptions.LDAPException as exc:
            raise LDAPUnreachable("setting the password failed on %s: %s" % (
                self.endpoint, type(exc).__name__), obj=dn) from None
        result = conn.result or {}
        if result.get("description") != "success":
            raise self._result_error(result, "setting the password (Password Modify)", dn)

    def write_in_transaction(self, ops):
        """Run `ops` ([("add", dn, attributes) or ("modify", dn, changes)]) as ONE LDAP transaction
        (RFC 5805): the server commits them together (one database commit instead of one each), or
        none. Returns True when committed; False when nothing was written (no transaction support,
        or any operation or the commit refused), so the caller writes them one by one instead, with
        the per-entry errors of add() and modify()."""
        conn = self._require()
        try:
            conn.extended(TXN_START)
            if (conn.result or {}).get("description") != "success":
                return False
            identifier = (conn.result or {}).get("responseValue") or b""
            control = [(TXN_SPECIFICATION, True, identifier)]
            accepted = True
            for kind, dn, payload in ops:
                if kind == "add":
                    accepted = conn.add(dn, attributes=payload, controls=control)
                else:
                    accepted = conn.modify(dn, _modify_request(payload), controls=control)
                if not accepted:
                    break
            conn.extended(TXN_END, _txn_end_value(identifier, commit=bool(accepted)))
            return bool(accepted) and (conn.result or {}).get("description") == "success"
        except ldap3_exceptions.LDAPException as exc:
            raise LDAPUnreachable("an LDAP transaction failed on %s: %s" % (self.endpoint, _exception_text(exc)),
                                  hint="Nothing of it was committed; run again") from exc

    def _result_error(self, result, action, dn):
        description = result.get("description")
        if description in ("insufficientAccessRights", "strongerAuthRequired", "confidentialityRequired"):
            return LDAPForbidden("%s is not allowed to %s (%s)" % (self.bind_dn or "anonymous", action, description),
                                 obj=dn, result=result, hint="Grant the bind DN read access in the directory's ACLs")
        if description in ("busy", "unavailable", "unwillingToPerform"):
            return LDAPUnreachable("%s refused %s: %s" % (self.endpoint, action, description), obj=dn, result=result)
        hint = RESULT_HINTS.get(description)
        return LDAPError("%s failed: %s %s" % (action, description, result.get("message") or ""), obj=dn,
                         result=result, hint=hint)


# What to do about the LDAP results a write can end with.
RESULT_HINTS = {
    "entryAlreadyExists": "Another entry has this DN; remove it or choose another name",
    "noSuchObject": "The parent entry (ou=...) does not exist; create it or fix base_dn",
    "objectClassViolation": "Give the attributes the object classes require (cn and sn for inetOrgPerson), "
                            "or fix object_classes",
    "undefinedAttributeType": "The directory's schema has no such attribute; fix the attribute name",
    "invalidAttributeSyntax": "A value does not match the attribute's syntax; fix the value",
    "constraintViolation": "The directory's password policy or a schema constraint refused the value "
                           "(for example a password shorter than pwdMinLength)",
    "notAllowedOnNonLeaf": "The entry has children; remove them first",
}


def escape_filter_value(value):
    """Escape an assertion value for an LDAP filter (RFC 4515 section 3): * ( ) \\ and NUL
    become \\2a \\28 \\29 \\5c \\00; everything else is kept (UTF-8 is valid in filters)."""
    return "".join(_FILTER_ESCAPES.get(char, char) for char in value)


_FILTER_ESCAPES = {"*": "\\2a", "(": "\\28", ")": "\\29", "\\": "\\5c", "\x00": "\\00"}


def equality_filter(attribute, values):
    """(attr=v) or (|(attr=v1)(attr=v2)...) with every value escaped; `attribute` is ours, never input."""
    parts = ["(%s=%s)" % (attribute, escape_filter_value(v)) for v in values]
    return parts[0] if len(parts) == 1 else "(|%s)" % "".join(parts)


def _exception_text(exc):
    """The innermost message of an ldap3 exception (it nests the socket error's args)."""
    text = exc
    while isinstance(text, BaseException) or (isinstance(text, tuple) and text):
        text = text.args[0] if isinstance(text, BaseException) and text.args else (
            text[0] if isinstance(text, tuple) else str(text))
    text = str(text)
    while text.startswith("(") and text.endswith(",)"):  # ldap3 re-wraps str(args) at every level
        try:
            text = str(ast.literal_eval(text)[0])
        except (ValueError, SyntaxError, IndexError):
            break
    for prefix in ("socket ssl wrapping error: ", "socket connection error while opening: "):
        text = text.replace(prefix, "")
    return text


def _is_ip(host):
    return all(part.isdigit() for part in host.split(".")) or ":" in host


# --- health: what ldap_health reports (kept here so plugins can report the same) -------------
CONNECT_STEPS = ("reachable", "tls", "bind")


def connection_checks(client, error=None, tls_version=None):
    """The connection steps up to the one that failed (all passed when error is None)."""
    if error is not None and error.check not in CONNECT_STEPS:
        return [check(error.check, False, str(error))]
    passed = {
        "reachable": "%s answers" % client.endpoint,
        "tls": " ".join(filter(None, ["StartTLS" if client.start_tls else "LDAPS", tls_version])) + (
            ", certificate verified" if client.validate_certs else " without certificate validation"),
        "bind": "bound as %s" % (client.bind_dn or "anonymous"),
    }
    checks = []
    for step in CONNECT_STEPS:
        if error is not None and step == error.check:
            checks.append(check(step, False, str(error)))
            return checks
        checks.append(check(step, True, passed[step]))
    return checks


def full_dn(entry, base_dn):
    """`entry` as a DN: relative ones (ou=people) are taken under base_dn."""
    return entry if entry.lower().endswith(base_dn.lower()) else "%s,%s" % (entry, base_dn)


def directory_checks(client, base_dn, required):
    if client.read_entry(base_dn, attributes=["objectClass"]) is None:
        return [check("base", False, "base entry %s not found or not readable by %s; create it or fix "
                      "base_dn / the bind DN's ACLs" % (base_dn, client.bind_dn or "anonymous"))]
    checks = [check("base", True, "%s readable" % base_dn)]
    if required:
        missing = [dn for dn in (full_dn(entry, base_dn) for entry in required)
                   if client.read_entry(dn, attributes=["objectClass"]) is None]
        if missing:
            checks.append(check("entries", False, "missing entries: %s; create them (the directory's "
                                "seed LDIF) or fix required_entries" % "; ".join(missing)))
        else:
            checks.append(check("entries", True, "present: %s" % ", ".join(required)))
    return checks


def health_report(client, base_dn, required_entries=()):
    """{healthy, checks, tls, identity} for a not yet connected client; never raises LDAPError
    (a failed step is a failed check). One connection, closed at the end."""
    report = HealthReport()
    try:
        client.connect()
    except LDAPError as exc:
        report.extend(connection_checks(client, exc))
        return report.as_dict()
    try:
        report.facts["tls"] = client.tls_info()
        report.extend(connection_checks(client, tls_version=report.facts["tls"]["version"]))
        report.facts["identity"] = client.whoami()
        report.extend(directory_checks(client, base_dn, required_entries))
    except LDAPError as exc:
        report.add(exc.check, False, str(exc))
    finally:
        client.close()
    return report.as_dict()
