# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options given with the wrong shape, found before Ansible's lenient conversions hide them.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Ansible turns a string into a dict (`"cn=x"` becomes `{"cn": "x"}`), a string into a list
(`"a,b"` becomes `["a", "b"]`) and a list or dict into its text, so `attributes: "cn=x"` or
`values: "10.0.0.1"` would pass as if they were meant. These modules change live systems from
batches: loose_conversions() walks the parameters as the task gave them (before conversion)
against the argument spec and names every option whose shape is wrong, over the whole batch,
so the module fails with changed=false before anything is sent. Numbers and booleans given as
strings ("30", "yes") are still converted: that is not ambiguous. Values are never quoted in the
messages (an option may be secret).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.core.problems import type_name

SHAPES = {"dict": (dict, "a mapping"), "list": (list, "a list")}
TEXT = ("str", "path")


def _wrong(value, wanted):
    """What is wrong when `value` is given for an option of type `wanted`, or None."""
    if wanted in SHAPES:
        kind, text = SHAPES[wanted]
        if not isinstance(value, kind):
            return "must be %s, got %s" % (text, type_name(value))
    elif wanted in TEXT and isinstance(value, (dict, list, tuple)):
        return "must be a string, got %s" % type_name(value)
    return None


def loose_conversions(params, spec, prefix=""):
    """["<option path>: must be a mapping, got a string", ...] for `params` (as given) against
    `spec` (an argument spec), recursing into suboptions and list elements."""
    problems = []
    for name, option in sorted(spec.items()):
        value = params.get(name)
        for alias in option.get("aliases") or ():
            if value is None:
                value = params.get(alias)
        if value is None:
            continue
        path = prefix + name
        wanted = option.get("type", "str")
        if not isinstance(wanted, str):
            continue  # a callable type checks itself
        problem = _wrong(value, wanted)
        if problem:
            problems.append("%s: %s" % (path, problem))
            continue
        suboptions = option.get("options")
        if wanted == "dict" and suboptions:
            problems.extend(loose_conversions(value, suboptions, path + "."))
        elif wanted == "list":
            elements = option.get("elements")
            for index, element in enumerate(value):
                where = "%s[%d]" % (path, index)
                if element is None:
                    continue
                problem = _wrong(element, elements) if isinstance(elements, str) else None
                if problem:
                    problems.append("%s: %s" % (where, problem))
                elif elements == "dict" and suboptions:
                    problems.extend(loose_conversions(element, suboptions, where + "."))
    return problems
