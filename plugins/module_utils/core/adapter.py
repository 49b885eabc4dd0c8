# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way a module builds its AnsibleModule and its backend client.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Each backend adapter (<backend>/adapter.py) describes itself with one BackendAdapter:
its connection argument spec, the constraints between those options, its client class
and the Python library it needs. The mechanism (merging the module's own options and
constraints, failing early without the library, turning client errors into fail_json)
lives here once.

A module talks to its own backend through the connection options at the top level, and to a
second backend through ONE dict option named after that backend (`vault`, `dns`), built by
nested_option() of that backend's adapter: the same suboptions, defaults, environment
variables and no_log as the backend's own modules. Its client comes from client_from_nested()
(plugins and workflows) or nested_client() (modules). Doc fragments: the backend's
CONNECTION and OPTIONAL_CONNECTION variants (plugins/doc_fragments/<backend>.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sys

from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib
from ansible.module_utils.common.validation import (
    check_mutually_exclusive,
    check_required_arguments,
    check_required_by,
    check_required_if,
    check_required_one_of,
    check_required_together,
)

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import MissingLibrary, S2PError, ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.core.strict_types import loose_conversions

# The AnsibleModule constraints a backend may declare between its connection options, with
# Ansible's own check of each (the same words as the module's argument validation).
CONSTRAINT_CHECKS = {
    "mutually_exclusive": check_mutually_exclusive,
    "required_together": check_required_together,
    "required_one_of": check_required_one_of,
    "required_if": check_required_if,
    "required_by": check_required_by,
}


def _fail_early(result):
    """End the module with a failed result before an AnsibleModule exists: its validation would
    convert the very values the result is about, or fail first with a message that does not name
    the option. No value of the input is in `result`, so nothing needs masking; this is the plain
    JSON result every module prints, written by hand for that reason only."""
    print(json.dumps(dict(result, failed=True, changed=False)))  # pylint: disable=ansible-bad-function
    sys.exit(1)  # pylint: disable=ansible-bad-function


def strict_module(argument_spec, **kwargs):
    """An AnsibleModule that first refuses options given with the wrong shape (core/strict_types.py),
    naming each one, before Ansible's lenient conversions would accept them."""
    raw = _load_params()  # the task's arguments as given (not a dict under ansible-test's introspection)
    loose = loose_conversions(raw, argument_spec) if isinstance(raw, dict) else []
    if loose:  # before Ansible converts them, and before any backend
        _fail_early(ValidationError(loose).as_fail_kwargs())
    return AnsibleModule(argument_spec=argument_spec, **kwargs)


class BackendAdapter:
    """Connection options and client of one backend, for modules and plugins alike."""

    def __init__(self, library, import_error, connection_spec, client_class, options, constraints=None):
        """library/import_error: the Python requirement and its import traceback (None when present);
        connection_spec: a function returning a fresh argument spec of the connection options;
        options: the names passed from the options to client_class; constraints: AnsibleModule
        keyword arguments (required_together, required_if...) that hold between connection options."""
        self.library = library
        self.import_error = import_error
        self.connection_spec = connection_spec
        self.client_class = client_class
        self.options = tuple(options)
        self.constraints = dict(constraints or {})

    def argument_spec(self, extra=None):
        """The connection options plus the module's own `extra` options (a fresh dict each call)."""
        spec = self.connection_spec()
        spec.update(extra or {})
        return spec

    def module(self, argument_spec=None, **kwargs):
        """An AnsibleModule with the connection options plus `argument_spec`; the backend's
        constraints come first, then the module's own; fails early without the library."""
        for key, values in self.constraints.items():
            kwargs[key] = list(values) + list(kwargs.get(key) or [])
        module = strict_module(self.argument_spec(argument_spec), **kwargs)
        if self.import_error:
            module.fail_json(msg=missing_required_lib(self.library), exception=self.import_error)
        return module

    def client_from_options(self, get, **extra):
        """A client (nothing sent yet) from option values read through `get(name)`, which may be
        module.params.get or a plugin's get_option; `extra` goes to the client as is."""
        kwargs = dict((name, get(name)) for name in self.options)
        kwargs.update(extra)
        return self.client_class(**kwargs)

    def client(self, module, **extra):
        """The module's client, nothing sent yet; a missing library or invalid options fail the module."""
        return self._module_client(module, self.client_from_options, module.params.get, **extra)

    # --- the connection as one option of a module of another backend ----------------------
    def nested_option(self, required=True):
        """The connection options as ONE dict option (name it after the backend: vault, dns...), for a
        module whose second backend this is: the same suboptions with their defaults, environment
        fallbacks and no_log. apply_defaults fills the dict when the option is not given, so the
        environment fallbacks apply then too (an AWX credential alone is enough).

        required=True, the module always needs this backend: the required suboptions and the
        backend's constraints (required_if...) are checked inside the option with the module's own.
        required=False, only some input needs it (a Vault-sourced secret, an ACME certificate): no
        suboption is required and the constraints are left out, else a run that does not use the
        backend would fail on them; client_from_nested() checks both when the connection is used."""
        options = self.connection_spec()
        option = dict(type="dict", options=options, apply_defaults=True)
        if required:
            option.update((key, list(values)) for key, values in self.constraints.items())
        else:
            for suboption in options.values():
                suboption.pop("required", None)
        return option

    def problems(self, values, name=None):
        """What the connection `values` (the dict of a nested option, after argument validation) lacks:
        required options and the backend's constraints, each as Ansible words it ("... found in <name>")."""
        context = [name] if name else None
        # An option set to None counts as not given (Ansible checks before it fills in the Nones).
        values = dict((key, value) for key, value in (values or {}).items() if value is not None)
        found = []
        checks = [(check_required_arguments, self.connection_spec())]
        checks += [(CONSTRAINT_CHECKS[key], terms) for key, terms in sorted(self.constraints.items())]
        for check, terms in checks:
            try:
                check(terms, values, context)
            except TypeError as exc:
                found.append(str(exc))
        return found

    def client_from_nested(self, values, name, **extra):
        """The client (nothing sent yet) of the connection given as the nested option `name` with the
        value `values`; raises ValidationError when it lacks a required option or breaks a constraint
        (what nested_option(required=False) leaves to the moment the connection is used)."""
        problems = self.problems(values, name)
        if problems:
            raise ValidationError(problems)
        return self.client_from_options(dict(values or {}).get, **extra)

    def nested_client(self, module, name, **extra):
        """The client of the module's nested option `name`, nothing sent yet; a missing library, a
        missing option or an invalid one fails the module."""
        return self._module_client(module, self.client_from_nested, module.params.get(name), name, **extra)

    @staticmethod
    def _module_client(module, build, *args, **extra):
        try:
            return build(*args, **extra)
        except MissingLibrary as exc:
            module.fail_json(msg=missing_required_lib(exc.library), exception=exc.exception_text)
        except S2PError as exc:
            module.fail_json(**exc.as_fail_kwargs())
