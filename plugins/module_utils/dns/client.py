# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNS client for the zones' primary server: TSIG-signed queries and messages over dnspython.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Every message goes straight to the configured server (the zone's primary), never to
a resolver or cache, so answers reflect what the primary holds. `send` is the one
place that signs, transports (UDP, TCP on truncation or on request) and turns every
failure into one DNSError with a message naming the server and what to fix;
queries, RFC 2136 updates and transfers all go through it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import contextlib
import socket
import traceback

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import (
    ConnectionFailure,
    MissingLibrary,
    ValidationError,
)
from ansible_collections.esa.s2p.plugins.module_utils.core.health import HealthReport

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype
    import dns.tsig
    import dns.update
    import dns.xfr
except ImportError:
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None

# Names accepted for key_algorithm (BIND's spelling, as in `tsig-keygen -a`).
TSIG_ALGORITHMS = ("hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1", "hmac-md5")


class DNSError(ConnectionFailure):
    """The DNS server could not be reached, or did not accept or answer the request."""

    def __init__(self, message, obj=None, hint=None, rcode=None):
        super(DNSError, self).__init__(message, obj=obj, hint=hint)
        self.rcode = rcode


class DNSTimeout(DNSError):
    """No answer within the timeout (server down, wrong port, or a firewall dropping packets)."""


class TSIGError(DNSError):
    """The server rejected our TSIG key, or its answer failed our verification.

    `tsig_error` is BADKEY, BADSIG, BADTIME, BADTRUNC or, when our own check of the
    server's signature failed, LOCAL_BADSIG / UNSIGNED.
    """

    def __init__(self, message, tsig_error, obj=None, hint=None):
        super(TSIGError, self).__init__(message, obj=obj, hint=hint, rcode="NOTAUTH")
        self.tsig_error = tsig_error


class ZoneNotServed(DNSError):
    """The server answered but is not authoritative for the zone (or the name is no zone apex)."""


class ConcurrentChange(DNSError):
    """An UPDATE's prerequisites failed: the records changed on the server after we read them.

    `applied` lists what earlier messages of the same batch (a split one) did apply.
    """

    applied = ()

    def as_fail_kwargs(self):
        return {"msg": str(self), "changed": bool(self.applied)}


# Rcodes of an UPDATE whose prerequisites (RFC 2136 section 3.2) did not hold.
PREREQUISITE_RCODES = ("YXDOMAIN", "YXRRSET", "NXRRSET", "NXDOMAIN")


# What each error rcode means for the engineer, per rcode (the request is named in front).
_RCODE_HINTS = {
    "REFUSED": ("refused by the server (REFUSED)",
                "The server does not serve this zone, or its ACL (allow-query, allow-update, "
                "update-policy) does not allow this client or key"),
    "SERVFAIL": ("failed on the server (SERVFAIL)",
                 "The zone is probably not loaded (bad zone file or journal); see the server's log"),
    "NXDOMAIN": ("name does not exist on the server (NXDOMAIN)", None),
    "NOTAUTH": ("not authorised (NOTAUTH)",
                "The server is not authoritative for this zone, or did not accept the TSIG key"),
    "NOTZONE": ("names a record outside the zone (NOTZONE)",
                "Every record of an update must be inside the zone it is sent to"),
    "FORMERR": ("rejected as malformed (FORMERR)", None),
    "NOTIMP": ("not implemented by the server (NOTIMP)", None),
    "YXDOMAIN": ("prerequisite failed: a name exists that should not (YXDOMAIN)", None),
    "YXRRSET": ("prerequisite failed: a record set exists that should not (YXRRSET)", None),
    "NXRRSET": ("prerequisite failed: a record set does not exist (NXRRSET)", None),
}

# TSIG error codes the server puts in its signed error answer (RFC 8945 section 5.2).
_PEER_TSIG_ERRORS = {
    "BADKEY": ("the server does not know the TSIG key %(key)s with algorithm %(alg)s (BADKEY)",
               "Check key_name and key_algorithm against the key statements in the server's configuration"),
    "BADSIG": ("the server rejected the signature made with TSIG key %(key)s (BADSIG): "
               "the key secret or algorithm (%(alg)s) differs from the server's",
               "Check key_secret and key_algorithm against the server's key statement"),
    "BADTIME": ("the server rejected the time of the TSIG signature (BADTIME): the clocks of "
                "this host and the server differ by more than the allowed fudge (300 s)",
                "Synchronise the clocks (NTP) of this host and the DNS server"),
    "BADTRUNC": ("the server rejected the truncated TSIG MAC (BADTRUNC)",
                 "Use an untruncated algorithm such as hmac-sha256"),
}


def rcode_error(endpoint, rcode, what):
    """The DNSError for an answer from `endpoint` with the error rcode `rcode` (text, e.g. REFUSED)."""
    text, hint = _RCODE_HINTS.get(rcode, ("failed with rcode %s" % rcode, None))
    return DNSError("%s %s" % (endpoint, text), obj=what, hint=hint, rcode=rcode)


def parse_key_secret(key_secret):
    """Decode a base64 TSIG secret; ValidationError (never the secret itself) when it is not base64."""
    try:
        return base64.b64decode(key_secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(
            ["key_secret is not valid base64 (copy the secret from the server's key statement)"]) from None


class DNSClient:
    """Talks to one DNS server (a zone's primary) at server:port, optionally signing with TSIG."""

    def __init__(self, server, port=53, key_name=None, key_secret=None, key_algorithm="hmac-sha256", timeout=10.0):
        if not HAS_DNSPYTHON:
            raise MissingLibrary("dnspython", DNSPYTHON_IMPORT_ERROR)
        self.server = server
        self.port = int(port)
        self.timeout = float(timeout)
        self._address = None
        self.key = None
        if key_name or key_secret:
            if not (key_name and key_secret):
                raise ValidationError(["key_name and key_secret must be given together"])
            if key_algorithm not in TSIG_ALGORITHMS:
                raise ValidationError(
                    ["key_algorithm %r is not one of %s" % (key_algorithm, ", ".join(TSIG_ALGORITHMS))])
            self.key = dns.tsig.Key(key_name, parse_key_secret(key_secret), _algorithm_name(key_algorithm))

    @property
    def endpoint(self):
        return "%s:%d" % (self.server, self.port)

    @property
    def key_name(self):
        return self.key.name.to_text(omit_final_dot=True) if self.key else None

    @property
    def address(self):
        """The server's IP address: dnspython sends to addresses only (resolved once, on first use)."""
        if self._address is None:
            try:
                self._address = socket.getaddrinfo(self.server, self.port, 0, socket.SOCK_DGRAM)[0][4][0]
            except (socket.gaierror, UnicodeError) as exc:
                raise DNSError("cannot resolve the DNS server name %s: %s" % (self.server, exc),
                               hint="Set server to the address or name of the zone's primary") from exc
        return self._address

    # --- building messages -----------------------------------------------------------
    def make_query(self, name, rdtype="SOA"):
        query = dns.message.make_query(name, rdtype)
        query.flags &= ~dns.flags.RD  # ask the primary for its own data, never for recursion
        return query

    def make_update(self, zone):
        """An empty RFC 2136 UPDATE for `zone`; fill it with add/delete/replace, then `send` it."""
        return dns.update.UpdateMessage(zone)

    # --- sending -----------------------------------------------------------------------
    def send(self, message, what, signed=True, tcp=False, ok_rcodes=("NOERROR",)):
        """Send `message` (signed with the key unless signed=False); return the checked answer.

        `what` names the request in errors ("SOA query for zone s2p.esa.int"). UDP first
        with a TCP retry when the answer is truncated; tcp=True for updates and large
        messages. Raises DNSTimeout, TSIGError or DNSError (rcode not in ok_rcodes;
        ok_rcodes=None accepts any rcode).
        """
        if signed and self.key is not None:
            message.use_tsig(self.key)
        address = self.address
        with self._talking(what, "bad answer"):
            try:
                if tcp:
                    response = dns.query.tcp(message, address, timeout=self.timeout, port=self.port)
                else:
                    response, _used_tcp = dns.query.udp_with_fallback(
                        message, address, timeout=self.timeout, port=self.port)
            except (dns.tsig.BadSignature, dns.tsig.BadKey, dns.tsig.BadAlgorithm, dns.tsig.BadTime,
                    dns.message.UnknownTSIGKey) as exc:
                raise TSIGError("the server's answer failed verification with TSIG key %s (%s): it signs with a "
                                "different key" % (self.key_name, type(exc).__name__), "LOCAL_BADSIG", obj=what,
                                hint="Check key_secret and key_algorithm against the server's key statement") from None
        rcode = dns.rcode.to_text(response.rcode())
        if ok_rcodes is not None and rcode not in ok_rcodes:
            raise rcode_error(self.endpoint, rcode, what)
        if signed and self.key is not None and not response.had_tsig:
            raise TSIGError("%s answered a signed request without a TSIG signature" % self.endpoint,
                            "UNSIGNED", obj=what, hint="Something between here and the server strips TSIG, or the "
                            "server does not support it; its answers cannot be trusted")
        return response

    @contextlib.contextmanager
    def _talking(self, what, bad):
        """One message per way talking to the server fails (`bad`: how a malformed reply is called)."""
        try:
            yield
        except dns.exception.Timeout:
            raise DNSTimeout("no answer from %s within %gs" % (self.endpoint, self.timeout), obj=what,
                             hint="Check that the DNS server runs and that server/port point at the zone's "
                                  "primary") from None
        except dns.tsig.PeerError as exc:
            raise self._peer_tsig_error(exc, what) from exc
        except ConnectionRefusedError:
            raise DNSError("connection refused by %s (TCP)" % self.endpoint, obj=what,
                           hint="Check that the DNS server listens on this address and port") from None
        except (OSError, EOFError) as exc:
            raise DNSError("cannot talk to %s: %s" % (self.endpoint, exc), obj=what) from exc
        except dns.exception.DNSException as exc:
            raise DNSError("%s from %s: %s" % (bad, self.endpoint, exc), obj=what) from exc

    def _peer_tsig_error(self, exc, what):
        code = {dns.tsig.PeerBadKey: "BADKEY", dns.tsig.PeerBadSignature: "BADSIG",
                dns.tsig.PeerBadTime: "BADTIME", dns.tsig.PeerBadTruncation: "BADTRUNC"}.get(type(exc))
        if code is None:
            return TSIGError("the server rejected TSIG key %s: %s" % (self.key_name, exc), "TSIG", obj=what)
        text, hint = _PEER_TSIG_ERRORS[code]
        params = {"key": self.key_name, "alg": self.key.algorithm.to_text(omit_final_dot=True)}
        return TSIGError("%s: %s" % (self.endpoint, text % params), code, obj=what, hint=hint)

    # --- reading -------------------------------------------------------------------------
    def check_key(self, zone):
        """Prove the server accepts our TSIG key, without changing anything: a signed SOA query.

        The server verifies the signature of every signed request and answers a bad one with
        NOTAUTH and a TSIG error (raised as TSIGError); any other rcode still proves the key.
        Returns the rcode of the answer.
        """
        if self.key is None:
            raise ValidationError(["no TSIG key given: set key_name and key_secret"])
        what = "TSIG-signed SOA query for zone %s" % zone
        response = self.send(self.make_query(zone, "SOA"), what, ok_rcodes=None)
        return dns.rcode.to_text(response.rcode())

    def soa(self, zone, signed=True):
        """The zone's SOA as the server holds it: {zone, serial, primary, contact, authoritative, signed}.

        Raises ZoneNotServed when the answer is not authoritative or `zone` is no zone apex
        (the server then answers with the SOA of the enclosing zone in the authority section).
        """
        zone_name = dns.name.from_text(zone)
        what = "SOA query for zone %s" % zone_name.to_text(omit_final_dot=True)
        response = self.send(self.make_query(zone_name, "SOA"), what, signed=signed, ok_rcodes=("NOERROR", "NXDOMAIN"))
        if not response.flags & dns.flags.AA:
            raise ZoneNotServed("%s answered without the authoritative flag: it is not a primary for this zone "
                                "(a cache or forwarder?)" % self.endpoint, obj=what,
                                hint="Point server/port at the zone's primary server")
        answer = response.get_rrset(response.answer, zone_name, dns.rdataclass.IN, dns.rdatatype.SOA)
        if answer is None:
            # Not a zone apex: the server answers from the enclosing zone, whose SOA is in the authority section.
            enclosing = [rrset.name.to_text(omit_final_dot=True) for rrset in response.authority
                         if rrset.rdtype == dns.rdatatype.SOA]
            raise ZoneNotServed("%s serves no zone of this name%s (%s)" % (
                self.endpoint, ", it lies inside zone %s" % enclosing[0] if enclosing else "",
                dns.rcode.to_text(response.rcode())), obj=what, hint="Check the zone name")
        soa = answer[0]
        return {
            "zone": zone_name.to_text(omit_final_dot=True),
            "serial": soa.serial,
            "primary": soa.mname.to_text(omit_final_dot=True),
            "contact": soa.rname.to_text(omit_final_dot=True),
            "authoritative": True,
            "signed": bool(signed and self.key is not None),
        }

    # --- record sets -----------------------------------------------------------------------
    def transfer(self, zone):
        """Every RRset of `zone` by AXFR from the primary: {name: {type text: (ttl, frozenset of rdata)}}.

        Needs a server that allows the transfer to our key (allow-transfer { key NAME; }).
        """
        zone_name = dns.name.from_text(zone) if isinstance(zone, str) else zone
        what = "zone transfer (AXFR) of %s" % zone_name.to_text(omit_final_dot=True)
        state = {}
        signing = {"keyring": {self.key.name: self.key}, "keyname": self.key.name,
                   "keyalgorithm": self.key.algorithm} if self.key else {}
        with self._talking(what, "bad transfer"):
            try:
                for message in dns.query.xfr(self.address, zone_name, port=self.port, timeout=self.timeout,
                                             lifetime=max(self.timeout, 60.0), relativize=False, **signing):
                    for rrset in message.answer:
                        if rrset.rdtype == dns.rdatatype.SOA and rrset.name in state and "SOA" in state[rrset.name]:
                            continue  # the closing SOA of the transfer
                        _add_rrset(state, rrset)
            except dns.xfr.TransferError as exc:
                raise rcode_error(self.endpoint, dns.rcode.to_text(exc.rcode), what) from None
            except dns.exception.FormError as exc:
                raise DNSError("%s refused or broke the transfer: %s" % (self.endpoint, exc), obj=what,
                               hint="Allow transfers to the TSIG key (allow-transfer { key NAME; }) or use "
                                    "read_mode=query") from None
        return state

    def rrsets_at(self, name):
        """Every RRset the primary holds at `name` (one ANY query): {type text: (ttl, frozenset of rdata)}."""
        name = dns.name.from_text(name) if isinstance(name, str) else name
        what = "ANY query for %s" % name.to_text(omit_final_dot=True)
        response = self.send(self.make_query(name, "ANY"), what, ok_rcodes=("NOERROR", "NXDOMAIN"))
        state = {}
        for rrset in response.answer:
            if rrset.name == name:
                _add_rrset(state, rrset)
        return state.get(name, {})

    def update(self, message, zone):
        """Send one RFC 2136 UPDATE over TCP; a failed prerequisite raises ConcurrentChange."""
        what = "UPDATE of zone %s" % zone
        try:
            return self.send(message, what, tcp=True)
        except TSIGError:
            raise
        except DNSError as exc:
            if exc.rcode == "REFUSED":
                raise DNSError("%s refused the update (REFUSED); nothing of it was applied" % self.endpoint,
                               obj=what, rcode="REFUSED",
                               hint="The zone's update-policy does not grant this key these names or types, or "
                                    "a record failed the server's integrity checks (see its log)") from None
            if exc.rcode in PREREQUISITE_RCODES:
                raise ConcurrentChange(
                    "the records changed on %s after they were read (prerequisite failed: %s); nothing of "
                    "this update was applied" % (self.endpoint, exc.rcode), obj=what, rcode=exc.rcode,
                    hint="Another run or engineer changed the same names at the same time: run again to "
                         "converge from the new state") from None
            raise


def _add_rrset(state, rrset):
    types = state.setdefault(rrset.name, {})
    kind = dns.rdatatype.to_text(rrset.rdtype)
    ttl, old = types.get(kind, (rrset.ttl, frozenset()))
    types[kind] = (min(ttl, rrset.ttl), old | frozenset(rrset))


def health_report(client, zones):
    """Health checks for the dns_health module: {healthy, checks, server, key_name, zones}.

    `zones` in the result are the SOAs of the zones served. A silent server ends the run
    early: every further query would time out too.
    """
    report = HealthReport(server=client.endpoint, key_name=client.key_name, zones=[])
    reach = "server %s answers" % client.endpoint
    try:
        if client.key:
            rcode = client.check_key(zones[0])
        else:
            client.send(client.make_query(zones[0]), "SOA query for zone %s" % zones[0], ok_rcodes=None)
    except TSIGError as exc:
        report.add(reach, True, "answered a signed query")
        report.add("TSIG key %s accepted" % client.key_name, False, str(exc))
    except DNSError as exc:  # DNSTimeout, refused connection, unresolvable name
        report.add(reach, False, str(exc))
        return report.as_dict()
    else:
        report.add(reach, True, "answered an SOA query")
        if client.key:
            report.add("TSIG key %s accepted" % client.key_name, True,
                       "signed query verified both ways (answer %s)" % rcode)
        else:
            report.add("TSIG key", False, "no TSIG key given: updates will be refused; set key_name and "
                       "key_secret (TSIG_KEY_NAME/TSIG_KEY_SECRET)")
    signed = report.last_ok and client.key is not None
    for zone in zones:
        try:
            soa = client.soa(zone, signed=signed)
        except DNSError as exc:
            report.add("zone %s" % zone, False, str(exc))
        else:
            report.facts["zones"].append(soa)
            report.add("zone %s" % zone, True, "authoritative SOA from %s, serial %d, primary %s" % (
                client.endpoint, soa["serial"], soa["primary"]))
    return report.as_dict()


def _algorithm_name(name):
    return dns.name.from_text("hmac-md5.sig-alg.reg.int" if name == "hmac-md5" else name)
