# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX objects of esa.s2p (playbooks/awx_configure.yml) built from the data in awx/ and the
names of the model: job templates with their surveys, credential types, credential inputs,
schedules.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Pure Python over plain data: the survey choices named by `choices_from` are the model's names
(sites, segments, environments, projects, stations) or the backends, computed by the caller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError

CREDENTIAL_TYPE_KEYS = ("name", "description", "kind", "inputs", "injectors")
SURVEY_BOUNDS = ("min", "max")


def credential_names(types, suffix=""):
    """{backend: name of its AWX credential} (the type's name and `suffix`)."""
    return dict((t["backend"], t["name"] + (suffix or "")) for t in types)


def credential_types(types):
    """The credential types as awx.awx.credential_type takes them (without our own keys)."""
    return [dict((key, t.get(key)) for key in CREDENTIAL_TYPE_KEYS) for t in types]


def credential_inputs(types, given=None, environ=None):
    """{credential type name: inputs}: each field from given[<type id>][<field id>], else from
    the environment variable S2P_AWX_<TYPE ID>_<FIELD ID>; fields given by neither (or empty)
    are left out, boolean fields are booleans."""
    given, environ = given or {}, environ or {}
    out = {}
    for t in types:
        mine = given.get(t["id"]) or {}
        inputs = {}
        for field in t["inputs"]["fields"]:
            if field["id"] in mine:
                value = mine[field["id"]]
            else:
                value = environ.get(("S2P_AWX_%s_%s" % (t["id"], field["id"])).upper(), "")
            if len(str(value)) > 0:
                inputs[field["id"]] = boolean(value, strict=False) if field.get("type") == "boolean" else value
        out[t["name"]] = inputs
    return out


def _survey_element(question, choices):
    element = {"question_name": question["question_name"],
               "question_description": question.get("question_description", ""),
               "variable": question["variable"], "type": question["type"],
               "required": question.get("required", False)}
    if "choices_from" in question:
        if question["choices_from"] not in choices:
            known = ", ".join(sorted(choices))
            raise S2PError("choices_from must be one of %s, got %r" % (known, question["choices_from"]),
                           obj="survey question %s" % question["variable"])
        element["choices"] = choices[question["choices_from"]]
    elif "choices" in question:
        element["choices"] = question["choices"]
    if "default" in question:
        default = question["default"]
        element["default"] = "\n".join(default) if question["type"] == "multiselect" else default
    else:
        element["default"] = ""
    for bound in SURVEY_BOUNDS:
        if bound in question:
            element[bound] = question[bound]
    return element


def job_templates(templates, choices, names, instance_groups=None):
    """The job templates as awx.awx.job_template takes them: the credential of each backend
    (`names`, from credential_names), the survey with its choices computed, and the instance
    groups the template runs in: those of the sites of its `instance_groups`, in that order,
    from `instance_groups` ({site: {name: ...}})."""
    groups = instance_groups or {}
    out = []
    for jt in templates:
        spec = [_survey_element(q, choices) for q in jt.get("survey") or []]
        unknown = [b for b in jt.get("backends") or [] if b not in names]
        if unknown:
            raise S2PError("no credential type for the backends %s" % unknown, obj="job template %s" % jt["name"])
        sites = jt.get("instance_groups") or []
        missing = [site for site in sites if site not in groups]
        if missing:
            raise S2PError("no instance group for the sites %s (awx_instance_groups has %s)"
                           % (missing, sorted(groups)), obj="job template %s" % jt["name"])
        survey = {"name": jt["name"], "description": jt["description"], "spec": spec} if spec else {}
        out.append({"name": jt["name"], "description": jt["description"], "playbook": jt["playbook"],
                    "job_type": jt.get("job_type", "run"), "diff_mode": jt.get("diff_mode", False),
                    "credentials": [names[b] for b in jt.get("backends") or []],
                    "instance_groups": [groups[site]["name"] for site in sites],
                    "extra_vars": jt.get("extra_vars") or {}, "survey_enabled": len(spec) > 0, "survey_spec": survey})
    return out


def schedules(items, templates):
    """The schedules as awx.awx.schedule takes them: `extra_data` holds the answers of the job
    template's survey, its defaults unless the schedule gives its own (AWX accepts no other variable
    from a schedule of a template that does not ask for variables). Every problem of every
    schedule is reported at once."""
    by_name = dict((t["name"], t) for t in templates)
    problems, out = [], []
    for item in items:
        name = item.get("name") or "(no name)"
        missing = [key for key in ("name", "job_template", "rrule") if not item.get(key)]
        if missing:
            problems.append("schedule %s: %s missing" % (name, ", ".join(missing)))
            continue
        template = by_name.get(item["job_template"])
        if template is None:
            problems.append("schedule %s: no job template named %r in awx_job_templates" % (name, item["job_template"]))
            continue
        survey = template.get("survey") or []
        answers = dict((q["variable"], q["default"]) for q in survey if "default" in q)
        unknown = sorted(set(item.get("extra_data") or {}) - set(q["variable"] for q in survey))
        if unknown:
            problems.append("schedule %s: extra_data %s is not a survey question of %s"
                            % (name, ", ".join(unknown), template["name"]))
            continue
        answers.update(item.get("extra_data") or {})
        out.append({"name": item["name"], "description": item.get("description", ""),
                    "job_template": template["name"], "rrule": item["rrule"], "extra_data": answers,
                    "enabled": item.get("enabled", True)})
    if problems:
        raise S2PError("; ".join(problems), obj="awx_schedules")
    return out
