"""A large batch of stacks rolls out in waves of whole stacks with at most rollout_limit services to
create or update together (swarm/stack.rollout_waves, pure logic); a negative limit is bad input."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack import rollout_waves
from ansible_collections.esa.s2p.plugins.module_utils.workflows import swarm_stack


def plan(name, create=0, update=0, state="present"):
    return {"name": name, "state": state, "create": {f"{name}_c{i}": {} for i in range(create)},
            "update": {f"{name}_u{i}": ({}, {}) for i in range(update)}}


def names(waves):
    return [[p["name"] for p in wave] for wave in waves]


def test_no_limit_is_one_wave():
    plans = [plan("a", 60), plan("b", 60), plan("c", 60)]
    assert names(rollout_waves(plans, 0)) == [["a", "b", "c"]]


def test_waves_keep_the_order_and_stay_within_the_limit():
    plans = [plan("a", 40), plan("b", 30, 20), plan("c", 40), plan("d", 10), plan("e", 95)]
    assert names(rollout_waves(plans, 100)) == [["a", "b"], ["c", "d"], ["e"]]


def test_a_stack_larger_than_the_limit_is_a_wave_of_its_own_never_split():
    plans = [plan("small", 5), plan("huge", 250), plan("after", 5)]
    assert names(rollout_waves(plans, 100)) == [["small"], ["huge"], ["after"]]


def test_stacks_with_nothing_to_roll_out_join_the_current_wave():
    plans = [plan("a", 100), plan("same"), plan("gone", state="absent"), plan("b", 1)]
    assert names(rollout_waves(plans, 100)) == [["a", "same", "gone"], ["b"]]


def test_an_empty_batch_has_no_wave():
    assert rollout_waves([], 100) == []


def test_a_negative_rollout_limit_is_refused_before_any_backend():
    """Bad input: named, nothing contacted (the clients would raise if they were built)."""
    def never():
        raise AssertionError("a client was built for bad input")

    params = {"stacks": [], "known_sites": ["esoc"], "secret_name_key": None, "vault": None, "kv_mount": "s2p",
              "wait": True, "wait_timeout": 300, "resolve_image": True, "rollout_limit": -1}
    with pytest.raises(swarm_stack.StackRunFailed) as failed:
        swarm_stack.converge(params, False, False, never, never, lambda value: None)
    assert "rollout_limit must be 0 (the whole batch at once) or more, got -1" in str(failed.value)
