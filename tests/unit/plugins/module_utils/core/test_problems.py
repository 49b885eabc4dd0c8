"""The one collector of input problems (module_utils/core/problems.py)."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems, item_path


def test_a_problem_reads_path_colon_message():
    problems = Problems()
    problems.add("vms[esoc-x-ope-app01].cpus", "must be a whole number of CPUs from 1 to 128, got 0")
    problems.add(None, "records must be a list, got a string")
    assert problems.errors == ["vms[esoc-x-ope-app01].cpus: must be a whole number of CPUs from 1 to 128, got 0",
                               "records must be a list, got a string"]


def test_nothing_found_raises_nothing():
    problems = Problems()
    problems.raise_if_any()
    assert len(problems) == 0 and not problems and list(problems) == []


def test_every_problem_of_the_batch_in_one_error():
    problems = Problems()
    for index in range(3):
        problems.add("items[%d].name" % index, "required field is missing")
    assert len(problems) == 3 and problems
    with pytest.raises(ValidationError) as info:
        problems.raise_if_any()
    assert info.value.errors == ["items[%d].name: required field is missing" % i for i in range(3)]
    assert str(info.value).startswith("3 problem(s) in the input, nothing was changed:\n- items[0].name: ")
    assert info.value.as_fail_kwargs() == {"msg": str(info.value), "changed": False, "errors": info.value.errors}


def test_counting_tells_whether_an_item_added_problems():
    problems = Problems()
    problems.add("a", "bad")
    before = len(problems)
    problems.add("b", "bad too")
    assert len(problems) > before


def test_extend_takes_the_problems_of_a_nested_check_under_a_path():
    problems = Problems()
    nested = ValidationError(["key_type must be one of ec, rsa, got 'dsa'"])
    problems.extend(nested.errors, "certificates[0] (web)")
    problems.extend(["stack a: listed twice"])
    assert problems.errors == ["certificates[0] (web): key_type must be one of ec, rsa, got 'dsa'",
                               "stack a: listed twice"]


def test_fail_stops_with_what_was_found_so_far():
    problems = Problems()
    problems.add("state", "unknown value 'running'")
    with pytest.raises(ValidationError) as info:
        problems.fail("vms", "must be a list of VMs, got a string")
    assert info.value.errors == ["state: unknown value 'running'", "vms: must be a list of VMs, got a string"]


def test_add_is_the_callback_nested_checks_take():
    """A helper that reports through add(where, text), as swarm's check_generate does."""
    def check(add):
        add("stack a: secret b: generate: length", "must be an integer from 16 to 256, got 8")

    problems = Problems()
    check(problems.add)
    assert problems.errors == ["stack a: secret b: generate: length: must be an integer from 16 to 256, got 8"]


def test_check_adds_what_a_rule_found_and_says_whether_it_found_nothing():
    def rule(value):
        return None if value > 0 else "must be positive, got %r" % value

    problems = Problems()
    assert problems.check("items[0].size", rule(3)) is True
    assert problems.check("items[1].size", rule(0)) is False
    assert problems.errors == ["items[1].size: must be positive, got 0"]


@pytest.mark.parametrize("name, expected", [
    (None, "accounts[3]"), (7, "accounts[3]"), ("neocc-ope", "accounts[3] (neocc-ope)"),
    ("x" * 100, "accounts[3] (%s)" % ("x" * 64)),
])
def test_an_item_is_named_by_its_index_and_its_name_when_it_has_one(name, expected):
    assert item_path("accounts", 3, name) == expected
