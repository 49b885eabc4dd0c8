"""The inputs of an execution environment build (lab/ee_build.py): the collection tarball, the
build host's pip settings, the definition resolved into a work folder, and the hash of it all.

The hash covers what decides the image: execution-environment.yml, requirements.txt (as built,
after any requirement is left out), bindep.txt, the content of the collection tarball (not its
timestamps) and the base image; an image labelled with the same hash needs no new build.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
from pathlib import Path

import yaml
from common import ROOT, LabError

DEFINITION = ROOT / "execution-environment.yml"
# Where the definition's additional_build_files expect the tarball and the pip settings.
TARBALL = ROOT / ".build" / "ee" / "esa-s2p.tar.gz"
PIP_DIR = ROOT / ".build" / "ee" / "pip"
PIP_DIR_IN_BUILD = "/etc/s2p-ee-build/pip"  # execution-environment.yml copies PIP_DIR there
BIN = Path(sys.executable).parent


def collection_tarball(dest: Path = TARBALL, without: tuple[str, ...] = ()) -> Path:
    """Build the collection into `dest`; an unchanged content keeps the old file (and with it
    Docker's layer cache of the stages that copy it). `without`: requirements left out of the
    collection's own requirements.txt too, which ansible-builder's introspection reads."""
    dist = dest.parent / "dist"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(dist, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tree:
        source = _tree_without(Path(tree), without) if without else ROOT
        proc = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path",
                               str(dist), str(source)], capture_output=True, text=True, check=False)
    built = sorted(dist.glob("esa-s2p-*.tar.gz"))
    if proc.returncode != 0 or len(built) != 1:
        raise LabError(f"ansible-galaxy collection build failed:\n{proc.stdout}{proc.stderr}")
    if not dest.exists() or tarball_digest(dest) != tarball_digest(built[0]):
        shutil.copy(built[0], dest)
    shutil.rmtree(dist)
    return dest


def _tree_without(tree: Path, without: tuple[str, ...]) -> Path:
    """A copy of the checkout's files (tracked or not ignored) whose requirements.txt lacks `without`."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source, target = ROOT / name, tree / name
        if source.is_symlink() or source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    (tree / "requirements.txt").write_text(filtered_requirements(without))
    return tree


def filtered_requirements(without: tuple[str, ...]) -> str:
    """requirements.txt without the requirements named in `without` (each must be there)."""
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    names = {_requirement_name(line) for line in lines}
    missing = sorted({n.lower() for n in without} - names)
    if missing:
        raise LabError(f"{', '.join(missing)}: not in requirements.txt, cannot leave it out")
    return "\n".join(line for line in lines if _requirement_name(line) not in {n.lower() for n in without}) + "\n"


def tarball_digest(path: Path) -> str:
    """sha256 of the members' names, modes and contents: two builds of the same tree are equal
    although ansible-galaxy stamps every member with the time of the build."""
    digest = hashlib.sha256()
    with tarfile.open(path) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            digest.update(f"{member.name}\0{member.type!r}\0{member.mode}\0{member.linkname}\0".encode())
            if member.isfile():
                digest.update(tar.extractfile(member).read())
    return digest.hexdigest()


# --- pip settings of the build host ------------------------------------------------------------
KEPT_KEYS = ("index-url", "extra-index-url", "trusted-host", "timeout", "default-timeout")


def pip_settings() -> dict[str, str]:
    """The host pip's global settings as `pip config list` shows them, PIP_* variables winning."""
    proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"pip config list failed: {proc.stderr.strip()}")
    found: dict[str, dict[str, str]] = {"global": {}, ":env:": {}}
    for line in proc.stdout.splitlines():
        name, _eq, value = line.partition("=")
        section, _dot, key = name.rpartition(".")
        if section in found and value:
            found[section][key] = value.strip().strip("'\"")
    return {**found["global"], **found[":env:"]}


def write_pip_dir(settings: dict[str, str]) -> list[str]:
    """PIP_DIR/pip.conf (and the CA bundle pip trusts) for pip inside the build; returns the
    settings left out (local paths the build cannot see)."""
    shutil.rmtree(PIP_DIR, ignore_errors=True)
    PIP_DIR.mkdir(parents=True)
    lines, left_out = ["[global]"], []
    for key, value in sorted(settings.items()):
        if key == "cert":
            shutil.copy(value, PIP_DIR / "ca-bundle.crt")
            lines.append(f"cert = {PIP_DIR_IN_BUILD}/ca-bundle.crt")
        elif key in ("index-url", "extra-index-url"):
            urls = [url for url in value.split() if urllib.parse.urlsplit(url).scheme in ("http", "https")]
            left_out += [f"{key} {url}" for url in value.split() if url not in urls]
            for url in urls:
                if urllib.parse.urlsplit(url).password or urllib.parse.urlsplit(url).username:
                    raise LabError(f"pip's {key} carries credentials, which would stay in a layer of the image; "
                                   "give pip its credentials through a netrc or keyring instead")
            if urls:
                lines.append(f"{key} = {' '.join(urls)}")
        elif key in KEPT_KEYS:
            lines.append(f"{key} = {value}")
        else:
            left_out.append(key)
    (PIP_DIR / "pip.conf").write_text("\n".join(lines) + "\n")
    return left_out


# --- the definition, resolved -----------------------------------------------------------------
def resolve_definition(work: Path, tarball: Path, without: tuple[str, ...] = ()) -> Path:
    """execution-environment.yml in `work`, with its files beside it or by absolute path: the
    collection from `tarball`, requirements.txt without the requirements named in `without`."""
    definition = yaml.safe_load(DEFINITION.read_text())
    deps = definition["dependencies"]
    if deps["python"] != "requirements.txt":
        raise LabError(f"{DEFINITION.name}: dependencies.python is {deps['python']}, lab/ee_inputs.py expects "
                       "requirements.txt (the collection's own)")
    work.mkdir(parents=True, exist_ok=True)
    (work / "requirements.txt").write_text(filtered_requirements(without))
    shutil.copy(ROOT / deps["system"], work / "bindep.txt")
    deps["system"] = "bindep.txt"
    for item in definition["additional_build_files"]:
        item["src"] = str(tarball if item["dest"] == "collections" else ROOT / item["src"])
    path = work / "execution-environment.yml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False))
    return path


def _requirement_name(line: str) -> str:
    text = line.split("#", 1)[0].strip()
    for stop in "<>=!~[; ":
        text = text.split(stop, 1)[0]
    return text.lower().replace("_", "-")


def inputs_hash(resolved: Path, tarball: Path, base_image: str) -> str:
    digest = hashlib.sha256(DEFINITION.read_bytes())
    for name in ("requirements.txt", "bindep.txt"):
        digest.update((resolved.parent / name).read_bytes())
    digest.update(tarball_digest(tarball).encode())
    digest.update(base_image.encode())
    return digest.hexdigest()[:16]


def collection_version() -> str:
    return str(yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"])
