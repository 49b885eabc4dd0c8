"""ACME orders run several at a time, but never two that publish the same challenge name at once
(publishing replaces the name's TXT RRset): workflows/certificate.order_waves (pure logic)."""

from __future__ import annotations

from ansible_collections.esa.s2p.plugins.module_utils.workflows.certificate import order_waves


def pair(name, *names):
    return {"name": name, "names": list(names)}, {"name": name}


def names_of(waves):
    return [[item["name"] for item, _entry in wave] for wave in waves]


def test_certificates_without_a_common_name_are_one_wave_in_their_order():
    pairs = [pair("a", "a.s2p.esa.int"), pair("b", "b.s2p.esa.int", "c.s2p.esa.int"), pair("d", "d.s2p.esa.int")]
    assert names_of(order_waves(pairs)) == [["a", "b", "d"]]


def test_a_shared_name_goes_to_the_next_wave_that_has_room():
    pairs = [pair("a", "www.s2p.esa.int"), pair("b", "api.s2p.esa.int"), pair("c", "www.s2p.esa.int"),
             pair("d", "db.s2p.esa.int"), pair("e", "api.s2p.esa.int", "www.s2p.esa.int")]
    assert names_of(order_waves(pairs)) == [["a", "b", "d"], ["c"], ["e"]]


def test_a_wildcard_shares_its_base_name_s_challenge():
    pairs = [pair("wild", "*.neocc.s2p.esa.int"), pair("base", "neocc.s2p.esa.int"), pair("other", "x.s2p.esa.int")]
    assert names_of(order_waves(pairs)) == [["wild", "other"], ["base"]]


def test_no_orders_no_waves():
    assert order_waves([]) == []
