"""The drift filters (plugins/filter/drift.py) refuse input that is not theirs with a message
naming the filter and what it expects, and write JSON Lines."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.filter.drift import drift_json_lines, drift_rows, drift_table, drift_verdict


@pytest.mark.parametrize("call, expected", [
    (lambda: drift_rows({"vms": []}), "drift_rows: the input must be the normalised model"),
    (lambda: drift_rows({"projects": {}}, ["not", "a", "mapping"]), "drift_rows: results must be a mapping"),
    (lambda: drift_table("rows"), "drift_table: the input must be the list of rows"),
    (lambda: drift_verdict([1]), "drift_verdict: the input must be the list of rows"),
    (lambda: drift_json_lines({"a": 1}), "drift_json_lines: the input must be the list of rows"),
])
def test_input_that_is_not_theirs_is_refused(call, expected):
    with pytest.raises(AnsibleFilterError, match=expected):
        call()


def test_json_lines_one_object_per_line():
    rows = [{"name": "b", "site": "esoc"}, {"site": "esrin", "name": "a"}]
    text = drift_json_lines(rows)
    assert text.endswith("\n") and [json.loads(line) for line in text.splitlines()] == rows
    assert text.splitlines()[1] == '{"name": "a", "site": "esrin"}'  # keys sorted
