"""Every shell block of the repository's Markdown says whether a test runs it (issue 15: a
documented command failed against the lab and no test had run it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("doc_blocks", ROOT / "tests" / "integration" / "doc_blocks.py")
doc_blocks = importlib.util.module_from_spec(_spec)
sys.modules["doc_blocks"] = doc_blocks  # dataclasses look their module up there
_spec.loader.exec_module(doc_blocks)

SHELL_BLOCKS = [b for path in doc_blocks.documents() for b in doc_blocks.blocks(path) if b.lang in doc_blocks.SHELL]


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: b.where)
def test_every_shell_block_is_marked(block):
    assert block.mark, (f"{block.where}: mark the block with <!-- runnable --> (test_docs_commands.py runs it) "
                        "or <!-- not run: <why> --> on the line before its fence")
    if block.mark == "not run":
        assert block.note, f"{block.where}: <!-- not run --> needs its reason: <!-- not run: <why> -->"


def test_runnable_blocks_exist_and_are_shell_or_a_model_addition():
    runnable = [b for path in doc_blocks.documents() for b in doc_blocks.blocks(path) if b.mark == "runnable"]
    assert any(b.path.name == "onboarding.md" for b in runnable)
    for block in runnable:
        assert block.lang in doc_blocks.SHELL or (block.lang == "yaml" and block.note == "append to s2p_projects"), \
            f"{block.where}: a runnable block is a shell block, or a yaml block marked 'append to s2p_projects'"


def test_parser_reads_marks_sections_and_continuations(tmp_path):
    sample = tmp_path / "x.md"
    sample.write_text("# Top\n## Step\n<!-- runnable -->\n```sh\nmake a \\\n  b   # why\n# only a comment\n\n"
                      "make c\n```\n\n<!-- not run: needs production -->\n```sh\nrm -rf /\n```\n"
                      "```yaml\nx: 1\n```\n")
    first, second, third = doc_blocks.blocks(sample)
    assert (first.mark, first.section, first.line) == ("runnable", "Step", 4)
    assert first.commands() == ["make a b   # why", "make c"]
    assert (second.mark, second.note, third.mark, third.lang) == ("not run", "needs production", None, "yaml")


def test_every_block_names_its_language():
    """A shell block without its language would escape the mark check: output is `text`."""
    unnamed = [b.where for path in doc_blocks.documents() for b in doc_blocks.blocks(path) if not b.lang]
    assert not unnamed, ("name the language after the fence (sh for commands, text for output, yaml...): "
                         + ", ".join(unnamed))
