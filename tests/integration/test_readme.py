"""The README's Python code runs as written.

Every ```python block of README.md is executed, each in a fresh namespace and in a scratch folder holding
the checkout's ``configs/``. A block is left out only when the line before its fence says why
(``<!-- not run: REASON -->``), so a skipped block is visible in the README itself.
"""
import re
import shutil
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```python\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
NOT_RUN = re.compile(r"<!-- not run: (?P<reason>[^>]+?) -->\s*$")


def blocks(text: str):
    """(line number, code, reason it is not run or None) for each Python block."""
    out = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = NOT_RUN.search(before)
        out.append((line, textwrap.dedent(match["body"]), skip["reason"] if skip else None))
    return out


README_BLOCKS = blocks((ROOT / "README.md").read_text())


def test_the_extractor_finds_blocks_and_their_markers():
    text = "a\n```python\nx = 1\n```\n<!-- not run: needs a cluster -->\n  ```python\n  y = 2\n  ```\n"
    assert blocks(text) == [(2, "x = 1\n", None), (6, "y = 2\n", "needs a cluster")]
    assert len(README_BLOCKS) >= 3
    assert sum(reason is None for _, _, reason in README_BLOCKS) >= 3  # most blocks run


@pytest.mark.slow
@pytest.mark.parametrize("line, code, reason", README_BLOCKS, ids=[f"line-{b[0]}" for b in README_BLOCKS])
def test_readme_block_runs(line, code, reason, tmp_path, monkeypatch):
    if reason:
        pytest.skip(f"README line {line}: {reason}")
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
