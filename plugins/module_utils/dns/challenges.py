# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNS-01 challenge records of an ACME order, written to the zone's primary (core/challenges.py).

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Every value of an order goes in with ONE update per zone and out with one more, whatever the
number of names; a name outside the managed zones is refused before anything is sent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.core.challenges import ChallengePublisher
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.dns.records import parse_zone, zone_of

try:
    import dns.name
    import dns.rdataclass
    import dns.rdatatype
    import dns.rdtypes.ANY.TXT
    import dns.update
except ImportError:  # reported by the module's adapters
    pass

CHALLENGE_TTL = 60


class DNSChallenges(ChallengePublisher):
    """Challenge TXT records through `client` (a connected DNSClient) in the managed `zones`."""

    def __init__(self, client, zones):
        self.client = client
        self.zones = [parse_zone(z) for z in zones]

    def publish(self, records):
        """Adding REPLACES each challenge name's TXT RRset: values left by an earlier order whose
        clean-up never ran (the run was killed) go with it, instead of staying in the zone for
        ever. Orders in flight at the same time never share a challenge name (the certificate
        workflow's order_waves), so no other live order owns those values."""
        for zone, items in self._by_zone(records):
            self._send(zone, items, add=True)

    def withdraw(self, records):
        for zone, items in self._by_zone(records):
            self._send(zone, items, add=False)

    def _by_zone(self, records):
        by_zone = {}
        for text, values in records.items():
            name = dns.name.from_text(text.rstrip(".") + ".")
            zone = zone_of(name, self.zones)
            if zone is None:
                raise S2PError(
                    "the challenge name %s is outside the managed zones (%s)"
                    % (text, ", ".join(z.to_text(omit_final_dot=True) for z in self.zones)),
                    obj="DNS-01 challenge",
                    hint="Add its zone to zones, or delegate _acme-challenge to a managed zone")
            by_zone.setdefault(zone, {})[name] = values
        return sorted(by_zone.items())

    def _send(self, zone, items, add):
        update = dns.update.UpdateMessage(zone)
        for name, values in sorted(items.items()):
            if add:
                update.delete(name, dns.rdatatype.TXT)
            for value in sorted(values):
                rdata = dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, [value.encode()])
                if add:
                    update.add(name, CHALLENGE_TTL, rdata)
                else:
                    update.delete(name, rdata)
        self.client.update(update, zone.to_text(omit_final_dot=True))
