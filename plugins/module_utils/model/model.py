# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The S2P model: validate the inventory variables and normalise them.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

build_model() takes the s2p_* inventory variables, reports EVERY problem in one
ValidationError (each "<item path>.<field>: <what is wrong> (<what is allowed>)"),
and otherwise returns the normalised model: defaults filled in, names keyed by name,
and every derived name (VM names, FQDNs, LDAP DNs, Vault paths, stacks) computed
with the rules of model/naming.py.  Pure Python, no Ansible imports.  See docs/naming.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems
from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.model.limits import VM_LIMITS
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import NamingError, name_error, type_name

VARIABLES = ("s2p_domain", "s2p_ldap_base_dn", "s2p_vault_kv_mount", "s2p_sites", "s2p_segments",
             "s2p_environments", "s2p_projects", "s2p_stations")

DEFAULT_SEGMENTS = [
    {"name": "swe", "description": "Space Weather"},
    {"name": "sd", "description": "Space Debris"},
    {"name": "pd", "description": "Planetary Defence"},
    {"name": "dsdc", "description": "Data Systems / Data Centre"},
]
DEFAULT_ENVIRONMENTS = [
    {"name": "dev", "description": "Development"},
    {"name": "ire", "description": "Integration"},
    {"name": "preope", "description": "Pre-operations (staging, shared with partners)"},
    {"name": "ope", "description": "Operations (production, public)"},
]
STATION_TYPES = {"flyeye": 16, "telescope": None}  # type -> fixed number of cameras
# The VMs every station's backend has at its site (one each), in address order.
STATION_VMS = (
    {"role": "ingest", "cpus": 4, "memory_mb": 8192, "disk_gb": 100,
     "description": "receives the cameras' images"},
    {"role": "processing", "cpus": 8, "memory_mb": 16384, "disk_gb": 200,
     "description": "runs the detection pipeline"},
    {"role": "archive", "cpus": 2, "memory_mb": 4096, "disk_gb": 2048,
     "description": "keeps the raw and processed images"},
)
STATION_SEGMENT = "pd"
# The stack service of a station's processing pipeline and its upload endpoint (DNS, certificate).
STATION_PIPELINE_SERVICE = "pipeline"
STATION_INGEST_ENDPOINT = "ingest"
STATION_SECRET = "ldap-bind"
STATION_TLS_SECRET = "tls"
MAX_CAMERAS = 64
VM_DEFAULTS = {"count": 1, "cpus": 2, "memory_mb": 4096, "disk_gb": 40}
SITE_FIELDS = ("datacenter", "cluster", "datastore", "folder", "network", "subnet", "gateway",
               "dns_servers", "template")


def _names(known):
    return ", ".join(sorted(known or ())) or "none"


class _Checker(Problems):
    """The model's checks; each adds its problems and returns the clean value, or None after reporting."""

    def mapping(self, path, value, what, required=(), optional=()):
        if not isinstance(value, dict):
            self.add(path, "must be a mapping (%s), got %s" % (what, type_name(value)))
            return {}
        allowed = sorted(set(required) | set(optional))
        for key in value:
            if key not in allowed:
                self.add("%s.%s" % (path, key), "unknown field (allowed: %s)" % ", ".join(allowed))
        for key in required:
            if value.get(key) is None:
                self.add("%s.%s" % (path, key), "required field is missing")
        return value

    def named_items(self, path, value, what, kind, key="name"):
        """A list of mappings identified by `key` (a bare string stands for {key: string}).

        Yields (item path, item, name); name is None when missing, invalid or a duplicate,
        so the caller still checks the fields but does not keep the item.  Items are
        addressed by name (s2p_sites[esoc]) when they have a good one, else by index.
        """
        if value is None:
            return []
        if not isinstance(value, list):
            hint = ""
            if isinstance(value, dict):
                hint = ": write one list item per %s with its '%s' (a list keeps duplicate names " \
                       "detectable, YAML mapping keys silently collapse)" % (what, key)
            self.add(path, "must be a list of %ss, got %s%s" % (what, type_name(value), hint))
            return []
        seen, out = set(), []
        for index, item in enumerate(value):
            if isinstance(item, str):
                item = {key: item}
            name = item.get(key) if isinstance(item, dict) else None
            good = isinstance(item, dict) and name_error(kind, name) is None
            item_path = "%s[%s]" % (path, name if good and name not in seen else index)
            if not isinstance(item, dict):
                self.add(item_path, "must be a mapping with '%s' (or just the %s name), got %s" % (
                    key, what, type_name(item)))
                continue
            if name is None:
                self.add(item_path + "." + key, "required field is missing")
            elif not good:
                self.add(item_path + "." + key, name_error(kind, name))
            elif name in seen:
                self.add(item_path + "." + key, "duplicate %s name '%s' (first defined at %s[%s])" % (
                    what, name, path, name))
                good = False
            if good:
                seen.add(name)
            out.append((item_path, item, name if good else None))
        return out

    def text(self, path, value, default=""):
        if value is None:
            return default
        if not isinstance(value, str):
            self.add(path, "must be a string, got %s" % type_name(value))
            return None
        return value

    def vsphere_name(self, path, value, what):
        """vSphere inventory names: naming.vsphere_name_error."""
        value = self.text(path, value, None)
        if value is None:
            return None
        return value if self.check(path, naming.vsphere_name_error(value, what)) else None

    def folder(self, path, value):
        value = self.text(path, value, None)
        if value is None:
            return None
        parts = value.strip("/").split("/")
        if not naming.vsphere_folder_ok(parts):
            self.add(path, "'%s' is not a valid VM folder path (allowed: folder names of 1 to %d "
                           "characters separated by '/', relative to the datacenter's VM folder, "
                           "e.g. s2p or S2P/Projects)" % (value, naming.MAX_VSPHERE_NAME))
            return None
        return "/".join(parts)

    def limit(self, path, value, field, default=None):
        """A VM size within the S2P policy of model/limits.py."""
        if value is None:
            return default
        return value if self.check(path, VM_LIMITS[field].problem(value)) else None

    def integer(self, path, value, low, high, default=None):
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(path, "must be a whole number from %d to %d, got %r" % (low, high, value))
            return None
        return value

    def choice(self, path, value, choices, default):
        if value is None:
            return default
        if not isinstance(value, str) or value not in choices:
            self.add(path, "unknown value %r (allowed: %s)" % (value, ", ".join(sorted(choices))))
            return None
        return value

    def address(self, path, value, what="an IP address"):
        try:
            return ipaddress.ip_address(value if isinstance(value, str) else "")
        except ValueError:
            self.add(path, "%r is not %s (e.g. 10.11.0.1)" % (value, what))
            return None

    def network(self, path, value):
        try:
            return ipaddress.ip_network(value if isinstance(value, str) else "")
        except ValueError as exc:
            self.add(path, "%r is not a network in CIDR notation like 10.11.0.0/16 (%s)" % (value, exc))
            return None

    def reference(self, path, value, what, known):
        """`known` is None when the list of such names is itself broken: then nothing is checked."""
        if known is None:
            return value
        if value is not None and (not isinstance(value, str) or value not in known):
            self.add(path, "unknown %s %r (known: %s)" % (what, value, _names(known)))
            return None
        return value

    def references(self, path, value, what, known, required=False, hint=""):
        """A list of names that must all be in `known`, without repeats."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, "must be a list of %s names, got %s" % (what, type_name(value)))
            return None
        if required and not value:
            self.add(path, "is empty: %s (known: %s)" % (hint, _names(known)))
            return None
        out = []
        for index, name in enumerate(value):
            if name in out:
                self.add("%s[%d]" % (path, index), "%s %r is listed twice" % (what, name))
            elif self.reference("%s[%d]" % (path, index), name, what, known) is not None:
                out.append(name)
        return out


def _named(checker, path, value, what, default=None):
    """Segments and environments: a name and an optional description; environments also
    an address slot (0 to 3, defaults for dev/ire/preope/ope) for the static VM addresses."""
    out = {}
    items = default if value is None else value
    optional = ("name", "description", "address_slot") if what == "environment" else ("name", "description")
    for item_path, item, name in checker.named_items(path, items, what, what):
        checker.mapping(item_path, item, "a %s with %s" % (what, ", ".join(optional)), (), optional)
        description = checker.text(item_path + ".description", item.get("description"))
        if name:
            out[name] = {"name": name, "description": description}
        if name and what == "environment":
            out[name]["address_slot"] = checker.integer(item_path + ".address_slot", item.get("address_slot"),
                                                        0, 3, naming.ADDRESS_SLOTS.get(name))
    if not isinstance(items, list) or not items:
        if isinstance(items, list):
            checker.add(path, "defines no %s" % what)
        return None  # broken: references to it are not checked
    return out


def _sites(checker, value):
    out = {}
    if value is None:
        checker.add("s2p_sites", "is required: a list of sites, each with name and %s" % ", ".join(SITE_FIELDS))
        return None
    subnets = []
    for path, item, name in checker.named_items("s2p_sites", value, "site", "site"):
        checker.mapping(path, item, "a site", SITE_FIELDS, ("name", "description"))
        site = {"name": name, "description": checker.text(path + ".description", item.get("description"))}
        for field in ("datacenter", "cluster", "datastore", "network", "template"):
            site[field] = checker.vsphere_name("%s.%s" % (path, field), item.get(field), "vSphere " + field)
        site["folder"] = checker.folder(path + ".folder", item.get("folder"))
        subnet = checker.network(path + ".subnet", item.get("subnet")) if item.get("subnet") is not None else None
        gateway = checker.address(path + ".gateway", item.get("gateway")) \
            if item.get("gateway") is not None else None
        if subnet and gateway and (gateway not in subnet or gateway in (subnet.network_address,
                                                                        subnet.broadcast_address)):
            checker.add(path + ".gateway", "%s is not a host address of the subnet %s" % (gateway, subnet))
        servers = item.get("dns_servers")
        if servers is not None and (not isinstance(servers, list) or not servers):
            checker.add(path + ".dns_servers", "must be a non-empty list of IP addresses, got %r" % (servers,))
            servers = []
        site["dns_servers"] = [str(a) for i, s in enumerate(servers or [])
                               for a in [checker.address("%s.dns_servers[%d]" % (path, i), s)] if a]
        for other_path, other in subnets if name else ():
            if subnet and subnet.version == other.version and subnet.overlaps(other):
                checker.add(path + ".subnet", "%s overlaps %s.subnet %s" % (subnet, other_path, other))
        if subnet and name:
            subnets.append((path, subnet))
        site.update(subnet=str(subnet) if subnet else None, gateway=str(gateway) if gateway else None)
        if name:
            out[name] = site
    if not isinstance(value, list) or not value:
        if isinstance(value, list):
            checker.add("s2p_sites", "defines no site")
        return None  # broken: references to sites are not checked
    return out


def _vm_specs(checker, path, value):
    specs = []
    for item_path, item, role in checker.named_items(path, value, "VM role", "vm_role", key="role"):
        checker.mapping(item_path, item, "a VM group", (), ("role", "description", "template") + tuple(VM_DEFAULTS))
        spec = {"role": role, "description": checker.text(item_path + ".description", item.get("description")),
                "template": checker.vsphere_name(item_path + ".template", item.get("template"), "vSphere template")}
        for field, default in VM_DEFAULTS.items():
            spec[field] = checker.limit("%s.%s" % (item_path, field), item.get(field), field, default)
        if role:
            specs.append((item_path, spec))
    return specs


def _project_items(checker, path, item):
    """The environment-independent lists of a project: services, secrets, LDAP groups."""
    services, secrets, groups = [], [], []
    for spath, svc, name in checker.named_items(path + ".services", item.get("services"), "service", "service"):
        checker.mapping(spath, svc, "a service", (), ("name", "description", "port"))
        port = checker.integer(spath + ".port", svc.get("port"), 1, 65535)
        if name:
            services.append((spath, {"name": name, "port": port,
                                     "description": checker.text(spath + ".description", svc.get("description"))}))
    for spath, sec, name in checker.named_items(path + ".secrets", item.get("secrets"), "secret", "secret"):
        checker.mapping(spath, sec, "a secret", (), ("name", "description"))
        if name:
            secrets.append({"name": name, "description": checker.text(spath + ".description", sec.get("description"))})
    for gpath, grp, name in checker.named_items(path + ".ldap_groups", item.get("ldap_groups"),
                                                "LDAP group", "ldap_group"):
        checker.mapping(gpath, grp, "an LDAP group", (), ("name", "description", "members"))
        members = grp.get("members") or []
        if not isinstance(members, list):
            checker.add(gpath + ".members", "must be a list of person uids, got %s" % type_name(members))
            members = []
        for index, uid in enumerate(members):
            checker.check("%s.members[%d]" % (gpath, index), name_error("person", uid))
        if name:
            groups.append({"name": name, "members": sorted(set(m for m in members if not name_error("person", m))),
                           "description": checker.text(gpath + ".description", grp.get("description"))})
    return services, secrets, groups


def _project(checker, path, item, name, known, settings):
    """Check one project; returns its normalised form (None when it has errors)."""
    before = len(checker)
    checker.mapping(path, item, "a project", ("segment", "environments"),
                    ("name", "description", "services", "vms", "secrets", "ldap_groups", "address_block"))
    block = _address_block(checker, path, item, name, known)
    segment = checker.reference(path + ".segment", item.get("segment"), "segment", known["segments"])
    services, secrets, groups = _project_items(checker, path, item)
    vm_specs = _vm_specs(checker, path + ".vms", item.get("vms"))
    description = checker.text(path + ".description", item.get("description"))
    envs = {}
    raw_envs = item.get("environments")
    if raw_envs is not None and not isinstance(raw_envs, dict):
        checker.add(path + ".environments", "must be a mapping of environment name to {sites: [...]}, got %s"
                    % type_name(raw_envs))
    elif raw_envs == {}:
        checker.add(path + ".environments", "is empty: a project needs at least one environment (known: %s)"
                    % _names(known["environments"]))
    for env, spec in (raw_envs or {}).items() if isinstance(raw_envs, dict) else ():
        env_path = "%s.environments.%s" % (path, env)
        checker.reference(env_path, env, "environment", known["environments"])
        if spec is None:
            checker.add(env_path + ".sites", "required field is missing: every environment of a project "
                        "needs at least one site (known: %s)" % _names(known["sites"]))
            continue
        checker.mapping(env_path, spec, "an environment of the project, with sites", ("sites",), ("vms",))
        sites = checker.references(env_path + ".sites", spec.get("sites"), "site", known["sites"], required=True,
                                   hint="the project has no site in this environment, list at least one")
        env_vms = _vm_specs(checker, env_path + ".vms", spec.get("vms")) if "vms" in spec else vm_specs
        envs[env] = (sites, env_vms)
    if block and known["sites"]:
        used = sorted(set(s for sites, _vms in envs.values() for s in sites or ()))
        _block_fits(checker, path + ".address_block", block, [known["sites"][s] for s in used])
    if not name or len(checker) > before or not settings["ok"] or known["sites"] is None:
        return None
    project = {"name": name, "segment": segment, "description": description, "address_block": block,
               "services": [svc for _p, svc in services], "secrets": secrets, "ldap_groups": [],
               "environments": {}}
    for group in groups:
        cn = naming.ldap_group_cn(name, group["name"])
        group.update(project=name, cn=cn, dn=naming.ldap_dn("group", cn, settings["base_dn"]),
                     member_dns=[naming.ldap_dn("person", m, settings["base_dn"]) for m in group["members"]])
        project["ldap_groups"].append(group)
    for env, (sites, env_vms) in envs.items():
        project["environments"][env] = _deployment(checker, path, project, env, sites, services, env_vms,
                                                   known, settings)
    return project


def _deployment(checker, path, project, env, sites, services, vm_specs, known, settings):
    """Every derived name of one project in one environment."""
    name, segment, domain = project["name"], project["segment"], settings["domain"]
    uid = naming.service_account_uid(name, env)
    slot = (known["environments"] or {}).get(env, {}).get("address_slot")
    out = {"project": name, "segment": segment, "environment": env, "sites": sites,
           "stack": naming.stack_name(name, env), "vault_policy": naming.vault_policy_name(name, env),
           "vault_approle": naming.vault_policy_name(name, env),
           "service_account": {"uid": uid, "dn": naming.ldap_dn("service", uid, settings["base_dn"])},
           "services": [], "vms": [], "secrets": []}
    for spath, svc in services:
        try:
            out["services"].append(dict(svc, project=name, environment=env,
                                        fqdn=naming.service_fqdn(svc["name"], name, env, domain)))
        except NamingError as exc:
            checker.add(spath + ".name", "environment %s: %s" % (env, exc.message))
    for secret in project["secrets"]:
        out["secrets"].append(dict(secret, project=name, environment=env, mount=settings["mount"],
                                   path=naming.vault_kv_path(segment, name, env, secret["name"])))
    for site_name in sites:
        ordinal = 0
        for vpath, spec in vm_specs:
            for index in range(1, spec["count"] + 1):
                ordinal += 1
                ip = None
                if project["address_block"] and slot is not None:
                    ip = _address(checker, vpath + ".count", "environment %s at %s: " % (env, site_name),
                                  naming.vm_address, known["sites"][site_name]["subnet"],
                                  project["address_block"], slot, ordinal)
                vm = _vm(checker, vpath + ".role", "environment %s: " % env, known["sites"][site_name], spec,
                         dict(project=name, segment=segment, environment=env, index=index, ip=ip), domain)
                if vm:
                    out["vms"].append(vm)
    return out


def _vm(checker, path, context, site, spec, identity, domain):
    """One VM of a project (or a station) at a site, every field vsphere_vm reads."""
    project, env = identity["project"], identity["environment"]
    try:
        name = naming.vm_name(site["name"], project, env, spec["role"], identity["index"])
        fqdn = naming.host_fqdn(name, domain)
    except NamingError as exc:
        checker.add(path, context + exc.message)
        return None
    return dict(identity, **{
        "name": name, "fqdn": fqdn, "site": site["name"], "role": spec["role"], "description": spec["description"],
        "cpus": spec["cpus"], "memory_mb": spec["memory_mb"], "disk_gb": spec["disk_gb"],
        "template": spec.get("template") or site["template"], "datacenter": site["datacenter"],
        "cluster": site["cluster"], "datastore": site["datastore"], "network": site["network"],
        "folder": naming.vm_folder(site["datacenter"], site["folder"] or "", identity["segment"], project, env),
        "subnet": site["subnet"], "gateway": site["gateway"], "dns_servers": site["dns_servers"]})


def _address(checker, path, context, rule, subnet, *args, **kwargs):
    """An address from `rule` (a naming function), or None after reporting why it does not fit."""
    try:
        return rule(subnet, *args, **kwargs)
    except NamingError as exc:
        checker.add(path, context + str(exc))
        return None


def _block_fits(checker, path, block, sites):
    """Report once per site whose subnet cannot hold the block (before any address is made)."""
    for site in sites:
        if block and not site["subnet"]:
            checker.add(path, "%s has no subnet: an address_block needs the site's subnet" % site["name"])
        elif block:
            _address(checker, path, "at %s: " % site["name"], naming.block_address, site["subnet"], block, 254)


def _address_block(checker, path, item, name, known):
    """A project's or station's address block (or None), unique across both."""
    block = checker.integer(path + ".address_block", item.get("address_block"), 1, naming.MAX_ADDRESS_BLOCK)
    if block is not None:
        blocks = known.setdefault("address_blocks", {})
        if block in blocks:
            checker.add(path + ".address_block", "block %d is already used by %s (each project and station "
                                                 "needs its own)" % (block, blocks[block]))
        else:
            blocks[block] = path
    return block


def _stations(checker, value, known, settings, projects):
    out = {}
    for path, item, name in checker.named_items("s2p_stations", value, "station", "station"):
        checker.mapping(path, item, "a telescope station", ("site",),
                        ("name", "type", "cameras", "description", "segment", "address_block"))
        site = checker.reference(path + ".site", item.get("site"), "site", known["sites"])
        kind = checker.choice(path + ".type", item.get("type"), STATION_TYPES, "flyeye")
        segment = checker.reference(path + ".segment", item.get("segment") or STATION_SEGMENT, "segment",
                                    known["segments"])
        block = _address_block(checker, path, item, name, known)
        fixed = STATION_TYPES.get(kind)
        cameras = checker.integer(path + ".cameras", item.get("cameras"), 1, MAX_CAMERAS, fixed)
        if kind and fixed and cameras and cameras != fixed:
            checker.add(path + ".cameras", "a %s station has %d cameras, got %d" % (kind, fixed, cameras))
        elif kind and not fixed and item.get("cameras") is None:
            checker.add(path + ".cameras", "required field is missing for a %s station (1 to %d)"
                        % (kind, MAX_CAMERAS))
        if name and name in projects:
            checker.add(path + ".name", "'%s' is also a project: a station's VMs, account and stack are "
                                        "named like a project's ope environment, so the names must differ" % name)
            name = None
        description = checker.text(path + ".description", item.get("description"))
        if not (name and site and kind and cameras and segment and settings["ok"] and known["sites"]):
            continue
        before = len(checker)
        _block_fits(checker, path + ".address_block", block, [known["sites"][site]])
        if len(checker) > before:
            continue
        station = _station(checker, path, name, known["sites"][site], kind, segment, block, cameras, settings)
        if station:
            station["description"] = description
            out[name] = station
    return out


def _station(checker, path, name, site, kind, segment, block, cameras, settings):
    """Every derived name of one station: its cameras, and its backend named like a project's ope
    environment (VMs <site>-<station>-ope-<role>01, account and stack <station>-ope)."""
    domain, env, subnet = settings["domain"], naming.PRODUCTION_ENVIRONMENT, site["subnet"]

    def address(context, **where):
        return _address(checker, path + ".address_block", context, naming.station_address, subnet, block,
                        **where) if block else None

    try:
        uid = naming.service_account_uid(name, env)
        station = {
            "name": name, "site": site["name"], "type": kind, "segment": segment, "environment": env,
            "address_block": block, "fqdn": naming.station_fqdn(name, domain), "ip": address(""),
            "ingest_fqdn": naming.station_endpoint_fqdn(STATION_INGEST_ENDPOINT, name, domain),
            "stack": naming.stack_name(name, env), "dns_owner": naming.dns_owner(name, env),
            "service_account": {"uid": uid, "dn": naming.ldap_dn("service", uid, settings["base_dn"])},
            "credential_path": naming.vault_kv_path(segment, name, env, STATION_SECRET),
            "tls_path": naming.vault_kv_path(segment, name, env, STATION_TLS_SECRET),
            "pipeline_service": STATION_PIPELINE_SERVICE,
            "cameras": [{"name": naming.camera_name(i), "index": i,
                         "fqdn": naming.station_fqdn(name, domain, camera=i),
                         "service": naming.station_ingest_service(i),
                         "ip": address("camera %d: " % i, camera=i)}
                        for i in range(1, cameras + 1)],
            "vms": []}
    except NamingError as exc:
        checker.add(path + ".name", exc.message)
        return None
    for ordinal, spec in enumerate(STATION_VMS, 1):
        vm = _vm(checker, path + ".name", "", site, spec,
                 dict(project=name, segment=segment, environment=env, index=1,
                      ip=address("VM %s: " % spec["role"], vm_ordinal=ordinal)), domain)
        if vm:
            station["vms"].append(vm)
    return station


def _addresses(deployments, stations):
    """{VM name, station name or <station>-cam<NN>: IP} of every static address in the model,
    as the DNS role takes them (dns__addresses)."""
    found = dict((vm["name"], vm["ip"]) for d in deployments for vm in d["vms"] if vm["ip"])
    for station in stations.values():
        found.update((vm["name"], vm["ip"]) for vm in station["vms"] if vm["ip"])
        found.update(("%s-%s" % (station["name"], cam["name"]), cam["ip"]) for cam in station["cameras"] if cam["ip"])
        if station["ip"]:
            found[station["name"]] = station["ip"]
    return found


def _settings(checker, variables):
    """s2p_domain, s2p_ldap_base_dn and s2p_vault_kv_mount, with their defaults."""
    settings = {"ok": True}
    for var, key, default, check in (("s2p_domain", "domain", naming.DEFAULT_DOMAIN, naming.check_domain),
                                     ("s2p_ldap_base_dn", "base_dn", naming.DEFAULT_LDAP_BASE_DN,
                                      naming.check_base_dn),
                                     ("s2p_vault_kv_mount", "mount", naming.DEFAULT_VAULT_KV_MOUNT,
                                      naming.check_mount)):
        value = variables.get(var)
        try:
            settings[key] = check(default if value is None else value)
        except NamingError as exc:
            checker.add(var, exc.message)
            settings.update(ok=False)
            settings[key] = None
    return settings


def build_model(variables):
    """Validate the s2p_* variables (a dict; missing or None means default) and return the
    normalised model, or raise ValidationError listing every problem."""
    checker = _Checker()
    settings = _settings(checker, variables)
    known = {"sites": _sites(checker, variables.get("s2p_sites")),
             "segments": _named(checker, "s2p_segments", variables.get("s2p_segments"), "segment",
                                DEFAULT_SEGMENTS),
             "environments": _named(checker, "s2p_environments", variables.get("s2p_environments"),
                                    "environment", DEFAULT_ENVIRONMENTS)}
    projects = {}
    for path, item, name in checker.named_items("s2p_projects", variables.get("s2p_projects"), "project",
                                                "project"):
        project = _project(checker, path, item, name, known, settings)
        if name and project:
            projects[name] = project
    stations = _stations(checker, variables.get("s2p_stations"), known, settings, projects)
    checker.raise_if_any()
    deployments = [d for p in projects.values() for d in p["environments"].values()]
    return {
        "domain": settings["domain"], "ldap_base_dn": settings["base_dn"], "vault_kv_mount": settings["mount"],
        "production_environment": naming.PRODUCTION_ENVIRONMENT,
        "sites": known["sites"], "segments": known["segments"], "environments": known["environments"],
        "projects": projects, "stations": stations,
        "deployments": [dict((k, v) for k, v in d.items() if k not in ("services", "vms", "secrets"))
                        for d in deployments],
        "vms": [vm for d in deployments for vm in d["vms"]] + [vm for s in stations.values() for vm in s["vms"]],
        "addresses": _addresses(deployments, stations),
        "services": [svc for d in deployments for svc in d["services"]],
        "secrets": [sec for d in deployments for sec in d["secrets"]],
        "ldap_groups": [g for p in projects.values() for g in p["ldap_groups"]],
    }
