"""The lab AWX's software: its source and virtualenv, built once per machine and kept in a cache.

Inputs (S2P_AWX_SOURCE_DIR, default ../shared/vendor/awx beside the checkout when present):
  awx-<AWX_VERSION>-noui.tar.gz  `git archive` of the AWX tag, without docs/ and the UI's sources
  dab-<DAB_VERSION>.tar.gz       django-ansible-base at its tag (AWX 24.6.1 needs 2024.7.1)
  SHA256SUMS                     their checksums, verified before anything is unpacked

The tag's requirements/requirements.txt is installed without uwsgi, uwsgitop, pip and
setuptools (the venv keeps pip<24.1 and setuptools<70: awx/__init__.py imports pkg_resources);
its git requirements are replaced by the releases of GIT_REPLACEMENTS and django-ansible-base
from its tarball.  AWX itself goes in with --no-deps --no-build-isolation -e (with build
isolation its setup fails on pkg_resources).

The cache folder's name carries the AWX version and a hash of everything that shapes the build
(pins, patches, Python): an unchanged build is reused by every later `up`.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

AWX_VERSION = "24.6.1"
DAB_VERSION = "2024.7.1"
AWX_TARBALL = f"awx-{AWX_VERSION}-noui.tar.gz"
DAB_TARBALL = f"dab-{DAB_VERSION}.tar.gz"
# Left out of the tag's requirements.txt: the venv's own tools and the uwsgi server we do not run.
DROPPED = {"uwsgi", "uwsgitop", "pip", "setuptools"}
# In place of requirements_git.txt (branches of forks): released versions that work with 24.6.1.
GIT_REPLACEMENTS = ["ansible-runner==2.4.0", "python3-saml==1.16.0", "certifi"]
VENV_TOOLS = ["pip<24.1", "setuptools<70", "wheel"]
RECEPTOR_CONF_LINE = "__RECEPTOR_CONF = '/etc/receptor/receptor.conf'"
RECEPTOR_CONF_ENV = "AWX_RECEPTOR_CONFIG"


class InstallError(Exception):
    """A build step failed; the message says which and what to do."""


def source_dir(root: Path) -> Path:
    """Where the tarballs are: $S2P_AWX_SOURCE_DIR, else ../shared/vendor/awx beside the checkout."""
    configured = os.environ.get("S2P_AWX_SOURCE_DIR")
    return Path(configured) if configured else root.parent / "shared" / "vendor" / "awx"


def verify_sources(folder: Path) -> None:
    """Check that both tarballs are there and match SHA256SUMS, or say where to get them."""
    sums = folder / "SHA256SUMS"
    missing = [name for name in (AWX_TARBALL, DAB_TARBALL, "SHA256SUMS") if not (folder / name).is_file()]
    if missing:
        raise InstallError(
            f"AWX sources missing in {folder}: {', '.join(missing)}. Set S2P_AWX_SOURCE_DIR to a folder holding "
            f"{AWX_TARBALL} (`git archive` of the ansible/awx tag {AWX_VERSION}), {DAB_TARBALL} (`git archive` "
            f"of the ansible/django-ansible-base tag {DAB_VERSION}) and SHA256SUMS (sha256sum of both).")
    wanted = {}
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            wanted[parts[1].lstrip("*")] = parts[0]
    for name in (AWX_TARBALL, DAB_TARBALL):
        if name not in wanted:
            raise InstallError(f"{sums} has no checksum for {name}")
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        if digest != wanted[name]:
            raise InstallError(f"{folder / name}: sha256 {digest} does not match {sums} ({wanted[name]})")


def requirement_pins(requirements: str) -> list[str]:
    """The tag's requirements.txt as pip arguments: comments, DROPPED and options left out."""
    pins = []
    for raw in requirements.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name = line.split("[", 1)[0].split("=", 1)[0].split("<", 1)[0].split(">", 1)[0].strip().lower()
        if name not in DROPPED:
            pins.append(line)
    return pins + GIT_REPLACEMENTS


def cache_key(folder: Path, python_version: str) -> str:
    """awx-<version>-<hash>: the hash covers the checksums, pins, tools, patch and Python (not
    this file's other lines: editing a docstring must not cost a new build and migration)."""
    digest = hashlib.sha256()
    for part in ((folder / "SHA256SUMS").read_text(), "\n".join(GIT_REPLACEMENTS + VENV_TOOLS + sorted(DROPPED)),
                 inspect.getsource(patch_source), RECEPTOR_CONF_ENV, python_version):
        digest.update(part.encode() + b"\0")
    return f"awx-{AWX_VERSION}-{digest.hexdigest()[:12]}"


def find_python() -> tuple[str, str]:
    """(path, version line) of the Python 3.11 to build the venv with (AWX 24 supports 3.11):
    the system's, whichever Python (a venv's) runs the lab, so that the cache key stays put."""
    for candidate in ("/usr/bin/python3.11", shutil.which("python3.11"), sys.executable):
        if not candidate or not Path(candidate).exists():
            continue
        proc = subprocess.run([candidate, "-c", "import sys; print(sys.version.split()[0], sys.base_prefix)"],
                              capture_output=True, text=True, check=False)
        if proc.returncode == 0 and proc.stdout.startswith("3.11."):
            return candidate, proc.stdout.strip()
    raise InstallError("AWX 24 needs Python 3.11: no python3.11 found (/usr/bin/python3.11, PATH)")


def patch_source(src: Path) -> None:
    """The three changes AWX needs outside its container image:
    1. a VERSION file (no .git here, so setuptools_scm cannot compute the version);
    2. awx/devonly.py moved away (its presence selects development mode, which imports the
       debug toolbar and drf_yasg that production requirements do not have);
    3. the receptor config path read from $AWX_RECEPTOR_CONFIG (hard-coded to /etc/receptor)."""
    (src / "VERSION").write_text(AWX_VERSION + "\n")
    devonly = src / "awx" / "devonly.py"
    if devonly.exists():
        devonly.rename(devonly.with_suffix(".py.disabled"))
    receptor = src / "awx" / "main" / "tasks" / "receptor.py"
    text = receptor.read_text()
    if RECEPTOR_CONF_LINE not in text:
        raise InstallError(f"{receptor}: the line {RECEPTOR_CONF_LINE!r} is not there (another AWX version?)")
    receptor.write_text(text.replace(
        RECEPTOR_CONF_LINE,
        f"__RECEPTOR_CONF = os.environ.get('{RECEPTOR_CONF_ENV}', '/etc/receptor/receptor.conf')"))


def _pip(venv: Path, args: list[str], log: Path, env: dict | None = None) -> None:
    argv = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *args]
    with open(log, "a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                              check=False)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise InstallError(f"pip install failed (exit {proc.returncode}); last lines of {log}:\n{tail}")


def build(folder: Path, cache: Path, log: Path) -> tuple[Path, float | None]:
    """The built AWX (cache/<key>, holding src/ and venv/): reused when complete, else built.
    Returns (its folder, build seconds or None when reused)."""
    verify_sources(folder)
    python, version = find_python()
    target = cache / cache_key(folder, version)
    if (target / ".complete").exists():
        return target, None
    started = time.monotonic()
    print(f"lab: awx: building AWX {AWX_VERSION} and its virtualenv in {target} (a few minutes, once)", flush=True)
    shutil.rmtree(target, ignore_errors=True)
    src, venv = target / "src", target / "venv"
    src.mkdir(parents=True)
    with tarfile.open(folder / AWX_TARBALL) as archive:
        archive.extractall(src, filter="tar")
    _flatten(src)
    dab = target / "dab"
    dab.mkdir()
    with tarfile.open(folder / DAB_TARBALL) as archive:
        archive.extractall(dab, filter="tar")
    _flatten(dab)
    patch_source(src)
    log.write_text("")
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    _pip(venv, VENV_TOOLS, log)
    pins = requirement_pins((src / "requirements" / "requirements.txt").read_text())
    _pip(venv, pins, log)
    _pip(venv, ["--no-deps", str(dab)], log, env={"SETUPTOOLS_SCM_PRETEND_VERSION": DAB_VERSION})
    _pip(venv, ["--no-deps", "--no-build-isolation", "-e", str(src)], log)
    (target / ".complete").write_text(f"{time.monotonic() - started:.0f}s\n")
    return target, time.monotonic() - started


def _flatten(folder: Path) -> None:
    """A `git archive --prefix=name/` tarball unpacks into one folder: move its content up."""
    entries = list(folder.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not (folder / "setup.cfg").exists():
        inner = entries[0]
        for item in inner.iterdir():
            item.rename(folder / item.name)
        inner.rmdir()
