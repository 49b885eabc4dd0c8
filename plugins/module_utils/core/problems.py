# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one collector of input problems: every validator of the collection gathers into it.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

A validator checks a whole batch before any backend is touched, adds each problem as
"<item path>.<field>: <what is wrong> (<what is allowed>)", and at the end raises them all
in ONE ValidationError, so the user fixes every mistake in one round.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError


MAX_SHOWN_NAME = 64


def type_name(value):
    """How to call a YAML value's type in an error message."""
    if value is None:
        return "null"
    for kind, name in ((bool, "a boolean"), (int, "an integer"), (float, "a number"),
                       (str, "a string"), (list, "a list"), (dict, "a mapping")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def item_path(items, index, name=None):
    """How a problem names an item of a batch: accounts[3], or accounts[3] (neocc-ope) when the
    item has a name (a string; shown up to MAX_SHOWN_NAME characters)."""
    path = "%s[%d]" % (items, index)
    return path if not isinstance(name, str) else "%s (%s)" % (path, name[:MAX_SHOWN_NAME])


class Problems(object):
    """The problems of one batch, in the order found; `errors` is the list of messages.

    len(problems) counts them, so a check can tell whether an item added any:
    `before = len(problems)` ... `if len(problems) > before`.
    """

    def __init__(self):
        self.errors = []

    def add(self, path, message):
        """One problem of the item and field at `path` (None: `message` names them itself)."""
        self.errors.append(message if path is None else "%s: %s" % (path, message))

    def check(self, path, problem):
        """Add `problem`, what a rule found wrong (None: nothing), at `path`; True when there was none."""
        if problem is None:
            return True
        self.add(path, problem)
        return False

    def extend(self, messages, path=None):
        """Several problems, e.g. those a nested check returned or raised (ValidationError.errors)."""
        for message in messages:
            self.add(path, message)

    def fail(self, path, message):
        """Add one problem and raise now, with those found so far: the rest cannot be checked."""
        self.add(path, message)
        self.raise_if_any()

    def raise_if_any(self):
        """Raise ValidationError listing every problem, if there is one."""
        if self.errors:
            raise ValidationError(self.errors)

    def __len__(self):
        return len(self.errors)

    def __iter__(self):
        return iter(self.errors)
