"""Bad dns_record items, each one distinct mistake, with words the error must contain.

Plain data: the unit tests check the message of each, the integration test sends them all in
one batch to the lab BIND and checks that nothing changed."""

# (item, words the error must contain): each one bad input, each a distinct mistake.
BAD = [
    ({"name": "web.example.org", "type": "A", "values": ["10.0.0.1"]}, "outside the managed zones"),
    ({"name": "s2p.esa.int.evil.org", "type": "A", "values": ["10.0.0.1"]}, "outside the managed zones"),
    ({"name": "x.s2p.esa.int", "type": "A", "values": ["10.0.0.256"]}, "not an IPv4 address"),
    ({"name": "x.s2p.esa.int", "type": "A", "values": ["fd00::1"]}, "not an IPv4 address"),
    ({"name": "x.s2p.esa.int", "type": "AAAA", "values": ["10.0.0.1"]}, "not an IPv6 address"),
    ({"name": "x.s2p.esa.int", "type": "AAAA", "values": ["fd00:::1"]}, "not an IPv6 address"),
    ({"name": "x.s2p.esa.int", "type": "A", "values": ["10.0.0.1"], "ttl": -1}, "ttl must be a whole number"),
    ({"name": "x.s2p.esa.int", "type": "A", "values": ["10.0.0.1"], "ttl": 2 ** 31}, "ttl must be a whole number"),
    ({"name": "x.s2p.esa.int", "type": "A", "values": ["10.0.0.1"], "ttl": "soon"}, "ttl must be a whole number"),
    ({"name": "a" * 64 + ".s2p.esa.int", "type": "A", "values": ["10.0.0.1"]}, "64 characters long"),
    ({"name": ("a" * 60 + ".") * 4 + "s2p.esa.int", "type": "A", "values": ["10.0.0.1"]}, "a DNS name has at most"),
    ({"name": "bad name.s2p.esa.int", "type": "A", "values": ["10.0.0.1"]}, "may only use letters"),
    ({"name": "-x.s2p.esa.int", "type": "A", "values": ["10.0.0.1"]}, "may only use letters"),
    ({"name": "x..s2p.esa.int", "type": "A", "values": ["10.0.0.1"]}, "empty label"),
    ({"name": "x.*.s2p.esa.int", "type": "A", "values": ["10.0.0.1"]}, "only be the first label"),
    ({"name": "", "type": "A", "values": ["10.0.0.1"]}, "non-empty DNS name"),
    ({"name": "x.s2p.esa.int", "type": "SPF", "values": ["v=spf1"]}, "type 'SPF' is not supported"),
    ({"name": "x.s2p.esa.int", "type": None, "values": ["10.0.0.1"]}, "is not supported"),
    ({"name": "x.s2p.esa.int", "type": "A"}, "needs at least one value"),
    ({"name": "x.s2p.esa.int", "type": "A", "values": []}, "needs at least one value"),
    ({"name": "x.s2p.esa.int", "type": "CNAME", "values": ["a.s2p.esa.int", "b.s2p.esa.int"]}, "exactly one value"),
    ({"name": "s2p.esa.int", "type": "CNAME", "values": ["a.s2p.esa.int"]}, "zone apex"),
    ({"name": "x.s2p.esa.int", "type": "MX", "values": ["mail.s2p.esa.int"]}, "not a valid MX value"),
    ({"name": "x.s2p.esa.int", "type": "MX", "values": ["-1 mail.s2p.esa.int"]}, "not a valid MX value"),
    ({"name": "_sip._tcp.s2p.esa.int", "type": "SRV", "values": ["0 5 sip.s2p.esa.int"]}, "not a valid SRV value"),
    ({"name": "_sip._tcp.s2p.esa.int", "type": "SRV", "values": ["0 5 70000 sip.s2p.esa.int"]}, "not a valid SRV"),
    ({"name": "x.s2p.esa.int", "type": "CAA", "values": ["0 issue"]}, "not a valid CAA value"),
    ({"name": "x.s2p.esa.int", "type": "A", "values": ["10.0.0.1", "10.0.0.1"]}, "repeats a value"),
    ({"name": "x.s2p.esa.int", "type": "A", "values": [5]}, "must be a string"),
    ({"name": "x.s2p.esa.int", "type": "TXT", "values": ["x"], "state": "gone"}, "state must be present or absent"),
    ({"name": "x.s2p.esa.int", "type": "TXT", "values": ["x"], "ptr": True}, "only for A and AAAA"),
    ({"name": "x.s2p.esa.int", "type": "A", "values": ["192.168.1.1"], "ptr": True}, "no managed reverse zone"),
    ({"name": "x.s2p.esa.int", "type": "A", "values": ["10.0.0.1"], "colour": "red"}, "unknown field"),
    ({"name": "_s2p-owner.x.s2p.esa.int", "type": "TXT", "values": ["x"]}, "reserved for ownership"),
    ({"name": "x.s2p.esa.int", "type": "CNAME", "values": ["bad target!.s2p.esa.int"]}, "not a valid CNAME value"),
]
