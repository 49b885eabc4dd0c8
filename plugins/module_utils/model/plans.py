# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' plans: what each role hands to its modules, computed from the normalised model.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Pure Python over the model built by model/model.py (the fact s2p_model); every name, owner and
path comes from the model (which took it from model/naming.py), never spelled here. Each plan
function takes the model and one mapping of options (the role's variables, without their
prefix), checks the options' keys, and returns plain lists and dicts that the role passes to its
modules as they are. The plugins in plugins/filter/plans.py expose them to the roles.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.model import dns_records
from ansible_collections.esa.s2p.plugins.module_utils.model import naming

# Options of each plan, with their defaults (the roles' defaults/main.yml give the same).
PROJECT_ENVIRONMENT = {
    "project": None, "environment": None, "credential_secret": "ldap-bind", "rotation_period_days": 90,
    "secret_id_ttl": "24h", "secret_id_num_uses": 10, "token_ttl": "1h", "token_max_ttl": "4h",
    "addresses": None, "dns_ttl": 3600, "dns_ptr": True, "certificate_path": "", "certificate_issuer": "acme",
    "certificate_pki_roles": None, "certificate_kv": True,
}
SERVICE_ACCOUNT = {
    "projects": None, "segments": None, "accounts": None, "secret": "ldap-bind", "rotation_period_days": 90,
    "force_rotation": False, "secret_id_ttl": "24h", "secret_id_num_uses": 10, "token_ttl": "1h",
    "token_max_ttl": "4h", "extra_accounts": None, "extra_credentials": None,
}
TELESCOPE_BACKEND = {
    "stations": None, "addresses": None, "dns_ttl": 3600, "rotation_period_days": 90,
    "certificate_issuer": "acme", "certificate_pki_role": "s2p-esa-int", "image": "", "pipeline_image": "",
    "ingest_command": None, "pipeline_command": None, "ingest_replicas": 1, "pipeline_replicas": 1,
    "ingest_port": 8443,
}
PROJECT_STACKS = {
    "project": None, "environment": None, "projects": None, "environments": None, "images": None,
    "default_image": "", "replicas": 2, "commands": None, "command": None, "published_ports": None,
    "healthcheck": None, "secret_values": None, "vault_secrets": True, "secret_generate": None,
    "state": "present",
}
# The files of a certificate kept on disk (role certificate, module certificate).
CERTIFICATE_FILES = (".key", ".fullchain.pem", ".crt")


def _options(plan, defaults, options):
    """`options` over `defaults`; an unknown key (a typo in a role) is an error, not ignored."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise S2PError("the options must be a mapping, got %s" % naming.type_name(options), obj=plan)
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise S2PError("unknown option(s) %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(defaults))),
                       obj=plan)
    out = dict(defaults)
    out.update((k, v) for k, v in options.items() if v is not None)
    return out


def _names(values):
    return ", ".join(sorted(values)) or "none"


def _deployment(model, project, env, plan):
    """The model's deployment of `project` in `env`, or an error listing what the model has."""
    projects = model.get("projects") or {}
    if project in projects and env in (projects[project].get("environments") or {}):
        return projects[project]["environments"][env]
    where = ""
    if project in projects:
        where = "; environments of %s: %s" % (project, _names(projects[project].get("environments") or {}))
    raise S2PError("no environment '%s' of project '%s' in the model (projects: %s%s)"
                   % (env, project, _names(projects), where), obj=plan)


def _groups(model, projects):
    """The esa.s2p.ldap_group items of the projects' LDAP groups."""
    return [{"cn": g["cn"], "members": list(g["member_dns"]), "exclusive": True,
             "description": g.get("description") or "%s of %s" % (g["name"], g["project"])}
            for g in model.get("ldap_groups") or [] if g["project"] in projects]


def _account(uid, description):
    return {"uid": uid, "kind": "service", "attributes": {"description": description}}


def _vault_project(project, env, segment, opts):
    return {"project": project, "environment": env, "segment": segment, "secret_id_ttl": opts["secret_id_ttl"],
            "secret_id_num_uses": int(opts["secret_id_num_uses"]), "token_ttl": opts["token_ttl"],
            "token_max_ttl": opts["token_max_ttl"]}


def project_environment_plan(model, options):
    """Every object of ONE project in ONE environment (role project_environment), the items the
    model-wide roles (service_account, dns, certificate) build for the same unit."""
    opts = _options("project_environment_plan", PROJECT_ENVIRONMENT, options)
    project, env = opts["project"], opts["environment"]
    d = _deployment(model, project, env, "project_environment")
    segment, uid = d["segment"], d["service_account"]["uid"]
    owner = naming.dns_owner(project, env)
    credential_path = naming.vault_kv_path(segment, project, env, opts["credential_secret"])
    certificates = [c for c in dns_records.certificates(
        model, path=opts["certificate_path"] or None, issuer=opts["certificate_issuer"],
        pki_roles=opts["certificate_pki_roles"], kv=opts["certificate_kv"], environments=[env])
        if c["name"] == d["stack"]]
    records = dns_records.records_by_owner(model, opts["addresses"] or {}, ttl=opts["dns_ttl"], ptr=opts["dns_ptr"])
    files = []
    if opts["certificate_path"] and certificates:
        files = ["%s/%s%s" % (opts["certificate_path"], d["stack"], suffix) for suffix in CERTIFICATE_FILES]
    return {
        "segment": segment, "stack": d["stack"], "dns_owner": owner, "folder": posixpath.dirname(credential_path),
        "vault_project": _vault_project(project, env, segment, opts),
        "account": _account(uid, "%s service account of %s in %s" % (uid, project, env)),
        "credential": {"uid": uid, "path": credential_path, "owner": project, "project": project,
                       "rotation_period_days": int(opts["rotation_period_days"]), "force": False},
        "groups": _groups(model, [project]),
        "records": records.get(owner, []),
        "certificates": certificates,
        "certificate_files": files,
        "idle": _idle_backends(d, records.get(owner), certificates),
    }


def _idle_backends(deployment, records, certificates):
    """{backend: why} for the backends a present run of the unit has nothing to give, so that the
    run's summary says why they were skipped instead of leaving them silently at 0."""
    idle = {}
    if not records:
        idle["dns"] = ("no address for the unit's VMs (set dns__addresses or project_environment__addresses)"
                       if deployment.get("vms") else "the unit has no VMs")
    if not certificates:
        idle["certificate"] = "the unit has no services"
    return idle


def _changed(result, key, unchanged="none"):
    """How many items of a registered module result's `key` list changed (a skipped task: 0)."""
    items = (result or {}).get(key) if isinstance(result, dict) else None
    return len([i for i in items or [] if i.get("action") != unchanged])


def project_environment_counts(results):
    """Objects changed (present) or removed (absent) per backend by one run of the role
    project_environment, from its registered results (keys: vault, secrets, credentials,
    accounts, groups, dns, certificate, certificate_files, stack; each may be missing or skipped)."""
    r = dict((k, v if isinstance(v, dict) else {}) for k, v in (results or {}).items())
    removed = [path for folder in r.get("secrets", {}).get("folders") or [] for path in folder.get("removed") or []]
    files = [f for f in r.get("certificate_files", {}).get("results") or [] if f.get("changed")]
    return {
        "vault": _changed(r.get("vault"), "projects") + len(removed) + _changed(r.get("credentials"), "credentials"),
        "ldap": _changed(r.get("accounts"), "accounts") + _changed(r.get("groups"), "groups"),
        "dns": len([c for c in r.get("dns", {}).get("changes") or [] if not c.get("ownership")]),
        "certificate": _changed(r.get("certificate"), "certificates", "unchanged") + len(files),
        "swarm": sum(len(s.get("actions") or []) for s in r.get("stack", {}).get("stacks") or []),
    }


def add_counts(totals, counts):
    """{name: number} added up: the totals of every run so far plus this run's counts."""
    out = dict(totals or {})
    for name, number in (counts or {}).items():
        out[name] = out.get(name, 0) + number
    return out


def _unknown(selected, known):
    """The names of `selected` that are not `known`, each once."""
    out = []
    for name in selected or []:
        if name not in known and name not in out:
            out.append(name)
    return out


def service_account_plan(model, options):
    """The identity lists of the selected project environments (role service_account): Vault
    project access, the projects' LDAP groups, the service accounts and their credentials.
    Empty selections mean everything; a name the model does not know is an error."""
    opts = _options("service_account_plan", SERVICE_ACCOUNT, options)
    deployments = model.get("deployments") or []
    bad = (_unknown(opts["projects"], model.get("projects") or {}),
           _unknown(opts["segments"], model.get("segments") or {}),
           _unknown(opts["accounts"], [d["service_account"]["uid"] for d in deployments]))
    if any(bad):
        raise S2PError("unknown names in the selection: projects %s, segments %s, accounts %s (known projects: %s)"
                       % (bad[0], bad[1], bad[2], ", ".join(sorted(model.get("projects") or {}))),
                       obj="service_account")
    chosen = [d for d in deployments
              if (not opts["projects"] or d["project"] in opts["projects"])
              and (not opts["segments"] or d["segment"] in opts["segments"])
              and (not opts["accounts"] or d["service_account"]["uid"] in opts["accounts"])]
    projects = []
    for d in chosen:
        if d["project"] not in projects:
            projects.append(d["project"])
    accounts = [_account(d["service_account"]["uid"], "%s service account of %s in %s" % (
        d["service_account"]["uid"], d["project"], d["environment"])) for d in chosen]
    credentials = [{"uid": d["service_account"]["uid"],
                    "path": naming.vault_kv_path(d["segment"], d["project"], d["environment"], opts["secret"]),
                    "owner": d["project"], "project": d["project"],
                    "rotation_period_days": int(opts["rotation_period_days"])} for d in chosen]
    accounts += _extra("extra_accounts", opts["extra_accounts"], accounts)
    credentials += _extra("extra_credentials", opts["extra_credentials"], credentials)
    return {
        "accounts": accounts,
        "credentials": [dict(c, force=bool(opts["force_rotation"])) for c in credentials],
        "vault_projects": [_vault_project(d["project"], d["environment"], d["segment"], opts) for d in chosen],
        "groups": _groups(model, projects),
    }


def _extra(option, extra, planned):
    """Items another plan made (site.yml: the stations' accounts and credentials) joining this batch;
    a uid already in it is an error, never converged twice."""
    if not extra:
        return []
    if not isinstance(extra, list) or not all(isinstance(i, dict) and i.get("uid") for i in extra):
        raise S2PError("%s must be a list of items each with a uid" % option, obj="service_account_plan")
    taken = set(i["uid"] for i in planned)
    twice = sorted(i["uid"] for i in extra if i["uid"] in taken)
    if twice:
        raise S2PError("%s names %s, already in the plan" % (option, ", ".join(twice)), obj="service_account_plan")
    return [dict(i) for i in extra]


def telescope_backend_plan(model, options):
    """The desired state of the selected telescope stations (role telescope_backend): VMs, DNS
    records per owner, upload accounts and credentials, ingest certificates and stacks."""
    opts = _options("telescope_backend_plan", TELESCOPE_BACKEND, options)
    known = model.get("stations") or {}
    unknown = _unknown(opts["stations"], known)
    if unknown:
        raise S2PError("unknown stations %s (known: %s)" % (unknown, ", ".join(known) or "none"),
                       obj="telescope_backend")
    names = list(opts["stations"] or known)
    addresses = model.get("addresses") if opts["addresses"] is None else opts["addresses"]
    stations = [known[name] for name in names]
    ttl = int(opts["dns_ttl"])
    vms = [vm for s in stations for vm in s["vms"]]
    records = dns_records.records_by_owner({"vms": vms, "stations": dict(zip(names, stations))},
                                           addresses or {}, ttl=ttl, ptr=True)
    certificates = []
    for s in stations:
        cert = {"name": s["stack"], "names": [s["ingest_fqdn"]], "issuer": opts["certificate_issuer"]}
        if opts["certificate_issuer"] == "vault_pki":
            cert["pki_role"] = opts["certificate_pki_role"]
        cert["vault_kv_path"] = s["tls_path"]
        certificates.append(cert)
    return {
        "stations": [s["name"] for s in stations],
        "vms": vms,
        "records": records,
        "accounts": [_account(s["service_account"]["uid"], "uploads of the telescope station %s" % s["name"])
                     for s in stations],
        "credentials": [{"uid": s["service_account"]["uid"], "path": s["credential_path"], "owner": s["name"],
                         "project": s["name"], "rotation_period_days": int(opts["rotation_period_days"])}
                        for s in stations],
        "certificates": certificates,
        "stacks": [_station_stack(s, opts) for s in stations],
    }


def _station_stack(station, opts):
    env = {"S2P_STATION": station["name"], "S2P_SITE": station["site"], "S2P_INGEST_FQDN": station["ingest_fqdn"],
           "S2P_PORT": str(opts["ingest_port"])}
    services = []
    for camera in station["cameras"]:
        services.append(dict({"name": camera["service"], "image": opts["image"],
                              "replicas": int(opts["ingest_replicas"]), "sites": [station["site"]],
                              "networks": ["default"],
                              "env": dict(env, S2P_CAMERA=camera["name"], S2P_CAMERA_FQDN=camera["fqdn"])},
                             **({"command": list(opts["ingest_command"])} if opts["ingest_command"] else {})))
    services.append(dict({"name": station["pipeline_service"], "image": opts["pipeline_image"],
                          "replicas": int(opts["pipeline_replicas"]), "sites": [station["site"]],
                          "networks": ["default"], "env": dict(env, S2P_CAMERAS=str(len(station["cameras"])))},
                         **({"command": list(opts["pipeline_command"])} if opts["pipeline_command"] else {})))
    return {"name": station["stack"], "networks": ["default"], "services": services}


def project_stacks(model, options):
    """The esa.s2p.swarm_stack items of project environments (role project_stack): ONE unit with
    `project` and `environment` (it must be in the model), or a selection with `projects` and
    `environments` (empty: every one the model declares). Returns {stacks, reads_vault}:
    reads_vault is true when a stack to deploy takes a secret from Vault."""
    opts = _options("project_stacks", PROJECT_STACKS, options)
    if opts["project"] or opts["environment"]:
        units = [_deployment(model, opts["project"], opts["environment"], "project_stack")]
    else:
        bad = (_unknown(opts["projects"], model.get("projects") or {}),
               _unknown(opts["environments"], model.get("environments") or {}))
        if any(bad):
            raise S2PError("unknown projects %s or environments %s (projects: %s; environments: %s)" % (
                bad[0], bad[1], _names(model.get("projects") or {}), _names(model.get("environments") or {})),
                obj="project_stacks")
        units = [p["environments"][d["environment"]] for d in model.get("deployments") or []
                 for p in [model["projects"][d["project"]]]
                 if (not opts["projects"] or d["project"] in opts["projects"])
                 and (not opts["environments"] or d["environment"] in opts["environments"])]
    stacks = [_project_stack(d, opts) for d in units]
    if opts["state"] == "present":
        _check_images(stacks)
    reads_vault = opts["state"] == "present" and any("vault_path" in s for st in stacks for s in st["secrets"])
    return {"stacks": stacks, "reads_vault": reads_vault}


def _check_images(stacks):
    """Every service to deploy has an image: name the services without one and where images come from."""
    missing = ["%s (%s)" % (s["name"], ", ".join(svc["name"] for svc in s["services"] if not svc["image"]))
               for s in stacks if any(not svc["image"] for svc in s["services"])]
    if len(missing) > 5:
        missing = missing[:5] + ["%d more stacks" % (len(missing) - 5)]
    if missing:
        raise S2PError("no image for the services of %s: set stacks__default_image (or stacks__images per service) "
                       "in the inventory, or project_stack__default_image for this run" % "; ".join(missing),
                       obj="project_stacks")


def _project_stack(deployment, opts):
    values = opts["secret_values"] or {}
    secrets = []
    for secret in deployment["secrets"]:
        if secret["name"] in values:
            secrets.append({"name": secret["name"], "value": values[secret["name"]]})
        elif opts["vault_secrets"]:
            item = {"name": secret["name"], "vault_path": secret["path"]}
            if opts["secret_generate"]:
                item["generate"] = opts["secret_generate"]
            secrets.append(item)
    images, commands, ports = opts["images"] or {}, opts["commands"] or {}, opts["published_ports"] or {}
    services = []
    for service in deployment["services"]:
        item = {"name": service["name"], "image": images.get(service["name"], opts["default_image"]),
                "replicas": int(opts["replicas"]), "sites": list(deployment["sites"]),
                "env": {"S2P_PROJECT": deployment["project"], "S2P_ENVIRONMENT": deployment["environment"],
                        "S2P_FQDN": service["fqdn"], "S2P_PORT": str(service["port"])},
                "networks": ["default"], "secrets": [s["name"] for s in secrets]}
        if service["name"] in commands:
            item["command"] = list(commands[service["name"]])
        elif opts["command"]:
            port = str(service["port"] or 8080)
            item["command"] = [str(word).replace("{port}", port) for word in opts["command"]]
        if service["name"] in ports:
            item["ports"] = [{"published": int(ports[service["name"]]), "target": service["port"]}]
        if opts["healthcheck"]:
            item["healthcheck"] = opts["healthcheck"]
        services.append(item)
    return {"name": deployment["stack"], "state": opts["state"], "networks": ["default"], "secrets": secrets,
            "services": services}


def declared_environments(projects, project):
    """The environments that the inventory's s2p_projects (the raw variable, not the model)
    declares for `project`, sorted; [] for a project it does not declare."""
    for item in projects or []:
        if isinstance(item, dict) and item.get("name") == project:
            return sorted(item.get("environments") or {})
    return []


def environment_copies(stack_names, project, declared, named=None):
    """The copies of a project's environments (duplicate_environment.yml): the <env> of every
    stack `<project>-<env>` whose <env> is a valid environment name (no '-': never another
    project's stack) that the project does not declare, and the copies `named`; sorted."""
    found = set(named or [])
    for name in stack_names or []:
        if name.startswith(project + "-"):
            env = name[len(project) + 1:]
            if naming.name_error("environment", env) is None:
                found.add(env)
    return sorted(found - set(declared or []))


def environment_copy(model, options):
    """The input of esa.s2p.model_validate with the environment `source` of `project` declared
    again as `target` (role project_environment, copy.yml): {environments, projects}, from the
    inventory's raw `projects` (s2p_projects). The target must be new, the source declared."""
    opts = _options("environment_copy", {"project": None, "source": None, "target": None, "projects": None},
                    options)
    project, source, target, projects = opts["project"], opts["source"], opts["target"], opts["projects"] or []
    declared = declared_environments(projects, project)
    if project not in (model.get("projects") or {}):
        reason = "unknown project"
    elif source not in declared:
        reason = "the source is not an environment of the project"
    elif target in declared:
        reason = "the target is an environment the model declares, it is never overwritten"
    else:
        reason = None
    if reason:
        raise S2PError("cannot copy environment '%s' of project '%s' as '%s': %s (environments of the project: %s)"
                       % (source, project, target, reason, ", ".join(declared)))
    environments = list((model.get("environments") or {}).values())
    if target not in (model.get("environments") or {}):
        environments.append({"name": target, "description": "Copy of %s" % source})
    out = []
    for item in projects:
        if isinstance(item, dict) and item.get("name") == project:
            envs = dict(item["environments"])
            envs[target] = item["environments"][source]
            item = dict(item, environments=envs)
        out.append(item)
    return {"environments": environments, "projects": out}


def stack_images(services, stack):
    """{service name inside the stack: image} of the services that esa.s2p.swarm_stack_info read
    for `stack` (their names are `<stack>_<service>`): the exact images to deploy elsewhere."""
    prefix = stack + "_"
    return dict((s["name"][len(prefix):] if s["name"].startswith(prefix) else s["name"], s["image"])
                for s in services or [])


def selected(items, sites=None, segments=None, projects=None, environments=None):
    """The items (VMs, deployments: dicts with site, segment, project, environment) within the
    selection; an empty or missing criterion keeps every value."""
    criteria = [(key, set(values)) for key, values in (("site", sites), ("segment", segments),
                                                       ("project", projects), ("environment", environments))
                if values]
    return [item for item in items or [] if all(item.get(key) in values for key, values in criteria)]
