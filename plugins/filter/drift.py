# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report of playbooks/drift.yml as Jinja filters (documentation: drift_rows.yml,
drift_table.yml, drift_verdict.yml).

Thin over module_utils/model/drift.py; used by the role esa.s2p.summary (tasks_from: drift).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.module_utils.model import drift


def drift_rows(model, results=None, timestamp=None):
    if not isinstance(model, dict) or "projects" not in model:
        raise AnsibleFilterError("drift_rows: the input must be the normalised model, the fact s2p_model set by "
                                 "esa.s2p.model")
    if not isinstance(results or {}, dict):
        raise AnsibleFilterError("drift_rows: results must be a mapping of the stages' registered results, got %s"
                                 % type(results).__name__)
    return drift.drift_rows(model, results or {}, timestamp)


def _rows(name, rows):
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise AnsibleFilterError("%s: the input must be the list of rows of esa.s2p.drift_rows" % name)
    return rows


def drift_table(rows):
    return drift.drift_table(_rows("drift_table", rows))


def drift_verdict(rows):
    return drift.drift_verdict(_rows("drift_verdict", rows))


def drift_json_lines(rows):
    """The rows as JSON Lines text (one object per line, keys sorted), empty for no rows."""
    return "".join(json.dumps(row, sort_keys=True, default=str) + "\n" for row in _rows("drift_json_lines", rows))


class FilterModule(object):
    def filters(self):
        return {"drift_rows": drift_rows, "drift_table": drift_table, "drift_verdict": drift_verdict,
                "drift_json_lines": drift_json_lines}
