"""Print the path of a Python X.Y interpreter for a `make compat` virtualenv.

An ansible-core release needs a newer controller Python than Debian's (2.20 needs >= 3.12,
Debian 12 has 3.11). The machine image has pyenv with Python 3.8 to 3.13: its newest X.Y.z
build is taken (`$(pyenv root)/versions/X.Y.z/bin/python`, PYENV_ROOT or ~/.pyenv), else a
`pythonX.Y` on PATH that is not a pyenv shim (a shim of a version pyenv has not selected
fails when run). Exit status 1, with the way to get one, when there is none.

Only the standard library: it runs before any virtualenv exists.
Usage: python3 tests/compat/find_python.py X.Y
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path


def pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def find(version: str, root: Path, path: str) -> str | None:
    """The newest `root`/versions/<version>.<patch>/bin/python, else python<version> on `path`
    outside pyenv's shims; None if neither exists."""
    builds = []
    for python in root.glob(f"versions/{version}.*/bin/python"):
        match = re.fullmatch(re.escape(version) + r"\.(\d+)", python.parents[1].name)
        if match and os.access(python, os.X_OK):  # 3.12.1, not 3.12-dev or 3.12.1t
            builds.append((int(match.group(1)), str(python)))
    if builds:
        return max(builds)[1]
    dirs = [d for d in path.split(os.pathsep) if d and Path(d).resolve() != (root / "shims").resolve()]
    return shutil.which(f"python{version}", path=os.pathsep.join(dirs))


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not re.fullmatch(r"\d+\.\d+", argv[0]):
        print("usage: find_python.py X.Y", file=sys.stderr)
        return 2
    python = find(argv[0], pyenv_root(), os.environ.get("PATH", ""))
    if python is None:
        print(f"find_python: no Python {argv[0]}: `pyenv install {argv[0]}` or install python{argv[0]}",
              file=sys.stderr)
        return 1
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
