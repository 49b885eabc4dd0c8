"""Every relative link in the repository's Markdown leads to a file of the repository: a reader
of a clone needs nothing outside it (README.md once linked ../shared/DESIGN.md)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def markdown_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / line for line in listed.stdout.split()]


def relative_links(path: Path) -> list[str]:
    return [t for t in LINK.findall(path.read_text()) if not re.match(r"^([a-z]+:|#|mailto:)", t)]


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_stay_in_the_repository(path):
    for target in relative_links(path):
        resolved = (path.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{path.relative_to(ROOT)} links {target}, outside the repository"
        assert resolved.exists(), f"{path.relative_to(ROOT)} links {target}, which does not exist"


def test_the_check_finds_links(tmp_path):
    sample = tmp_path / "x.md"
    sample.write_text("see [design](../shared/DESIGN.md), [site](https://example.org) and [top](#top)")
    assert relative_links(sample) == ["../shared/DESIGN.md"]
