"""The fenced blocks of the repository's Markdown, with the mark that says whether a test runs
them. A block is marked by an HTML comment on the line before its fence (invisible once
rendered):

    <!-- runnable -->                         a shell block: tests/integration/test_docs_commands.py
                                              runs its commands, in order, on the lab
    <!-- runnable: append to s2p_projects --> a YAML block: the test adds it to the model first
    <!-- not run: <why> -->                   shown, not run (the reason is required)

Every shell block must carry one of them (tests/unit/tooling/test_doc_blocks.py), so a command
added to the docs is either tested or says why not. Only the standard library."""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELL = {"sh", "bash", "shell", "console"}
FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.S | re.M)
MARK = re.compile(r"<!--\s*(?P<kind>runnable|not run)\s*(?::\s*(?P<note>.*?))?\s*-->\s*$")
HEADING = re.compile(r"^#+\s+(.*)$", re.M)


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    body: str
    mark: str | None  # "runnable", "not run" or None
    note: str  # the text after the mark's colon
    section: str  # the heading above the block

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def commands(self) -> list[str]:
        """The block's commands: continuation lines joined, comments and blank lines dropped."""
        out, pending = [], ""
        for raw in self.body.splitlines():
            line = pending + raw.strip()
            pending = ""
            if line.endswith("\\"):
                pending = line[:-1].rstrip() + " "
                continue
            words = shlex.split(line, comments=True)
            if words:
                out.append(line)
        return out


def blocks(path: Path) -> list[Block]:
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mark = MARK.search(before)
        headings = HEADING.findall(text[:match.start()])
        found.append(Block(path=path, line=text.count("\n", 0, match.start()) + 1, lang=match.group("lang"),
                           body=match.group("body"), mark=mark.group("kind") if mark else None,
                           note=(mark.group("note") or "") if mark else "",
                           section=headings[-1] if headings else ""))
    return found


def documents() -> list[Path]:
    """The Markdown files git tracks (README, docs, roles' READMEs...)."""
    listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / name for name in listed.stdout.split()]
