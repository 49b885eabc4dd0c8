# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pyVmomi client for vCenter that knows nothing of Ansible.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

One client = one session: connect() logs in once, disconnect() logs out. Reads go
through retrieve(), which fetches any number of objects of several types with ONE
PropertyCollector call over a ContainerView (three API round trips whatever the
number of objects). Every failure is raised as a VSphereError subclass whose
message names the server, the user or the object and says what to do.
health_report() runs the checks of vsphere_health (a failed step is a failed check, not
an exception) so modules and plugins report the same.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import ssl
import time
import traceback

try:
    from pyVim import connect as vim_connect
    from pyVmomi import vim, vmodl
except ImportError:
    PYVMOMI_IMPORT_ERROR = traceback.format_exc()
    vim_connect = vim = vmodl = None
else:
    PYVMOMI_IMPORT_ERROR = None

from ansible_collections.esa.s2p.plugins.module_utils.core import tls
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import (
    ConnectionFailure,
    MissingLibrary,
    S2PError,
)
from ansible_collections.esa.s2p.plugins.module_utils.core.health import HealthReport, check


class VSphereError(S2PError):
    """A vSphere call failed. `check` names the health check it belongs to."""

    check = "api"


class VSphereUnreachable(VSphereError, ConnectionFailure):
    check = "reachable"


class VSphereTLSError(VSphereError, ConnectionFailure):
    check = "tls"


class VSphereLoginError(VSphereError, ConnectionFailure):
    check = "login"


class VSphereForbidden(VSphereError):
    check = "permission"


class VSphereNotFound(VSphereError):
    """An inventory object (datacenter, template, folder...) is not where it was looked for."""


class VSphereDuplicateName(VSphereError):
    """An object of that name already exists where vCenter was asked to create one."""


class VSphereInsufficientResources(VSphereError):
    """vCenter refused for lack of CPU, memory, disk space or licences."""


class VSphereTaskTimeout(VSphereError):
    """A vCenter task did not finish in time; it was cancelled."""


# The wording of TLS failures that names vSphere's own options (see tls.DEFAULT_WORDING).
TLS_WORDING = {
    tls.MISMATCH: ("the server certificate does not match the host name or address used",
                   "Connect with a name listed in the certificate's subjectAltName"),
    tls.UNTRUSTED: ("the server certificate is not trusted by {trust}",
                    "Set ca_path to the CA that signed the server certificate "
                    "(validate_certs=false only for throw-away labs)"),
    tls.NOT_TLS: ("TLS handshake failed ({text})", "Check that the port serves https, or set protocol=http"),
}


class VSphereClient:
    """A logged-in session to one vCenter (or ESXi) endpoint."""

    def __init__(self, hostname, username, password, port=443, validate_certs=True,
                 ca_path=None, protocol="https", timeout=30):
        if PYVMOMI_IMPORT_ERROR:
            raise MissingLibrary("pyvmomi", PYVMOMI_IMPORT_ERROR)
        self.hostname = hostname
        self.port = int(port)
        self.username = username
        self._password = password
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.protocol = protocol
        self.timeout = timeout
        self.si = None
        self.content = None

    @property
    def endpoint(self):
        return "%s:%s" % (self.hostname, self.port)

    # --- session -------------------------------------------------------------
    def connect(self):
        """Log in once; raise VSphereUnreachable / VSphereTLSError / VSphereLoginError."""
        if self.si is not None:
            return self
        for name in ("hostname", "username"):
            if not getattr(self, name):
                env = "VMWARE_HOST" if name == "hostname" else "VMWARE_USER"
                raise VSphereError("no vSphere %s given" % name, hint="Set the %s option or %s" % (name, env))
        if not self._password:
            raise VSphereLoginError("no password given for user %s" % self.username,
                                    hint="Set the password option or VMWARE_PASSWORD")
        context = self._ssl_context()
        # pyVmomi's first request (the API version probe) has no timeout of its own.
        previous_timeout = socket.getdefaulttimeout()
        socket.setdefaulttimeout(self.timeout)
        try:
            self.si = vim_connect.SmartConnect(
                protocol=self.protocol, host=self.hostname, port=self.port, user=self.username,
                pwd=self._password, sslContext=context, httpConnectionTimeout=self.timeout)
        except vim.fault.InvalidLogin:
            raise VSphereLoginError(
                "login failed for user %s at %s" % (self.username, self.endpoint),
                hint="Check the user name and password (VMWARE_USER / VMWARE_PASSWORD)") from None
        except vmodl.MethodFault as fault:
            raise self._fault_error(fault, "logging in") from fault
        except Exception as exc:  # pyVmomi raises bare exceptions for transport problems
            raise self._transport_error(exc) from exc
        finally:
            socket.setdefaulttimeout(previous_timeout)
        self.content = self.si.content
        return self

    def disconnect(self):
        """Log out; never raises (the session expires on the server anyway)."""
        if self.si is None:
            return
        try:
            vim_connect.Disconnect(self.si)
        except Exception:  # logging out of a dead connection is not worth a failure
            pass
        self.si = None
        self.content = None

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc_info):
        self.disconnect()

    def _ssl_context(self):
        """An explicit context: pyVmomi silently skips verification for 127.0.0.1 without one."""
        if self.protocol == "http":
            return None
        if self.validate_certs and self.ca_path and not os.path.exists(self.ca_path):
            raise VSphereTLSError("CA file %s does not exist" % self.ca_path,
                                  hint="Set ca_path to the PEM file of the CA that signed vCenter's certificate")
        return tls.ssl_context(self.validate_certs, self.ca_path)

    def _transport_error(self, exc):
        text = str(exc)
        if isinstance(exc, vim.fault.HostConnectFault):
            text = exc.msg or text
        if isinstance(exc, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text or "[SSL" in text:
            reason, hint = tls.tls_failure_reason(text, self.ca_path, TLS_WORDING)
            return VSphereTLSError("TLS to vSphere at %s failed: %s" % (self.endpoint, reason), hint=hint)
        if isinstance(exc, (ConnectionRefusedError, socket.timeout, socket.gaierror, OSError)) \
                or "refused" in text or "timed out" in text:
            return VSphereUnreachable(
                "cannot reach vSphere at %s (%s)" % (self.endpoint, text),
                hint="Check hostname and port and that vCenter is running and reachable from this host")
        if "is not a VIM server" in text:
            return VSphereUnreachable(
                "%s://%s does not answer as a vSphere API endpoint" % (self.protocol, self.endpoint),
                hint="Check hostname, port and protocol")
        return VSphereUnreachable("cannot talk to vSphere at %s: %s" % (self.endpoint, text),
                                  hint="Check hostname, port and protocol")

    def _fault_error(self, fault, action, obj=None):
        """Map a vSphere fault raised while doing `action` to a VSphereError."""
        text = getattr(fault, "msg", None) or type(fault).__name__
        if isinstance(fault, vim.fault.InvalidLogin) or isinstance(fault, vim.fault.NotAuthenticated):
            return VSphereLoginError("session of user %s at %s is not valid while %s" % (
                self.username, self.endpoint, action), hint="Log in again; check the password")
        if isinstance(fault, vim.fault.NoPermission):
            privilege = getattr(fault, "privilegeId", None) or "?"
            return VSphereForbidden("user %s lacks privilege %s while %s" % (self.username, privilege, action), obj=obj,
                                    hint="Grant the role holding %s to the user on this object" % privilege)
        if isinstance(fault, vim.fault.HostConnectFault):
            return self._transport_error(fault)
        if isinstance(fault, vim.fault.DuplicateName):
            return VSphereDuplicateName("an object named %r already exists there while %s" % (
                getattr(fault, "name", "?"), action), obj=obj,
                hint="Remove or rename the existing object, or let the module adopt it by its marker")
        if isinstance(fault, vim.fault.InsufficientResourcesFault):
            return VSphereInsufficientResources("not enough resources while %s: %s" % (action, text), obj=obj,
                                                hint="Free capacity on the cluster/datastore or lower the request")
        if isinstance(fault, (vim.fault.NotFound, vmodl.fault.ManagedObjectNotFound)):
            return VSphereNotFound("not found while %s: %s" % (action, text), obj=obj,
                                   hint="The object was removed meanwhile; run again")
        return VSphereError("vSphere at %s refused %s: %s" % (self.endpoint, action, text), obj=obj)

    # --- reads -----------------------------------------------------------------
    def about(self):
        """Product facts of the endpoint (no extra round trip: part of the service content)."""
        about = self.content.about
        return {
            "name": about.name, "full_name": about.fullName, "version": about.version,
            "build": about.build, "api_type": about.apiType, "api_version": about.apiVersion,
            "instance_uuid": about.instanceUuid,
        }

    def retrieve(self, properties, root=None, recursive=True):
        """Read properties of every object of the given types under `root` in one call.

        properties: {vim.VirtualMachine: ["name", "config.uuid"], vim.Datacenter: ["name"]}.
        Returns a list of VimObject (a dict of the properties that are set; unset ones are
        absent, as vCenter skips them) in the server's order.
        """
        if self.content is None:
            raise VSphereError("not connected", hint="Call connect() first")
        types = list(properties)
        view = None
        try:
            view = self.content.viewManager.CreateContainerView(root or self.content.rootFolder, types, recursive)
            traverse = vmodl.query.PropertyCollector.TraversalSpec(
                name="traverseView", path="view", skip=False, type=vim.view.ContainerView)
            spec = vmodl.query.PropertyCollector.FilterSpec(
                objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                propSet=[vmodl.query.PropertyCollector.PropertySpec(type=t, pathSet=list(properties[t]), all=False)
                         for t in types])
            contents = self.content.propertyCollector.RetrieveContents([spec])
        except vmodl.MethodFault as fault:
            raise self._fault_error(fault, "reading %s" % ", ".join(t.__name__ for t in types)) from fault
        except (OSError, ssl.SSLError) as exc:
            raise self._transport_error(exc) from exc
        finally:
            if view is not None:
                try:
                    view.DestroyView()
                except Exception:  # the view dies with the session anyway
                    pass
        return [VimObject(item) for item in contents or []]

    def retrieve_objects(self, refs, kind, paths):
        """Read `paths` of the given objects (all of vim type `kind`) in ONE call: {moid: {path: value}}."""
        if not refs:
            return {}
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=ref, skip=False) for ref in refs],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=kind, pathSet=list(paths), all=False)])
        contents = self.call("reading %d %s objects" % (len(refs), kind.__name__),
                             self.content.propertyCollector.RetrieveContents, [spec])
        return dict((item.obj._moId, dict((p.name, p.val) for p in item.propSet or [])) for item in contents or [])

    def datacenter_names(self):
        """Names of all datacenters, sorted."""
        return sorted(obj["name"] for obj in self.retrieve({vim.Datacenter: ["name"]}))

    # --- writes ----------------------------------------------------------------
    def call(self, action, method, *args, **kwargs):
        """Call a vSphere method; faults become VSphereError naming `action`."""
        try:
            return method(*args, **kwargs)
        except vmodl.MethodFault as fault:
            raise self._fault_error(fault, action) from fault
        except (OSError, ssl.SSLError) as exc:
            raise self._transport_error(exc) from exc

    def create_folder(self, parent, name):
        """Create folder `name` under `parent` (a vim.Folder); return the existing one when another
        run created it meanwhile (idempotent)."""
        try:
            return parent.CreateFolder(name)
        except vim.fault.DuplicateName as fault:
            existing = getattr(fault, "object", None)
            if isinstance(existing, vim.Folder) and existing != parent:
                return existing
            for child in self.call("reading folder %s" % name, lambda: parent.childEntity):
                if isinstance(child, vim.Folder) and child.name == name:
                    return child
            raise self._fault_error(fault, "creating folder %s" % name) from fault
        except vmodl.MethodFault as fault:
            raise self._fault_error(fault, "creating folder %s" % name) from fault

    def run_tasks(self, jobs, parallel=8, timeout=3600, poll=0.2):
        """Start vCenter tasks with at most `parallel` running at once and wait on them together.

        jobs: [(label, start)] where start() calls a *_Task method and returns the task. Every
        round polls ALL running tasks with ONE property-collector call. A task running longer than
        `timeout` seconds is cancelled and fails with VSphereTaskTimeout. Returns
        {label: (result, None) or (None, VSphereError)}; never raises for a failed task.
        """
        pending = list(jobs)
        running = {}  # task moid -> (label, task, started)
        outcome = {}
        delay = poll
        while pending or running:
            while pending and len(running) < max(1, parallel):
                label, start = pending.pop(0)
                try:
                    task = self.call("starting %s" % label, start)
                except VSphereError as exc:
                    outcome[label] = (None, exc)
                    continue
                running[task._moId] = (label, task, time.monotonic())
            if not running:
                continue
            for moid, (state, result, error) in self._task_states([t for _l, t, _s in running.values()]).items():
                label, task, started = running[moid]
                if state == "success":
                    outcome[label] = (result, None)
                elif state == "error":
                    outcome[label] = (None, self._fault_error(error, label) if error is not None else
                                      VSphereError("task failed while %s" % label))
                elif time.monotonic() - started > timeout:
                    outcome[label] = (None, self._cancel(task, label, timeout))
                else:
                    continue
                del running[moid]
            if running:
                time.sleep(delay)
                delay = min(delay * 1.5, 2.0)
        return outcome

    def _cancel(self, task, label, timeout):
        """CancelTask on a task that ran out of time; the error says whether vCenter accepted it."""
        try:
            task.CancelTask()
            what = "vCenter task %s was cancelled" % task._moId
        except Exception as exc:  # it may have just ended, or not be cancellable
            what = "cancelling vCenter task %s failed (%s)" % (task._moId, getattr(exc, "msg", None) or exc)
        return VSphereTaskTimeout(
            "task timeout: %s did not finish within %ss; %s" % (label, timeout, what),
            hint="Check vCenter's recent tasks; raise task_timeout if vCenter is just slow. A cancelled clone "
                 "that still completes carries the S2P marker: the next run adopts it, it never clones twice")

    def running_clones(self):
        """{(destination name, destination folder moid): task} of the clone tasks vCenter is running now.

        A run that was killed leaves its clones running on vCenter; the next run waits for them instead
        of cloning again. One read of TaskManager.recentTask; only when clones are running, one
        QueryEvents for their VmBeingClonedEvent (it names the destination; its chainId is the task's
        eventChainId), plus one query per clone whose event is not among the latest 1,000."""
        collector = vmodl.query.PropertyCollector
        spec = collector.FilterSpec(
            objectSet=[collector.ObjectSpec(obj=self.content.taskManager, skip=True, selectSet=[
                collector.TraversalSpec(name="recentTask", path="recentTask", skip=False, type=vim.TaskManager)])],
            propSet=[collector.PropertySpec(type=vim.Task, all=False, pathSet=[
                "info.descriptionId", "info.state", "info.eventChainId", "info.queueTime"])])
        contents = self.call("reading vCenter's recent tasks", self.content.propertyCollector.RetrieveContents,
                             [spec]) or []
        running = {}
        for item in contents:
            props = dict((p.name, p.val) for p in item.propSet or [])
            if str(props.get("info.descriptionId") or "").startswith("VirtualMachine.clone") \
                    and props.get("info.state") in ("queued", "running") and props.get("info.eventChainId"):
                running[props["info.eventChainId"]] = (item.obj, props.get("info.queueTime"))
        if not running:
            return {}
        manager = self.content.eventManager
        since = min(t for _task, t in running.values() if t is not None) if any(
            t is not None for _task, t in running.values()) else None
        query = vim.event.EventFilterSpec(eventTypeId=["VmBeingClonedEvent"], maxCount=1000)
        if since is not None:
            query.time = vim.event.EventFilterSpec.ByTime(beginTime=since)
        events = list(self.call("reading clone events", manager.QueryEvents, query) or [])
        for chain in set(running) - set(e.chainId for e in events):
            events.extend(self.call("reading clone events", manager.QueryEvents, vim.event.EventFilterSpec(
                eventTypeId=["VmBeingClonedEvent"], eventChainId=chain)) or [])
        found = {}
        for event in events:
            if event.chainId in running and event.destFolder is not None:
                found[(event.destName, event.destFolder.folder._moId)] = running[event.chainId][0]
        return found

    def _task_states(self, tasks):
        """{moid: (state, result, fault)} of `tasks` in ONE property-collector call."""
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=t, skip=False) for t in tasks],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(
                type=vim.Task, pathSet=["info.state", "info.result", "info.error"], all=False)])
        contents = self.call("waiting for tasks", self.content.propertyCollector.RetrieveContents, [spec])
        states = {}
        for item in contents or []:
            props = dict((p.name, p.val) for p in item.propSet or [])
            states[item.obj._moId] = (props.get("info.state"), props.get("info.result"), props.get("info.error"))
        return states

    def custom_field_keys(self, names, create=False):
        """{name: key} of VirtualMachine custom attributes (one read); missing ones are created
        when `create`, else left out."""
        manager = self.content.customFieldsManager
        fields = self.call("reading custom attributes", lambda: manager.field) or []
        keys = dict((f.name, f.key) for f in fields if f.managedObjectType in (None, vim.VirtualMachine))
        for name in names:
            if name not in keys and create:
                try:
                    keys[name] = manager.AddCustomFieldDef(name=name, moType=vim.VirtualMachine).key
                except vim.fault.DuplicateName:  # created by a concurrent run
                    fields = self.call("reading custom attributes", lambda: manager.field) or []
                    keys.update((f.name, f.key) for f in fields if f.name == name)
                except vmodl.MethodFault as fault:
                    raise self._fault_error(fault, "creating custom attribute %s" % name) from fault
        return keys


class VimObject(dict):
    """Properties of one managed object, with its reference in `.ref`."""

    def __init__(self, object_content):
        super(VimObject, self).__init__((prop.name, prop.val) for prop in object_content.propSet or [])
        self.ref = object_content.obj
        self.missing = dict((m.path, m.fault) for m in getattr(object_content, "missingSet", None) or [])

    @property
    def moid(self):
        return self.ref._moId


# --- health: what vsphere_health reports (kept here so plugins can report the same) ----------
CONNECT_STEPS = ("reachable", "tls", "login")


def connection_checks(client, error=None):
    """The connection steps up to the one that failed (all passed when error is None)."""
    steps = [s for s in CONNECT_STEPS if not (s == "tls" and client.protocol == "http")]
    if error is not None and error.check not in steps:
        return [check(error.check, False, str(error))]
    passed = {
        "reachable": "%s answers" % client.endpoint,
        "tls": "certificate verified" if client.validate_certs
               else "TLS without certificate validation (validate_certs=false)",
        "login": "logged in as %s at %s" % (client.username, client.endpoint),
    }
    checks = []
    for step in steps:
        if error is not None and step == error.check:
            checks.append(check(step, False, str(error)))
            return checks
        checks.append(check(step, True, passed[step]))
    return checks


def datacenter_check(found, expected):
    missing = [name for name in expected if name not in found]
    if missing:
        return check("datacenters", False, "missing datacenter(s): %s (found: %s); create them in "
                     "vCenter or correct the expected list (the model's sites)" % (
                         ", ".join(missing), ", ".join(found) or "none"))
    return check("datacenters", True, "%d datacenter(s): %s" % (len(found), ", ".join(found) or "none"))


def health_report(client, datacenters=(), templates_check=None):
    """{healthy, checks, about, version, datacenters} for a not yet connected client; never raises
    VSphereError (a failed step is a failed check). Logs in once and out at the end.
    templates_check(client) -> a check, run last when given (see vsphere/template_check.py)."""
    report = HealthReport()
    try:
        client.connect()
    except VSphereError as exc:
        report.extend(connection_checks(client, exc))
        return report.as_dict()
    try:
        report.extend(connection_checks(client))
        about = client.about()
        report.facts.update(about=about, version=about["version"])
        report.checks[-1]["msg"] += " (%s)" % about["full_name"]
        try:
            report.facts["datacenters"] = client.datacenter_names()
            report.checks.append(datacenter_check(report.facts["datacenters"], datacenters))
        except VSphereError as exc:
            report.add("datacenters", False, str(exc))
        if templates_check is not None:
            try:
                report.checks.append(templates_check(client))
            except VSphereError as exc:
                report.add("templates", False, str(exc))
    finally:
        client.disconnect()
    return report.as_dict()
