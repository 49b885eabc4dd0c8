# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACME (RFC 8555) client over the `acme` library: directory, nonces, and later accounts and orders.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

ACMEClient owns one acme.client.ClientNetwork (one HTTPS session with the CA bundle)
and builds acme.client.ClientV2 on the directory once it is read. Without an account
key it can only read (directory, nonces); give `account_key` (a josepy JWK) to POST,
then use `acme` (the ClientV2) for new_account / new_order / poll_and_finalize.
Every transport or protocol failure leaves through `call`, which turns it into one
ACMEError naming the URL and what to fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import traceback

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import (
    ConnectionFailure,
    MissingLibrary,
    ValidationError,
)
from ansible_collections.esa.s2p.plugins.module_utils.core.health import HealthReport

try:
    import requests
    from acme import client as acme_client
    from acme import errors as acme_errors
    from acme import messages as acme_messages
    import josepy
except ImportError:
    HAS_ACME = False
    ACME_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_ACME = True
    ACME_IMPORT_ERROR = None

# Resources every RFC 8555 directory has (section 7.1.1) and that issuing needs.
REQUIRED_RESOURCES = ("newNonce", "newAccount", "newOrder")
USER_AGENT = "esa.s2p"


class ACMEError(ConnectionFailure):
    """The ACME server could not be reached, was not trusted, or answered with an error."""

    def __init__(self, message, obj=None, hint=None, problem=None):
        super(ACMEError, self).__init__(message, obj=obj, hint=hint)
        self.problem = problem  # the RFC 7807 problem type, when the server sent one


class ACMETLSError(ACMEError):
    """The TLS handshake failed: untrusted CA, wrong host name, or not TLS at all."""


class ACMEClient:
    """One ACME CA, reached through its directory URL."""

    def __init__(self, acme_directory, ca_path=None, validate_certs=True, timeout=30, account_key=None):
        if not HAS_ACME:
            raise MissingLibrary("acme", ACME_IMPORT_ERROR)
        if not acme_directory or not acme_directory.startswith(("https://", "http://")):
            raise ValidationError(["acme_directory must be an https:// (or http://) URL, got %r" % (acme_directory,)])
        if ca_path and not os.path.exists(ca_path):
            raise ValidationError(["ca_path %s does not exist" % ca_path])
        self.directory_url = acme_directory
        self.ca_path = ca_path
        verify = (ca_path or True) if validate_certs else False
        self.net = acme_client.ClientNetwork(key=account_key, alg=_signature_alg(account_key),
                                             verify_ssl=verify, user_agent=USER_AGENT, timeout=timeout)
        self._directory = None
        self._acme = None

    # --- the one error path -------------------------------------------------------
    def call(self, what, url, func, *args, **kwargs):
        """Run func(*args, **kwargs); every failure becomes an ACMEError naming `what` and `url`."""
        try:
            return func(*args, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise ACMETLSError("TLS verification of %s failed: %s" % (url, _root_cause(exc)), obj=what,
                               hint="Set ca_path (ACME_CA_PATH) to the CA bundle that signed the ACME server's "
                                    "certificate" if self.ca_path is None else
                                    "The server's certificate is not signed by ca_path %s, or its name does not "
                                    "match the URL" % self.ca_path) from exc
        except requests.exceptions.ConnectTimeout:
            raise ACMEError("no connection to %s within %ss" % (url, self.net._default_timeout), obj=what,
                            hint="Check the host and port of acme_directory and any firewall in between") from None
        except requests.exceptions.ConnectionError as exc:
            raise ACMEError("cannot connect to %s: %s" % (url, _root_cause(exc)), obj=what,
                            hint="Check that the ACME server runs and that acme_directory has the right host "
                                 "and port") from exc
        except requests.exceptions.Timeout:
            raise ACMEError("no answer from %s within %ss" % (url, self.net._default_timeout), obj=what) from None
        except requests.exceptions.RequestException as exc:
            raise ACMEError("request to %s failed: %s" % (url, exc), obj=what) from exc
        except acme_messages.Error as exc:
            raise ACMEError("%s answered with an ACME error: %s" % (url, exc), obj=what, problem=exc.typ) from exc
        except acme_errors.ClientError as exc:
            raise ACMEError("unexpected answer from %s: %s" % (url, _describe_client_error(exc)), obj=what,
                            hint="Check that acme_directory is the URL of an ACME v2 directory") from exc
        except acme_errors.Error as exc:
            raise ACMEError("%s: %s" % (url, exc), obj=what) from exc
        except (ValueError, KeyError, TypeError, AttributeError, josepy.errors.DeserializationError) as exc:
            raise ACMEError("%s did not answer with an ACME directory: %s" % (url, exc), obj=what,
                            hint="Check that acme_directory is the URL of an ACME v2 directory") from exc

    # --- reading ------------------------------------------------------------------------
    def directory(self):
        """The CA's directory (acme.messages.Directory), read once per client."""
        if self._directory is None:
            self._directory = self.call("ACME directory", self.directory_url,
                                        acme_client.ClientV2.get_directory, self.directory_url, self.net)
        return self._directory

    def missing_resources(self):
        """Names of REQUIRED_RESOURCES the directory lacks (an empty list when complete)."""
        directory = self.directory()
        return [name for name in REQUIRED_RESOURCES if not _has(directory, name)]

    def new_nonce(self):
        """A fresh anti-replay nonce from newNonce (HEAD, RFC 8555 section 7.2), as the server sent it."""
        url = self.directory()["newNonce"]

        def fetch():
            response = self.net._check_response(self.net.head(url), content_type=None)
            nonce = response.headers.get(self.net.REPLAY_NONCE_HEADER)
            if not nonce:
                raise acme_errors.MissingNonce(response)
            return nonce
        return self.call("ACME newNonce", url, fetch)

    def facts(self):
        """What the directory says about the CA: its URL, resource URLs and meta (terms of service...)."""
        body = self.directory().to_partial_json()
        meta = body.pop("meta", None)
        meta = meta.to_partial_json() if hasattr(meta, "to_partial_json") else (meta or {})
        return {"directory_url": self.directory_url,
                "resources": dict((k, v) for k, v in body.items() if isinstance(v, str)),
                "meta": dict(meta)}

    # --- issuing (needs an account key) -------------------------------------------------
    @property
    def acme(self):
        """acme.client.ClientV2 on this directory and network (POSTs need account_key)."""
        if self._acme is None:
            self._acme = acme_client.ClientV2(self.directory(), self.net)
        return self._acme


def health_report(client):
    """{healthy, checks, directory_url, resources, meta}. Without the directory nothing else can be
    checked (and resources/meta are absent)."""
    report = HealthReport(directory_url=client.directory_url)
    try:
        facts = client.facts()
    except ACMEError as exc:
        report.add("directory reachable", False, str(exc))
        return report.as_dict()
    report.facts.update(resources=facts["resources"], meta=facts["meta"])
    report.add("directory reachable", True, "read %s" % client.directory_url)
    missing = client.missing_resources()
    if missing:
        msg = "%s lacks %s: it is not an RFC 8555 (ACME v2) directory; check acme_directory" % (
            client.directory_url, ", ".join(missing))
    else:
        msg = "has %s" % ", ".join(REQUIRED_RESOURCES)
    report.add("directory resources", not missing, msg)
    if "newNonce" not in missing:
        try:
            client.new_nonce()
        except ACMEError as exc:
            report.add("newNonce answers", False, str(exc))
        else:
            report.add("newNonce answers", True, "got a fresh nonce from %s" % facts["resources"]["newNonce"])
    return report.as_dict()


def _has(directory, name):
    try:
        return bool(directory[name])
    except KeyError:
        return False


def _signature_alg(account_key):
    """The JWS algorithm matching the account key (RS256 for RSA, ES256/384/512 for EC keys)."""
    if account_key is None or not isinstance(account_key, josepy.JWKEC):
        return josepy.RS256
    size = account_key.key.curve.key_size
    return {256: josepy.ES256, 384: josepy.ES384, 521: josepy.ES512}[size]


def _root_cause(exc):
    """The innermost reason of a requests/urllib3 error chain, short enough for one line."""
    seen = exc
    for _depth in range(10):
        inner = seen.__cause__ or getattr(seen, "reason", None)
        if inner is None and seen.args and isinstance(seen.args[-1], BaseException):
            inner = seen.args[-1]
        if not isinstance(inner, BaseException) or inner is seen:
            break
        seen = inner
    if isinstance(seen, OSError) and seen.strerror and not str(seen).startswith("<"):
        return seen.strerror
    return str(seen)


def _describe_client_error(exc):
    arg = exc.args[0] if exc.args else exc
    if isinstance(arg, tuple) and arg and isinstance(arg[0], requests.Response):
        arg = arg[0]
    if isinstance(arg, requests.Response):
        return "HTTP %d %s" % (arg.status_code, arg.reason)
    return str(arg)
