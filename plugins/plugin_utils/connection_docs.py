# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The doc fragment variants of a backend's connection, built from ONE text of its options.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Each doc fragment of plugins/doc_fragments/<backend>.py writes its connection options once
(the option docs of its argument spec, module_utils/<backend>/adapter.py), and
doc_fragment() makes its ModuleDocFragment class with every variant (built by ConnectionDocs):

  DOCUMENTATION        the options at the top level (the backend's own modules and plugins)
  PLUGINS              with DOCUMENTATION, the env: entries plugins read (as community.hashi_vault
                       does); taken from the options' "If not set, the environment variable E(X)
                       is used." sentences, so a variable is named once
  CONNECTION           the options as ONE dict option named after the backend, for a module
                       that always needs this second backend (BackendAdapter.nested_option())
  OPTIONAL_CONNECTION  the same for a module that needs it only for some input
                       (nested_option(required=False): no suboption is required)
  ACTION_GROUP         the action_group attribute and its module_defaults note
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
import textwrap

import yaml

ENV_SENTENCE = re.compile(r"the environment variable E\(([A-Z0-9_]+)\) is used")


def _dump(data):
    return "\n" + yaml.safe_dump(data, default_flow_style=False, sort_keys=False, width=110)


class ConnectionDocs:
    """The variants of one backend's connection docs.

    backend: the name of the backend, its action group and its nested option (vault, dns...);
    options: YAML text of the connection options (a mapping, not indented); what: what the
    connection reaches, for the nested option's description ("Vault"); notes, requirements:
    lists of the top-level docs."""

    def __init__(self, backend, options, what, notes=(), requirements=()):
        self.backend = backend
        self.options_text = textwrap.dedent(options).strip("\n")
        self.options = yaml.safe_load(self.options_text)
        self.what = what
        self.notes = list(notes)
        self.requirements = list(requirements)

    def env(self):
        """{option: environment variable} as the option docs name them."""
        found = {}
        for name, option in self.options.items():
            for line in option.get("description") or []:
                match = ENV_SENTENCE.search(line)
                if match:
                    found[name] = match.group(1)
        return found

    @property
    def documentation(self):
        text = "\noptions:\n" + textwrap.indent(self.options_text, "  ") + "\n"
        tail = {}
        if self.notes:
            tail["notes"] = self.notes
        if self.requirements:
            tail["requirements"] = self.requirements
        return text + (_dump(tail)[1:] if tail else "")

    @property
    def plugins(self):
        return _dump({"options": dict((name, {"env": [{"name": variable}]}) for name, variable in self.env().items())})

    def _nested(self, required):
        name = self.backend
        references = re.compile(r"O\((%s)([=)])" % "|".join(re.escape(n) for n in self.options))
        suboptions = copy.deepcopy(self.options)
        for option in suboptions.values():
            option["description"] = [references.sub(r"O(%s.\1\2" % name, line) for line in option["description"]]
            if not required:
                option.pop("required", None)
        env = self.env()
        description = [
            "Connection to %s, with the options, defaults and environment variables of the C(esa.s2p.%s) modules "
            "(for example C(\"{{ s2p_%s_connection }}\"))." % (self.what, name, name),
            "Each suboption falls back to its environment variable (%s), also when the option is not given."
            % ", ".join("E(%s)" % env[key] for key in self.options if key in env),
        ]
        needed = [key for key, option in self.options.items() if option.get("required")]
        if not required:
            description.append(
                "Only input that uses %s needs this option; then it needs %s, and the suboptions are checked "
                "against each other." % (self.what, " and ".join("O(%s.%s)" % (name, key) for key in needed))
                if needed else
                "Only input that uses %s needs this option; the suboptions are checked against each other then."
                % self.what)
        doc = {"options": {name: {"description": description, "type": "dict", "suboptions": suboptions}}}
        if self.requirements:
            doc["requirements"] = self.requirements
        return _dump(doc)

    @property
    def connection(self):
        return self._nested(required=True)

    @property
    def optional_connection(self):
        return self._nested(required=False)

    @property
    def action_group(self):
        group = "esa.s2p.%s" % self.backend
        return _dump({
            "attributes": {"action_group": {
                "support": "full", "membership": [group],
                "description": "Takes its connection options from C(module_defaults) of C(group/%s)." % group}},
            "notes": ["Set the connection once for many tasks with C(module_defaults) on the action group "
                      "C(group/%s)." % group],
        })


def doc_fragment(backend, options, what, notes=(), requirements=()):
    """The ModuleDocFragment class of a backend's doc fragment (the arguments: see ConnectionDocs)."""
    docs = ConnectionDocs(backend, options, what, notes, requirements)
    return type("ModuleDocFragment", (object,), {
        "__doc__": "Connection options of the esa.s2p %s backend (spec: module_utils/%s/adapter.py), in every "
                   "variant of plugin_utils/connection_docs.py." % (backend, backend),
        "DOCUMENTATION": docs.documentation,
        "PLUGINS": docs.plugins,
        "CONNECTION": docs.connection,
        "OPTIONAL_CONNECTION": docs.optional_connection,
        "ACTION_GROUP": docs.action_group,
    })
