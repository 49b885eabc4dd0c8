# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ACME issuance needs from the DNS side: put DNS-01 challenge values in place, take them out.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

acme/issue.py orders certificates against this interface only, so the ACME backend never
imports the DNS backend; dns/challenges.py implements it over the DNS client (RFC 2136) and the
certificate workflow hands one to the order. Records are {name: set of TXT values}, names
absolute without the trailing dot (`_acme-challenge.www.s2p.esa.int`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ChallengePublisher:
    """publish() puts every value of an order in place (replacing older values of those names) or
    raises an S2PError before anything is sent; withdraw() removes exactly those values."""

    def publish(self, records):
        raise NotImplementedError

    def withdraw(self, records):
        raise NotImplementedError
