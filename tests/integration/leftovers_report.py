"""The leftover check's pure logic: compare two snapshots of the shared lab (leftovers.py) and
write the report. No server, no pytest: unit-tested in tests/unit/test_leftovers_report.py.

Which new objects fail the run. The lab is shared: other engineers' runs create and delete
their own objects while this run goes on, and some tests converge the lab model itself (the
AWX job template tests run site.yml on inventories/lab), which on a fresh lab (CI) adds hundreds
of objects with fixed names. Debris that piles up run after run always carries a random name,
and every random test name comes from the `prefix` fixture ("t" and six hex digits). So:
- a new object holding a prefix THIS run handed out was left behind by this run: failure;
- a new object holding another test prefix belongs to a run going on beside this one: counted;
- a new object holding no test prefix (the lab model, a benchmark, a fixed-name object) is
  listed as a warning: a fixed name cannot pile up, and the lab model is the lab's own state.
`strict` (S2P_LEFTOVER_CHECK=strict, for a private lab nothing else uses) fails on every new object.

Objects that disappeared are a warning, never a failure: other runs' objects, held at the start,
go away with their own cleanup (counted, not listed), and a test that deletes a lab object it
did not make leaves nothing that piles up; the warning names it so it can be fixed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Objects the collection creates once, on first use, under a fixed name by design, and keeps:
# never a leftover. The ACME account key of the automation (roles certificate, telescope_backend
# and project_environment: certificate__account_key_vault_path), made by the first certificate
# order on a fresh lab and reused by every later one.
LAB_SINGLETONS = {"vault": {"kv s2p/automation/acme-account"}}

# The `prefix` fixture's names ("t" is not a hex digit: a hash in a name never looks like one).
TEST_PREFIX = re.compile(r"t[0-9a-f]{6}")
SHOWN = 20  # names listed per backend and kind at most


@dataclass(frozen=True)
class Reading:
    """One backend's object names, or why they could not be read (names is None then)."""

    names: frozenset[str] | None
    error: str | None = None


@dataclass
class Change:
    """One backend's difference between the start and the end of the run."""

    backend: str
    before: int | None = None  # object counts; None when the backend could not be read
    after: int | None = None
    error: str | None = None  # why it was not checked
    left_behind: list[str] = field(default_factory=list)  # this run's: the run fails
    unprefixed: list[str] = field(default_factory=list)  # new, no test prefix: a warning
    others_new: int = 0  # objects of other runs on the shared lab
    others_gone: int = 0
    gone: list[str] = field(default_factory=list)  # there at the start, gone at the end: a warning


def owner(name: str, own_prefixes: set[str]) -> str:
    """'ours', 'other' (another run's test prefix) or 'none' (no test prefix in the name)."""
    if any(prefix in name for prefix in own_prefixes):
        return "ours"
    return "other" if TEST_PREFIX.search(name) else "none"


def compare(backend: str, before: Reading, after: Reading, own_prefixes: set[str], strict: bool = False) -> Change:
    if before.names is None or after.names is None:
        when = "at the start" if before.names is None else "at the end"
        return Change(backend, error=f"unreachable {when} ({before.error or after.error})")
    change = Change(backend, before=len(before.names), after=len(after.names))
    for name in sorted(after.names - before.names - LAB_SINGLETONS.get(backend, set())):
        kind = "ours" if strict else owner(name, own_prefixes)
        if kind == "ours":
            change.left_behind.append(name)
        elif kind == "other":
            change.others_new += 1
        else:
            change.unprefixed.append(name)
    for name in sorted(before.names - after.names):
        if not strict and owner(name, own_prefixes) == "other":
            change.others_gone += 1
        else:
            change.gone.append(name)
    return change


def failed(changes: list[Change]) -> bool:
    return any(change.left_behind for change in changes)


def _listed(names: list[str]) -> list[str]:
    lines = [f"    {name}" for name in names[:SHOWN]]
    if len(names) > SHOWN:
        lines.append(f"    ... and {len(names) - SHOWN} more")
    return lines


def report(changes: list[Change]) -> list[str]:
    """One summary line per backend, clean or not, then the names behind any failure or warning."""
    lines = []
    for c in changes:
        if c.error:
            lines.append(f"leftovers: {c.backend} NOT CHECKED: {c.error}")
            continue
        others = f"; other runs: {c.others_new} new, {c.others_gone} gone" if c.others_new or c.others_gone else ""
        lines.append(f"leftovers: {c.backend} {len(c.left_behind)} new from this run "
                     f"({c.before} before, {c.after} after{others})")
        if c.left_behind:
            lines.append(f"leftovers: {c.backend} LEFT BEHIND by this run ({len(c.left_behind)}):")
            lines += _listed(c.left_behind)
        if c.unprefixed:
            lines.append(f"leftovers: WARNING {c.backend}: {len(c.unprefixed)} new without a test prefix "
                         "(the lab model converged, a benchmark, or a test naming objects without its prefix):")
            lines += _listed(c.unprefixed)
        if c.gone:
            lines.append(f"leftovers: WARNING {c.backend}: {len(c.gone)} there at the start and gone at the end "
                         "(another run's fixed-name objects, or a test deleting lab objects it did not make):")
            lines += _listed(c.gone)
    if failed(changes):
        lines.append("leftovers: FAILED: this run left objects in the shared lab (names above; "
                     "S2P_LEFTOVER_CHECK=0 turns the check off)")
    return lines
