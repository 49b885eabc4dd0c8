"""The lab AWX's helper scripts in lab/awx/ (not a package: the lab runs them as scripts) loaded
as modules for the unit tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

LAB_AWX = Path(__file__).resolve().parents[3] / "lab" / "awx"


def load(name: str):
    if name in sys.modules:
        return sys.modules[name]
    if str(LAB_AWX) not in sys.path:
        sys.path.insert(0, str(LAB_AWX))  # receptor_standin imports receptor_protocol by name
    spec = importlib.util.spec_from_file_location(name, LAB_AWX / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
