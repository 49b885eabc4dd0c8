# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors shared by every backend client.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Clients raise S2PError subclasses and never call fail_json; modules turn them into
one readable failure (see S2PError.as_fail_kwargs), plugins into AnsibleError.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class S2PError(Exception):
    """A failure an engineer can act on: what failed, on which object, and what to do."""

    def __init__(self, message, obj=None, hint=None):
        super(S2PError, self).__init__(message)
        self.message = message
        self.obj = obj
        self.hint = hint

    def __str__(self):
        text = self.message
        if self.obj:
            text = "%s: %s" % (self.obj, text)
        if self.hint:
            text = "%s. %s" % (text.rstrip("."), self.hint)
        return text

    def as_fail_kwargs(self):
        return {"msg": str(self), "changed": False}


class ValidationError(S2PError):
    """Bad input, found before any backend was touched. `errors` lists every problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        message = "%d problem(s) in the input, nothing was changed:\n- %s" % (
            len(self.errors), "\n- ".join(self.errors))
        super(ValidationError, self).__init__(message)

    def as_fail_kwargs(self):
        return {"msg": str(self), "changed": False, "errors": self.errors}


class ConnectionFailure(S2PError):
    """The backend could not be reached or refused our credentials."""


class MissingLibrary(S2PError):
    """A Python requirement of the backend is not installed where the module runs."""

    def __init__(self, library, exception_text):
        self.library = library
        self.exception_text = exception_text
        super(MissingLibrary, self).__init__(
            "the Python library %s is required" % library,
            hint="Install the collection's requirements.txt in the Python that runs the module")
