"""A service changed behind the collection's back (`docker service scale`, `docker service update
--image`) that its spec-hash label cannot show, module_utils/swarm/stack.py (pure logic)."""

from __future__ import annotations

import json

from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack import _spec_of, live_changes
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_spec import SPEC_LABEL

WANTED = {"mode": "replicated", "replicas": 2, "image": "reg:5000/s2p/web@sha256:" + "a" * 64}


def service(replicas=2, image=WANTED["image"], mode=None):
    return {"Spec": {"Mode": mode or {"Replicated": {"Replicas": replicas}},
                     "Labels": {SPEC_LABEL: json.dumps(WANTED)},
                     "TaskTemplate": {"ContainerSpec": {"Image": image}}}}


def test_a_service_as_deployed_has_no_live_change():
    assert live_changes(service(), WANTED) == []
    assert _spec_of(service()) == WANTED


def test_scaled_by_hand_is_named_and_shown_in_the_diff_before():
    assert live_changes(service(replicas=5), WANTED) == ["5 replicas, not 2"]
    assert _spec_of(service(replicas=5))["replicas"] == 5


def test_another_image_by_hand_is_named():
    other = "reg:5000/s2p/web:debug@sha256:" + "b" * 64
    assert live_changes(service(image=other), WANTED) == [f"image {other}, not {WANTED['image']}"]
    assert _spec_of(service(image=other))["image"] == other


def test_a_tag_matches_its_resolved_digest():
    wanted = dict(WANTED, image="reg:5000/s2p/web:1.2")
    assert live_changes(service(image="reg:5000/s2p/web:1.2@sha256:" + "c" * 64), wanted) == []
    moved = live_changes(service(image="reg:5000/s2p/web:1.3"), wanted)
    assert moved == ["image reg:5000/s2p/web:1.3, not " + wanted["image"]]


def test_global_mode_wanted_but_replicated_found():
    wanted = dict(WANTED, mode="global")
    assert live_changes(service(), wanted) == ["not global"]
    assert live_changes(service(mode={"Global": {}}), wanted) == []
