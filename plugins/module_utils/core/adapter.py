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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import MissingLibrary, S2PError


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
        module = AnsibleModule(argument_spec=self.argument_spec(argument_spec), **kwargs)
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
        try:
            return self.client_from_options(module.params.get, **extra)
        except MissingLibrary as exc:
            module.fail_json(msg=missing_required_lib(exc.library), exception=exc.exception_text)
        except S2PError as exc:
            module.fail_json(**exc.as_fail_kwargs())
