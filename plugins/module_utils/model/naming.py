# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every S2P naming rule, written once: VM names, FQDNs, LDAP DNs, Vault paths, stacks.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Pure Python (no Ansible imports), so the model validation (model/model.py), the filter
plugins and the unit tests share it.  Every function checks its inputs and raises
NamingError with a message that says which argument is wrong and what is allowed.
The rules are documented for engineers in docs/naming.md; keep both in step.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import type_name

PROGRAMME_DOMAIN = "s2p.esa.int"
DEFAULT_DOMAIN = PROGRAMME_DOMAIN
DEFAULT_LDAP_BASE_DN = "dc=s2p,dc=esa,dc=int"
DEFAULT_VAULT_KV_MOUNT = "s2p"
# The one environment whose names carry no environment label (web.neocc.s2p.esa.int).
PRODUCTION_ENVIRONMENT = "ope"
# Stations live under stations.<domain>, so no project or environment may be called so.
STATIONS_LABEL = "stations"
RESERVED_NAMES = frozenset([STATIONS_LABEL])
MAX_LABEL = 63
MAX_FQDN = 253
MAX_VM_INDEX = 99
LDAP_KINDS = {"service": ("uid", "services"), "person": ("uid", "people"), "group": ("cn", "groups")}


class NamingError(S2PError, ValueError):
    """A name (or a part of one) breaks an S2P naming rule."""


class _Rule(object):
    """Which characters a kind of name may use, and how long it may be."""

    def __init__(self, what, max_len, extra="-", first="letter", last="alnum"):
        self.what = what
        self.max_len = max_len
        self.extra = extra
        self.first = first
        self.last = last

    def allowed(self):
        chars = "lower-case letters a-z, digits"
        if self.extra:
            chars += " and " + ", ".join("'%s'" % c for c in self.extra)
        text = chars + ", starting with a letter"
        if self.last == "letter":
            text += ", ending with a letter"
        elif self.extra:
            text += ", ending with a letter or digit"
        if "-" in self.extra:
            text += ", no '--'"
        return text + ", at most %d characters" % self.max_len


# site/segment/environment are short so that VM names (<site>-<project>-<env>-<role>NN)
# always fit in one 63-character DNS label: 8+1+24+1+8+1+10+2 = 55.
RULES = {
    "site": _Rule("site", 8, extra=""),
    "segment": _Rule("segment", 8, extra=""),
    "environment": _Rule("environment", 8, extra=""),
    "project": _Rule("project", 24),
    "vm_role": _Rule("VM role", 10, extra="", last="letter"),
    "service": _Rule("service", MAX_LABEL),
    "secret": _Rule("secret", MAX_LABEL),
    "ldap_group": _Rule("LDAP group", 32),
    "person": _Rule("person (uid)", 32, extra="-._"),
    "station": _Rule("station", 32),
    "vm": _Rule("VM", MAX_LABEL),
    "vault_mount": _Rule("Vault mount", MAX_LABEL),
}


def _problems(value, rule):
    """What is wrong with `value` under `rule`, as short phrases (empty when fine)."""
    if not value:
        return ["it is empty"]
    found = []
    if any(c.isupper() for c in value):
        found.append("it has upper-case letters")
    if any(c.isspace() for c in value):
        found.append("it has spaces")
    non_ascii = sorted(set(c for c in value if ord(c) > 127 and not c.isspace()))
    if non_ascii:
        found.append("it has non-ASCII characters (%s)" % ", ".join(non_ascii))
    other = sorted(set(c for c in value if ord(c) < 128 and not c.isspace() and not c.isupper()
                       and not (c.islower() or c.isdigit() or c in rule.extra)))
    if other:
        found.append("it has %s" % ", ".join("'%s'" % c for c in other))
    if not ("a" <= value[0].lower() <= "z"):
        found.append("it does not start with a letter")
    if rule.last == "letter" and not ("a" <= value[-1].lower() <= "z"):
        found.append("it does not end with a letter")
    elif value[-1] in rule.extra:
        found.append("it ends with '%s'" % value[-1])
    if "-" in rule.extra and "--" in value:
        found.append("it has '--'")
    if len(value) > rule.max_len:
        found.append("it is %d characters long" % len(value))
    return found


def name_error(kind, value):
    """The message for a bad `kind` name, or None when `value` is a good one."""
    rule = RULES[kind]
    if not isinstance(value, str):
        return "must be a %s name (a string), got %s" % (rule.what, type_name(value))
    found = _problems(value, rule)
    if found:
        return "'%s' is not a valid %s name: %s (allowed: %s)" % (
            value, rule.what, ", ".join(found), rule.allowed())
    if kind in ("project", "environment") and value in RESERVED_NAMES:
        return "'%s' is reserved (station names live under %s.<domain>)" % (value, value)
    return None


def check_name(kind, value, arg=None):
    """Return `value` if it is a good `kind` name, else raise NamingError naming `arg`."""
    message = name_error(kind, value)
    if message:
        raise NamingError(message, obj=arg or kind)
    return value


def _label_problems(label):
    rule = _Rule("DNS label", MAX_LABEL)
    found = [p for p in _problems(label, rule) if p != "it does not start with a letter"]
    if label and label[0] == "-":
        found.append("it starts with '-'")
    return found


def domain_error(domain):
    """The message for a bad s2p_domain, or None: a DNS name equal to or under s2p.esa.int."""
    if not isinstance(domain, str):
        return "must be a DNS name (a string), got %s" % type_name(domain)
    for label in domain.split("."):
        found = _label_problems(label)
        if found:
            return "'%s' is not a valid DNS name: label '%s': %s (each label: lower-case a-z, " \
                   "digits and '-', not starting or ending with '-', at most 63 characters)" % (
                       domain, label, ", ".join(found))
    if len(domain) > MAX_FQDN:
        return "'%s...' is %d characters long (a DNS name has at most %d)" % (
            domain[:40], len(domain), MAX_FQDN)
    if domain != PROGRAMME_DOMAIN and not domain.endswith("." + PROGRAMME_DOMAIN):
        return "'%s' is outside %s (allowed: %s or a name under it, e.g. lab.%s)" % (
            domain, PROGRAMME_DOMAIN, PROGRAMME_DOMAIN, PROGRAMME_DOMAIN)
    return None


def check_domain(domain, arg="domain"):
    message = domain_error(domain)
    if message:
        raise NamingError(message, obj=arg)
    return domain


def _fqdn(labels, domain):
    check_domain(domain)
    name = ".".join(list(labels) + [domain])
    if len(name) > MAX_FQDN:
        raise NamingError("'%s' would be %d characters long (a DNS name has at most %d): "
                          "shorten the names or the domain" % (name, len(name), MAX_FQDN), obj="fqdn")
    return name


def check_index(value, arg="index", maximum=MAX_VM_INDEX):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise NamingError("must be a whole number from 1 to %d, got %r" % (maximum, value), obj=arg)
    return value


# --- vSphere -------------------------------------------------------------------------

def vm_name(site, project, env, role, index):
    """`<site>-<project>-<env>-<role><NN>`, e.g. esoc-neocc-ope-app01: one DNS label,
    also safe as a vSphere name (no '/', '\\' or '%')."""
    return "%s-%s-%s-%s%02d" % (check_name("site", site), check_name("project", project),
                                check_name("environment", env, "env"), check_name("vm_role", role, "role"),
                                check_index(index))


# Names of vSphere inventory objects (datacenter, cluster, datastore, port group, template, folder):
# vSphere's rule, not an S2P one. A VM name (above) is stricter, so it always satisfies it.
VSPHERE_FORBIDDEN = "/\\%"
MAX_VSPHERE_NAME = 80
VSPHERE_NAME_ALLOWED = "1 to %d characters without '/', '\\', '%%' or leading/trailing spaces" % MAX_VSPHERE_NAME


def vsphere_name_error(value, what):
    """The message for a bad vSphere name (a string; callers check the type), or None when it is good."""
    found = []
    if not value:
        found.append("it is empty")
    bad = sorted(set(c for c in value if c in VSPHERE_FORBIDDEN))
    if bad:
        found.append("it has %s" % ", ".join("'%s'" % c for c in bad))
    if value != value.strip():
        found.append("it has leading or trailing spaces")
    if len(value) > MAX_VSPHERE_NAME:
        found.append("it is %d characters long" % len(value))
    if found:
        return "'%s' is not a valid %s name: %s (allowed: %s)" % (value, what, ", ".join(found), VSPHERE_NAME_ALLOWED)
    return None


def vsphere_folder_ok(parts):
    """Whether every folder name of a path (split at '/') is a valid vSphere name."""
    return all(vsphere_name_error(p, "folder") is None for p in parts)


def host_fqdn(vm, domain=DEFAULT_DOMAIN):
    """`<vm name>.<domain>`, e.g. esoc-neocc-ope-app01.s2p.esa.int."""
    return _fqdn([check_name("vm", vm, "vm")], domain)


def vm_folder(datacenter, root, segment, project, env):
    """Inventory path of a project environment's VM folder: /<dc>/vm/<root>/<segment>/<project>/<env>."""
    parts = [check_name("segment", segment), check_name("project", project), check_name("environment", env, "env")]
    return "/%s/vm/%s/%s" % (datacenter, root.strip("/"), "/".join(parts))


# --- DNS -----------------------------------------------------------------------------

def service_fqdn(service, project, env, domain=DEFAULT_DOMAIN):
    """OPE: `<service>.<project>.<domain>`; other environments `<service>.<project>.<env>.<domain>`."""
    labels = [check_name("service", service), check_name("project", project)]
    if check_name("environment", env, "env") != PRODUCTION_ENVIRONMENT:
        labels.append(env)
    return _fqdn(labels, domain)


def station_endpoint_fqdn(endpoint, station, domain=DEFAULT_DOMAIN):
    """A station's service endpoint: `<endpoint>.<station>.stations.<domain>`, e.g. the upload
    endpoint ingest.flyeye-1.stations.s2p.esa.int (cameras use cam<NN>, so no endpoint may)."""
    check_name("service", endpoint, "endpoint")
    if re.match(r"^cam[0-9]+$", endpoint):
        raise NamingError("'%s' looks like a camera name (cam<NN> names the station's cameras)" % endpoint,
                          obj="endpoint")
    return _fqdn([endpoint, check_name("station", station), STATIONS_LABEL], domain)


def station_ingest_service(camera):
    """The stack service that ingests one camera's images: `ingest-cam<NN>`."""
    return "ingest-" + camera_name(camera)


def camera_name(index):
    """`cam<NN>`, numbered from 1."""
    return "cam%02d" % check_index(index, "camera")


def station_fqdn(station, domain=DEFAULT_DOMAIN, camera=None):
    """`<station>.stations.<domain>`; a camera: `cam<NN>.<station>.stations.<domain>`."""
    labels = [check_name("station", station), STATIONS_LABEL]
    if camera is not None:
        labels.insert(0, camera_name(camera))
    return _fqdn(labels, domain)


# Ownership TXT records of managed DNS names live at `<DNS_OWNER_LABEL>.<name>`.
DNS_OWNER_LABEL = "_s2p-owner"


def dns_owner(project, env):
    """The owner of DNS records (ownership TXT, exclusive runs): `<project>/<env>`."""
    return "%s/%s" % (check_name("project", project), check_name("environment", env, "env"))


def check_dns_owner(owner, arg="owner"):
    """Return `owner` if it reads `<project>/<env>` with valid names, else raise NamingError."""
    if not isinstance(owner, str) or owner.count("/") != 1:
        raise NamingError("must be <project>/<environment>, e.g. neocc/ope, got %r" % (owner,), obj=arg)
    project, env = owner.split("/")
    for kind, value in (("project", project), ("environment", env)):
        message = name_error(kind, value)
        if message:
            raise NamingError(message, obj=arg)
    return owner


def reverse_dns(ip):
    """The PTR owner name of an IPv4/IPv6 address, e.g. 5.0.11.10.in-addr.arpa."""
    try:
        return ipaddress.ip_address(ip if isinstance(ip, str) else "").reverse_pointer
    except ValueError:
        raise NamingError("%r is not an IP address" % (ip,), obj="ip") from None


# --- Addresses -----------------------------------------------------------------------
# A site's subnet is cut into /24-sized blocks: a project (or a station) has one block number
# at every site (its `address_block`), an environment a quarter of it (its slot, 0 to 3: 64
# addresses), and a VM its ordinal within the slot (1 to 62). Stations use their whole block:
# offset 1 the station itself, 1 + N camera N, 100 + N their VMs.
ADDRESS_SLOTS = {"dev": 0, "ire": 1, "preope": 2, "ope": 3}
MAX_ADDRESS_BLOCK = 254
MAX_SLOT_ORDINAL = 62


def block_address(subnet, block, offset):
    """The address `offset` (1 to 254) of block `block` (1 to 254) of the site subnet:
    network address + 256 * block + offset, e.g. 10.11.0.0/16, 7, 65 -> 10.11.7.65."""
    try:
        network = ipaddress.ip_network(subnet if isinstance(subnet, str) else "")
    except ValueError:
        raise NamingError("%r is not a network in CIDR notation" % (subnet,), obj="subnet") from None
    check_index(block, "address_block", MAX_ADDRESS_BLOCK)
    check_index(offset, "offset", 254)
    address = network.network_address + 256 * block + offset
    if address not in network or address == network.broadcast_address:
        raise NamingError("block %d does not fit in the site subnet %s (%d addresses): use a lower "
                          "address_block or a larger subnet" % (block, network, network.num_addresses),
                          obj="address_block")
    return str(address)


def vm_address(subnet, block, slot, ordinal):
    """A project VM's static address: block `block`, offset 64 * slot + ordinal."""
    if isinstance(slot, bool) or slot not in (0, 1, 2, 3):
        raise NamingError("must be 0, 1, 2 or 3 (a quarter of the block), got %r" % (slot,), obj="address_slot")
    check_index(ordinal, "ordinal", MAX_SLOT_ORDINAL)
    return block_address(subnet, block, 64 * slot + ordinal)


def station_address(subnet, block, camera=None, vm_ordinal=None):
    """A station's addresses in its block: itself 1, camera N 1 + N, its VM number N 100 + N."""
    if camera is not None:
        return block_address(subnet, block, 1 + check_index(camera, "camera", 64))
    if vm_ordinal is not None:
        return block_address(subnet, block, 100 + check_index(vm_ordinal, "ordinal", 99))
    return block_address(subnet, block, 1)


# --- LDAP ----------------------------------------------------------------------------

_DN_SPECIAL = '"+,;<>\\'
_BASE_DN = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]*=[^,=+]+(,[a-zA-Z][a-zA-Z0-9-]*=[^,=+]+)*$")


def escape_dn_value(value):
    """Escape an attribute value for a DN string (RFC 4514 section 2.4)."""
    out = []
    for pos, char in enumerate(value):
        if char in _DN_SPECIAL:
            out.append("\\" + char)
        elif char == "\x00":
            out.append("\\00")
        elif (char == " " and (pos == 0 or pos == len(value) - 1)) or (char == "#" and pos == 0):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def check_base_dn(base_dn, arg="base_dn"):
    if not isinstance(base_dn, str) or not _BASE_DN.match(base_dn):
        raise NamingError("%r is not a DN like dc=s2p,dc=esa,dc=int" % (base_dn,), obj=arg)
    return base_dn


def service_account_uid(project, env):
    """A project environment's LDAP service account: `<project>-<env>`."""
    return "%s-%s" % (check_name("project", project), check_name("environment", env, "env"))


def ldap_group_cn(project, group):
    """A project's LDAP group: `<project>-<group>`, e.g. neocc-developers."""
    return "%s-%s" % (check_name("project", project), check_name("ldap_group", group, "group"))


def ldap_dn(kind, value, base_dn=DEFAULT_LDAP_BASE_DN):
    """`uid=<v>,ou=services|people,<base>` or `cn=<v>,ou=groups,<base>`; `value` is the
    finished RDN value (use service_account_uid / ldap_group_cn first)."""
    if kind not in LDAP_KINDS:
        raise NamingError("unknown LDAP entry kind %r (allowed: %s)" % (kind, ", ".join(sorted(LDAP_KINDS))),
                          obj="kind")
    if kind == "person":
        check_name("person", value, "uid")
    elif not isinstance(value, str) or not value or len(value) > 64 or value != value.strip():
        raise NamingError("must be a non-empty string of at most 64 characters, got %r" % (value,),
                          obj="value")
    attribute, ou = LDAP_KINDS[kind]
    return "%s=%s,ou=%s,%s" % (attribute, escape_dn_value(value), ou, check_base_dn(base_dn))


# --- Vault and Swarm -----------------------------------------------------------------

def vault_kv_path(segment, project, env, secret):
    """KV v2 path inside the mount (s2p): `<segment>/<project>/<env>/<secret>`."""
    return "/".join([check_name("segment", segment), check_name("project", project),
                     check_name("environment", env, "env"), check_name("secret", secret)])


MAX_KV_ELEMENT = 63  # as a DNS label: every path the naming rules make fits
MAX_KV_PATH = 255
_KV_ELEMENT = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def kv_path_error(path):
    """Why `path` is not a KV path of the S2P policy, or None: lower-case elements of a-z, 0-9,
    '-', '_' and '.', each at most MAX_KV_ELEMENT characters, separated by '/', at most
    MAX_KV_PATH in all (every path of vault_kv_path fits; Vault itself would take far longer ones,
    which no tool here could show or type)."""
    if not isinstance(path, str) or not path:
        return "must be a KV path like pd/neocc/ope/ldap-bind, got %r" % (path,)
    for element in path.split("/"):
        if len(element) > MAX_KV_ELEMENT:
            return "element %r... is %d characters long (at most %d)" % (element[:20], len(element), MAX_KV_ELEMENT)
        if not _KV_ELEMENT.match(element):
            return "%r is not a KV path like pd/neocc/ope/ldap-bind (lower-case letters, digits, '-', '_', '.', " \
                   "separated by '/'; use the esa.s2p.vault_path filter)" % (path,)
    if len(path) > MAX_KV_PATH:
        return "%r... is %d characters long (at most %d)" % (path[:40], len(path), MAX_KV_PATH)
    return None


def check_mount(mount, arg="mount"):
    return check_name("vault_mount", mount, arg)


def vault_policy_name(project, env):
    """Vault policy and AppRole of a project environment: `s2p-<project>-<env>`."""
    return "s2p-%s-%s" % (check_name("project", project), check_name("environment", env, "env"))


def stack_name(project, env):
    """Docker Swarm stack of a project environment: `<project>-<env>`."""
    return "%s-%s" % (check_name("project", project), check_name("environment", env, "env"))
