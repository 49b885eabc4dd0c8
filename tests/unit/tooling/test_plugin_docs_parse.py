"""Every plugin's DOCUMENTATION, EXAMPLES and RETURN is valid YAML: a ':' in prose once broke
swarm_stack's RETURN, which only ansible-doc and sanity (minutes later) would have shown."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
PLUGINS = sorted(p for p in (ROOT / "plugins").glob("*/*.py") if p.name != "__init__.py")


def doc_blocks(path: Path) -> dict[str, str]:
    blocks = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                    blocks[target.id] = node.value.value
    return blocks


@pytest.mark.parametrize("path", PLUGINS, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_blocks_are_yaml(path):
    for name, text in doc_blocks(path).items():
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as exc:
            pytest.fail(f"{path.relative_to(ROOT)} {name}: {exc}")


def test_the_modules_have_their_blocks():
    assert set(doc_blocks(ROOT / "plugins" / "modules" / "swarm_stack.py")) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
